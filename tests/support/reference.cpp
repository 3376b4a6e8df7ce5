#include "support/reference.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <limits>
#include <sstream>
#include <stdexcept>

#include <boost/math/special_functions/beta.hpp>

namespace betamix::test {

double ref_beta_log_pdf(double x, double a, double b) {
  return (a - 1.0) * std::log(x) + (b - 1.0) * std::log1p(-x) - std::lgamma(a) - std::lgamma(b) +
         std::lgamma(a + b);
}

RefStats ref_stats(const MixtureParams& p, const std::vector<double>& x, const double* w) {
  using LD = long double;
  const std::size_t k = p.k();
  std::vector<LD> n(k, 0), s(k, 0), t(k, 0), l(k), c(k);
  for (std::size_t j = 0; j < k; ++j) {
    const LD a = p.alpha[j], b = p.beta[j];
    c[j] = std::log(static_cast<LD>(p.weights[j])) - std::lgamma(a) - std::lgamma(b) +
           std::lgamma(a + b);
  }
  LD ll = 0, ll_abs = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const LD lx = std::log(static_cast<LD>(x[i])), l1x = std::log1p(-static_cast<LD>(x[i]));
    LD m = -std::numeric_limits<LD>::infinity();
    for (std::size_t j = 0; j < k; ++j) {
      l[j] = c[j] + (static_cast<LD>(p.alpha[j]) - 1) * lx + (static_cast<LD>(p.beta[j]) - 1) * l1x;
      m = std::max(m, l[j]);
    }
    LD sum = 0;
    for (std::size_t j = 0; j < k; ++j) sum += std::exp(l[j] - m);
    const LD li = m + std::log(sum);
    const LD wi = w ? w[i] : 1.0;
    ll += wi * li;
    ll_abs += wi * std::abs(li);
    for (std::size_t j = 0; j < k; ++j) {
      const LD r = wi * std::exp(l[j] - li);
      n[j] += r;
      s[j] += r * lx;
      t[j] += r * l1x;
    }
  }
  RefStats out;
  for (std::size_t j = 0; j < k; ++j) {
    out.n.push_back(static_cast<double>(n[j]));
    out.s.push_back(static_cast<double>(s[j]));
    out.t.push_back(static_cast<double>(t[j]));
  }
  out.ll = static_cast<double>(ll);
  out.ll_abs = static_cast<double>(ll_abs);
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

double ref_mixture_raw_moment(const MixtureParams& p, int m) {
  double sum = 0.0, wsum = 0.0;
  for (std::size_t j = 0; j < p.k(); ++j) {
    double e = 1.0;
    for (int r = 0; r < m; ++r) e *= (p.alpha[j] + r) / (p.alpha[j] + p.beta[j] + r);
    sum += p.weights[j] * e;
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

double ks_statistic_within(const MixtureParams& p, std::vector<double> x, double lower,
                           double upper) {
  std::sort(x.begin(), x.end());
  const double n = static_cast<double>(x.size());
  std::size_t i = 0;
  while (i < x.size() && x[i] <= lower) ++i;
  // At v = lower and v = upper, F_n(v) = (number of samples <= v) / n.
  double d = std::abs(i / n - ref_mixture_cdf(p, lower));
  for (; i < x.size() && x[i] <= upper; ++i) {
    const double f = ref_mixture_cdf(p, x[i]);
    d = std::max({d, f - i / n, (i + 1) / n - f});
  }
  return std::max(d, std::abs(i / n - ref_mixture_cdf(p, upper)));
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
  for (int j = 1; j <= 100; ++j, sign = -sign)
    q += sign * 2.0 * std::exp(-2.0 * j * j * lambda * lambda);
  return std::clamp(q, 0.0, 1.0);
}

namespace {

std::string data_path(const std::string& name) {
  return std::string(BETAMIX_TEST_DATA_DIR) + "/" + name;
}

std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  std::string cell;
  while (std::getline(ss, cell, ',')) out.push_back(cell);
  return out;
}

// strtod rather than std::stod: a fixture may hold values below the double range
// (1.5e-351), which strtod rounds to 0 and std::stod rejects.
double parse_double(const std::string& cell, const std::string& source) {
  char* end = nullptr;
  const double v = std::strtod(cell.c_str(), &end);
  if (end == cell.c_str() || *end != '\0') {
    throw std::runtime_error(source + ": not a number: '" + cell + "'");
  }
  return v;
}

}  // namespace

Table::Table(const std::string& name) {
  std::ifstream in(data_path(name));
  if (!in) throw std::runtime_error("cannot open fixture " + data_path(name));
  std::string line;
  std::getline(in, line);
  names_ = split_csv(line);
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::vector<double> row;
    for (const std::string& cell : split_csv(line)) row.push_back(parse_double(cell, name));
    if (row.size() != names_.size()) throw std::runtime_error(name + ": ragged row: " + line);
    rows_.push_back(std::move(row));
  }
}

double Table::at(std::size_t i, const std::string& column) const {
  const auto it = std::find(names_.begin(), names_.end(), column);
  if (it == names_.end()) throw std::runtime_error("fixture has no column " + column);
  return rows_.at(i)[it - names_.begin()];
}

std::vector<double> read_values(const std::string& name) {
  std::ifstream in(data_path(name));
  if (!in) throw std::runtime_error("cannot open fixture " + data_path(name));
  std::vector<double> out;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) out.push_back(parse_double(line, name));
  }
  return out;
}

void ToleranceCheck::add(const std::string& label, double got, double ref, double atol,
                         double rtol) {
  ++count_;
  const double err = std::abs(got - ref), tol = atol + rtol * std::abs(ref);
  // A NaN anywhere is the worst possible element; so is any error where the tolerance is 0.
  const bool ok = err <= tol;
  const double ratio = tol > 0.0 && !std::isnan(err) ? err / tol : (ok ? 0.0 : INFINITY);
  if (!ok) ++failed_;
  if (ratio > worst_ratio_ || worst_ratio_ < 0.0) {
    worst_ratio_ = ratio;
    std::ostringstream os;
    os.precision(17);
    os << label << ": got " << got << ", ref " << ref << ", |err| " << err << " vs tol " << tol
       << " (atol " << atol << " + rtol " << rtol << " * |ref|)";
    worst_ = os.str();
  }
}

::testing::AssertionResult ToleranceCheck::result() const {
  if (count_ == 0) return ::testing::AssertionFailure() << "no elements were checked";
  std::ostringstream os;
  os << failed_ << " of " << count_ << " elements outside tolerance; worst (err/tol "
     << worst_ratio_ << ") " << worst_;
  // BETAMIX_TEST_VERBOSE=1 shows how much of each tolerance the passing checks use.
  if (std::getenv("BETAMIX_TEST_VERBOSE")) std::cout << "  [tolerance] " << os.str() << "\n";
  if (failed_ > 0) return ::testing::AssertionFailure() << os.str();
  return ::testing::AssertionSuccess() << os.str();
}

}  // namespace betamix::test
