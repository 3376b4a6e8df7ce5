#include "init.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "betamix/math/beta_sampler.hpp"
#include "betamix/math/philox.hpp"

namespace betamix::detail {
namespace {

constexpr double kMinShape = 0.05, kMaxShape = 1e4;

// Weighted moments of the groups given by sorted cut points: sample i is in group g when
// cuts[g-1] < x_i <= cuts[g].
MixtureParams group_moments(const double* x, const double* w, std::size_t n,
                            const std::vector<double>& cuts) {
  const int k = static_cast<int>(cuts.size()) + 1;
  std::vector<double> sw(k, 0.0), sx(k, 0.0), sxx(k, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    const int g = static_cast<int>(std::lower_bound(cuts.begin(), cuts.end(), x[i]) - cuts.begin());
    const double wi = w ? w[i] : 1.0;
    sw[g] += wi;
    sx[g] += wi * x[i];
    sxx[g] += wi * x[i] * x[i];
  }
  double total = 0.0;
  for (double v : sw) total += v;
  MixtureParams p;
  p.weights.resize(k);
  p.alpha.resize(k);
  p.beta.resize(k);
  for (int g = 0; g < k; ++g) {
    // An empty group (many equal values) starts as a broad component with a small weight.
    const double m = sw[g] > 0.0 ? sx[g] / sw[g] : (g + 0.5) / k;
    const double v = sw[g] > 0.0 ? std::max(sxx[g] / sw[g] - m * m, 0.0) : 1.0 / 12.0;
    moment_match(m, v, p.alpha[g], p.beta[g]);
    p.weights[g] = std::max(sw[g] / total, 1e-3);
  }
  return p.normalized();
}

// Cut points for k groups of about n / k samples each. The cut for group boundary g is the
// sample v at position n g / k in sorted order, the lower group taking x <= v; where v is
// repeated (rounded or tied data), the run of v's goes to whichever side leaves the lower
// group's count nearer n g / k: cutting just below the run is cutting at the largest sample
// below v. (Two values 0.3 and 0.7, 500 each: the cut is 0.3, not 0.7, which would put every
// sample into the first group.)
std::vector<double> quantile_cuts(const double* x, std::size_t n, int k) {
  std::vector<double> sorted(x, x + n);
  std::vector<double> cuts;
  for (int g = 1; g < k; ++g) {
    const double target = double(n) * g / k;
    const std::size_t pos = std::min(n - 1, static_cast<std::size_t>(target));
    std::nth_element(sorted.begin(), sorted.begin() + pos, sorted.end());
    const double v = sorted[pos];
    std::size_t below = 0, through = 0;  // samples < v and <= v
    double below_max = -1.0;
    for (std::size_t i = 0; i < n; ++i) {
      if (x[i] < v) {
        ++below;
        below_max = std::max(below_max, x[i]);
      }
      if (x[i] <= v) ++through;
    }
    const bool under =
        below > 0 && std::abs(double(below) - target) < std::abs(double(through) - target);
    cuts.push_back(under ? below_max : v);
  }
  std::sort(cuts.begin(), cuts.end());
  return cuts;
}

}  // namespace

void moment_match(double m, double v, double& a, double& b) {
  m = std::clamp(m, 1e-6, 1.0 - 1e-6);
  // The concentration a + b, at most what keeps the larger shape within kMaxShape, so that a
  // group too narrow for it (or of one repeated value, v = 0) keeps its mean.
  const double most = kMaxShape / std::max(m, 1.0 - m);
  double common = v > 0.0 ? std::min(m * (1.0 - m) / v - 1.0, most) : most;
  if (!(common > 0.0)) common = 1.0;  // more spread than any Beta with this mean allows
  a = std::clamp(m * common, kMinShape, kMaxShape);
  b = std::clamp((1.0 - m) * common, kMinShape, kMaxShape);
}

MixtureParams quantile_init(const double* x, const double* w, std::size_t n, int k) {
  return group_moments(x, w, n, quantile_cuts(x, n, k));
}

MixtureParams kmeans_init(const double* x, const double* w, std::size_t n, int k) {
  const MixtureParams start = quantile_init(x, w, n, k);
  std::vector<double> centre(k);
  for (int g = 0; g < k; ++g) centre[g] = start.alpha[g] / (start.alpha[g] + start.beta[g]);
  std::vector<double> cuts(k - 1), sum(k), cnt(k);
  for (int iter = 0; iter < 100; ++iter) {
    std::sort(centre.begin(), centre.end());
    for (int g = 0; g + 1 < k; ++g) cuts[g] = 0.5 * (centre[g] + centre[g + 1]);
    std::fill(sum.begin(), sum.end(), 0.0);
    std::fill(cnt.begin(), cnt.end(), 0.0);
    for (std::size_t i = 0; i < n; ++i) {
      const auto g = std::lower_bound(cuts.begin(), cuts.end(), x[i]) - cuts.begin();
      const double wi = w ? w[i] : 1.0;
      sum[g] += wi * x[i];
      cnt[g] += wi;
    }
    double shift = 0.0;
    for (int g = 0; g < k; ++g) {
      if (cnt[g] <= 0.0) continue;  // an empty cluster keeps its centre
      const double c = sum[g] / cnt[g];
      shift = std::max(shift, std::abs(c - centre[g]));
      centre[g] = c;
    }
    if (shift < 1e-10) break;
  }
  return group_moments(x, w, n, cuts);
}

MixtureParams random_init(int k, std::uint64_t seed, std::uint64_t stream) {
  math::PhiloxStream rng(seed, stream);
  MixtureParams p;
  for (int j = 0; j < k; ++j) {
    p.weights.push_back(-std::log(math::uniform_open<double>(rng)));
    p.alpha.push_back(std::exp(-1.0 + 3.0 * math::uniform_open<double>(rng)));
    p.beta.push_back(std::exp(-1.0 + 3.0 * math::uniform_open<double>(rng)));
  }
  return p.normalized();
}

}  // namespace betamix::detail
