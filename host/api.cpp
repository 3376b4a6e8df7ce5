// Evaluating a fitted mixture on the host: densities, log-likelihood and posteriors, through
// the same per-sample math as the passes (betamix/math/beta_math.hpp).

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "backend.hpp"
#include "betamix/betamix.hpp"
#include "betamix/math/beta_math.hpp"
#include "samples.hpp"

namespace betamix {
namespace {

// Applies fn(i, log p(x_i)) to every sample in (0,1).
template <class Fn>
void for_each_log_density(const MixtureParams& params, const std::vector<double>& x, Fn&& fn) {
  params.validate();
  const MixtureParams p = params.normalized();
  const int k = static_cast<int>(p.k());
  detail::PassConstants c;
  c.resize(1, k);
  c.set(0, p);
  const math::ComponentView<double> comp{c.am1.data(), c.bm1.data(), c.c.data()};
  std::vector<double> r(k);
  for (std::size_t i = 0; i < x.size(); ++i) {
    fn(i, math::mixture_responsibilities(std::log(x[i]), std::log1p(-x[i]), comp, k, r.data()));
  }
}

// Samples of exactly 0 or 1 are errors here (there is no boundary option), as are NaN, inf and
// values outside [0, 1]; the samples are returned as they are.
const std::vector<double>& checked(const std::vector<double>& x) {
  detail::validate_samples(x.data(), x.size(), BoundaryPolicy::Reject, 0.0, "data",
                           detail::index_position);
  return x;
}

}  // namespace

double log_likelihood(const MixtureParams& params, const std::vector<double>& x) {
  double ll = 0.0;
  for_each_log_density(params, checked(x), [&](std::size_t, double lp) { ll += lp; });
  return ll;
}

std::vector<double> pdf(const MixtureParams& params, const std::vector<double>& x) {
  std::vector<double> inside, out(x.size(), 0.0);
  std::vector<std::size_t> where;
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (x[i] > 0.0 && x[i] < 1.0) {
      inside.push_back(x[i]);
      where.push_back(i);
    }
  }
  for_each_log_density(params, inside,
                       [&](std::size_t i, double lp) { out[where[i]] = std::exp(lp); });
  return out;
}

namespace {

// The posteriors of every sample on `device` (Backend::posteriors): n x K and the best component.
void posteriors(const MixtureParams& params, const std::vector<double>& x, Device device,
                std::vector<double>& post, std::vector<int>& best) {
  params.validate();
  const std::vector<double>& data = checked(x);
  detail::PassConstants c;
  c.resize(1, static_cast<int>(params.k()));
  c.set(0, params.normalized());
  const std::unique_ptr<detail::Backend> backend = detail::load_backend(
      device, 0, nullptr, static_cast<int>(params.k()), data.data(), nullptr, data.size());
  post.resize(data.size() * params.k());
  best.resize(data.size());
  backend->posteriors(c, post.data(), best.data());
}

}  // namespace

std::vector<double> responsibilities(const MixtureParams& params, const std::vector<double>& x,
                                     Device device) {
  std::vector<double> post;
  std::vector<int> best;
  posteriors(params, x, device, post, best);
  return post;
}

std::vector<int> predict(const MixtureParams& params, const std::vector<double>& x, Device device) {
  std::vector<double> post;
  std::vector<int> best;
  posteriors(params, x, device, post, best);
  return best;
}

bool cuda_available() { return detail::cuda_device_visible(); }

}  // namespace betamix
