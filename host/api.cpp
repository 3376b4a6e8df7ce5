// Evaluating a fitted mixture on the host: densities, log-likelihood and posteriors, through
// the same per-sample math as the passes (betamix/math/beta_math.hpp).

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "backend.hpp"
#include "betamix/betamix.hpp"
#include "betamix/math/beta_math.hpp"
#include "host_memory.hpp"
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
    if (std::isnan(x[i])) out[i] = x[i];  // no density, rather than 0
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

// Posteriors of at most this many values (samples x K) at a time in predict().
constexpr std::size_t kPredictValues = std::size_t{1} << 22;

// Resizes `v` to `count` values, or throws a DeviceError that says how much `what` needed.
template <class T>
void allocate(std::vector<T>& v, std::size_t count, const char* what) {
  try {
    v.resize(count);
  } catch (const std::exception&) {  // bad_alloc, or length_error beyond max_size()
    v = {};
    throw DeviceError(std::string(what) + " need " +
                      detail::host_allocation_failure(static_cast<double>(sizeof(T)) *
                                                      static_cast<double>(count)));
  }
}

detail::PassConstants posterior_constants(const MixtureParams& params) {
  params.validate();
  detail::PassConstants c;
  c.resize(1, static_cast<int>(params.k()));
  c.set(0, params.normalized());
  return c;
}

}  // namespace

std::vector<double> responsibilities(const MixtureParams& params, const std::vector<double>& x,
                                     Device device) {
  const detail::PassConstants c = posterior_constants(params);
  const std::vector<double>& data = checked(x);
  const std::unique_ptr<detail::Backend> backend =
      detail::load_backend(device, 0, nullptr, c.k, data.data(), nullptr, data.size());
  std::vector<double> post;
  std::vector<int> best;
  const double values = static_cast<double>(data.size()) * c.k;
  allocate(post, values < 0x1p63 ? data.size() * c.k : SIZE_MAX, "the posteriors");
  allocate(best, data.size(), "the most likely components");
  backend->posteriors(c, post.data(), best.data());
  return post;
}

std::vector<int> predict(const MixtureParams& params, const std::vector<double>& x, Device device) {
  const detail::PassConstants c = posterior_constants(params);
  const std::vector<double>& data = checked(x);
  std::vector<int> best;
  allocate(best, data.size(), "the most likely components");
  // Only the labels are kept: the posteriors are computed a piece at a time (the same values:
  // every sample's are its own).
  const std::size_t chunk = std::max<std::size_t>(1, kPredictValues / c.k);
  std::unique_ptr<detail::Backend> backend = detail::make_backend(device, 0, nullptr, c.k);
  std::vector<double> post;
  for (std::size_t first = 0; first < data.size(); first += chunk) {
    const std::size_t len = std::min(chunk, data.size() - first);
    detail::load_or_fall_back(backend, device, 0, nullptr, data.data() + first, nullptr, len);
    allocate(post, len * c.k, "the posteriors");
    backend->posteriors(c, post.data(), best.data() + first);
  }
  return best;
}

bool cuda_available() { return detail::cuda_device_visible(); }

}  // namespace betamix
