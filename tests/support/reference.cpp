#include "support/reference.hpp"

#include <algorithm>
#include <cmath>

#include <boost/math/special_functions/beta.hpp>

namespace betamix::test {

double ref_beta_log_pdf(double x, double a, double b) {
  return (a - 1.0) * std::log(x) + (b - 1.0) * std::log1p(-x) - std::lgamma(a) - std::lgamma(b) +
         std::lgamma(a + b);
}

RefStats ref_stats(const MixtureParams& p, const std::vector<double>& x, const double* w) {
  const std::size_t k = p.k();
  std::vector<long double> n(k, 0), s(k, 0), t(k, 0), l(k);
  long double ll = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    long double m = -INFINITY;
    for (std::size_t j = 0; j < k; ++j) {
      l[j] = std::log(p.weights[j]) + ref_beta_log_pdf(x[i], p.alpha[j], p.beta[j]);
      m = std::max(m, l[j]);
    }
    long double sum = 0;
    for (std::size_t j = 0; j < k; ++j) sum += std::exp(l[j] - m);
    const long double li = m + std::log(sum);
    const long double wi = w ? w[i] : 1.0;
    ll += wi * li;
    for (std::size_t j = 0; j < k; ++j) {
      const long double r = wi * std::exp(l[j] - li);
      n[j] += r;
      s[j] += r * std::log(static_cast<long double>(x[i]));
      t[j] += r * std::log1p(-static_cast<long double>(x[i]));
    }
  }
  RefStats out;
  for (std::size_t j = 0; j < k; ++j) {
    out.n.push_back(static_cast<double>(n[j]));
    out.s.push_back(static_cast<double>(s[j]));
    out.t.push_back(static_cast<double>(t[j]));
  }
  out.ll = static_cast<double>(ll);
  return out;
}

double ref_mixture_cdf(const MixtureParams& p, double x) {
  double sum = 0.0, wsum = 0.0;
  for (std::size_t j = 0; j < p.k(); ++j) {
    sum += p.weights[j] * boost::math::ibeta(p.alpha[j], p.beta[j], x);
    wsum += p.weights[j];
  }
  return sum / wsum;
}

double ks_statistic(const MixtureParams& p, std::vector<double> x) {
  std::sort(x.begin(), x.end());
  const double n = static_cast<double>(x.size());
  double d = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double f = ref_mixture_cdf(p, x[i]);
    d = std::max({d, f - i / n, (i + 1) / n - f});
  }
  return d;
}

double ks_two_sample(std::vector<double> a, std::vector<double> b) {
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  std::size_t i = 0, j = 0;
  double d = 0.0;
  while (i < a.size() && j < b.size()) {
    const double v = std::min(a[i], b[j]);
    while (i < a.size() && a[i] <= v) ++i;
    while (j < b.size() && b[j] <= v) ++j;
    d = std::max(d, std::abs(double(i) / a.size() - double(j) / b.size()));
  }
  return d;
}

double ks_p_value(double d, double n_eff) {
  // Q_KS(lambda) = 2 sum_{j>=1} (-1)^(j-1) exp(-2 j^2 lambda^2), with Stephens' small-sample
  // correction lambda = (sqrt(n) + 0.12 + 0.11 / sqrt(n)) D.
  const double sn = std::sqrt(n_eff);
  const double lambda = (sn + 0.12 + 0.11 / sn) * d;
  if (lambda < 0.2) return 1.0;
  double q = 0.0, sign = 1.0;
  for (int j = 1; j <= 100; ++j, sign = -sign) q += sign * 2.0 * std::exp(-2.0 * j * j * lambda * lambda);
  return std::clamp(q, 0.0, 1.0);
}

}  // namespace betamix::test
