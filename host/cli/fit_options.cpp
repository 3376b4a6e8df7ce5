#include "cli/fit_options.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <optional>
#include <sstream>
#include <string>

#include "betamix/error.hpp"
#include "cli/result_json.hpp"
#include "samples.hpp"

namespace betamix::cli {

namespace {
// The value of `text` when all of it is a finite number.
std::optional<double> finite_number(const std::string& text) {
  // Decimal only: strtod would also read hexadecimal ("0x10" as 16), which no other option
  // (-n, --seed) and no input file takes.
  if (text.empty() || text.find_first_of("xX") != std::string::npos) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || !std::isfinite(v) || errno == ERANGE) {
    return std::nullopt;
  }
  return v;
}
}  // namespace

void FitCli::add(CLI::App* app, bool with_device) {
  app->add_option("--method", method,
                  "optimiser: adam (gradient steps), em (expectation-maximisation) or squarem (EM "
                  "with squared extrapolation: never lowers the likelihood either, and needs far "
                  "fewer passes where components overlap)")
      ->check(CLI::IsMember({"adam", "em", "squarem"}))
      ->capture_default_str();
  lr_option =
      app->add_option("--lr", lr,
                      "Adam step size on log alpha, log beta and the weight logits (adam only)")
          ->check(positive_number())
          ->capture_default_str();
  app->add_option("--max-iter", max_iter,
                  "iteration limit; a fit that reaches it has status max_iterations")
      ->check(whole_number_in(0, std::numeric_limits<int>::max()))
      ->capture_default_str();
  app->add_option(
         "--tol", tol,
         "Adam stops when the mean NLL changes by less than tol * max(1, |mean NLL|) in each "
         "of the last 10 iterations and an EM step from its last point would gain less than that "
         "too; EM when its last change and the Aitken estimate of the "
         "gain still to come are below that (SQUAREM: the same, from cycle to cycle, and the gain "
         "plain EM would still make from the last cycle's start); 0 runs "
         "exactly --max-iter iterations (Adam's result is then the best point it passed)")
      ->check(non_negative_number())
      ->capture_default_str();
  app->add_option("--seed", seed, "seed of the random starts (recorded in the result)")
      ->check(whole_number())
      ->capture_default_str();
  CLI::Option* init_option =
      app->add_option("--init", init,
                      "first parameters: quantile (moment-matched Betas on K quantile groups), "
                      "kmeans (1-D k-means, then moments) or random (seeded)")
          ->check(CLI::IsMember({"quantile", "kmeans", "random"}))
          ->capture_default_str();
  app->add_option("--init-from", init_from,
                  "warm start from the parameters of an earlier result JSON (instead of --init)")
      ->excludes(init_option);
  app->add_option("--restarts", restarts,
                  "independent starts evaluated together in one pass per iteration; the first uses "
                  "--init (or --init-from), the second the other of quantile and kmeans (random "
                  "after --init random or --init-from), the others are seeded random starts")
      ->check(whole_number_in(1, kMaxRestarts))
      ->capture_default_str();
  if (with_device) add_device_option(app, device);
  add_boundary_options(app, on_boundary, eps);
  add_threads_option(app, threads);
}

void add_model_option(CLI::App* app, std::string& model) {
  app->add_option("--model", model, "result JSON written by `betamix fit`")->required();
}

void add_model_and_samples(CLI::App* app, std::string& model, std::string& file) {
  add_model_option(app, model);
  app->add_option("FILE", file,
                  "samples in (0,1): .npy, .txt, .csv, raw .f32/.f64, or - for standard input")
      ->required();
}

void add_device_option(CLI::App* app, std::string& device) {
  app->add_option("--device", device,
                  "where the pass over the data runs: auto (the GPU when one is visible), cpu or "
                  "cuda")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}))
      ->capture_default_str();
}

void add_threads_option(CLI::App* app, int& threads) {
  app->add_option("--threads", threads,
                  "CPU threads (0: all cores; at most " + std::to_string(kMaxThreads) + ")")
      ->check(whole_number_in(0, kMaxThreads))
      ->capture_default_str();
}

void add_boundary_options(CLI::App* app, std::string& on_boundary, double& eps) {
  app->add_option("--on-boundary", on_boundary,
                  "values of exactly 0 or 1: reject (an error) or clamp (moved to [eps, 1-eps] and "
                  "counted in n_clamped)")
      ->check(CLI::IsMember({"reject", "clamp"}))
      ->capture_default_str();
  // Checked whatever --on-boundary says, by the library's own check for clamping: an --eps
  // that clamp would refuse is a mistake anyway.
  const CLI::Validator eps_range(
      [](std::string& text) -> std::string {
        const std::optional<double> v = finite_number(text);
        if (!v) return "must be a number, got \"" + text + "\"";
        try {
          detail::check_boundary_eps(BoundaryPolicy::Clamp, *v);
        } catch (const InputError& e) {
          return e.what();
        }
        return {};
      },
      "[2^-53, 0.5)");
  app->add_option("--eps", eps,
                  "distance from 0 and 1 that --on-boundary clamp moves values to, in [2^-53, 0.5)")
      ->check(eps_range)
      ->capture_default_str();
}

std::vector<double> parse_number_list(const std::string& option, const std::string& text) {
  std::vector<double> values;
  std::size_t begin = 0;
  for (;;) {
    const std::size_t comma = std::min(text.find(',', begin), text.size());
    std::string item = text.substr(begin, comma - begin);
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    const std::optional<double> v = finite_number(item);
    if (!v) {
      errno = 0;
      char* end = nullptr;
      const double parsed = item.empty() ? 0.0 : std::strtod(item.c_str(), &end);
      const bool range = !item.empty() && end == item.c_str() + item.size() && errno == ERANGE;
      std::string what = "\"" + item + "\" is not a finite decimal number";
      if (item.empty()) what = "value " + std::to_string(values.size() + 1) + " is empty";
      if (range) {
        what = "\"" + item + "\" is " +
               (std::abs(parsed) > 1.0 ? "beyond the range of a double (about 1.8e308)"
                                       : "below the smallest normal double (2.2e-308)");
      }
      throw InputError(option + " \"" + text + "\": " + what +
                       (range ? "" : " (expected numbers separated by commas, e.g. 0.3,0.7)"));
    }
    values.push_back(*v);
    if (comma == text.size()) return values;
    begin = comma + 1;
  }
}

CLI::Validator positive_number() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        const std::optional<double> v = finite_number(text);
        if (v && *v > 0.0) return {};
        return "must be a number above 0, got \"" + text + "\"";
      },
      "NUMBER > 0");
}

CLI::Validator non_negative_number() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        const std::optional<double> v = finite_number(text);
        if (v && *v >= 0.0) return {};
        return "must be a number, 0 or more, got \"" + text + "\"";
      },
      "NUMBER >= 0");
}

CLI::Validator number_above(double bound) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", bound);
  const std::string b = text;
  return CLI::Validator(
      [bound, b](std::string& value) -> std::string {
        const std::optional<double> v = finite_number(value);
        if (v && *v > bound) return {};
        return "must be a number above " + b + ", got \"" + value + "\"";
      },
      "NUMBER > " + b);
}

CLI::Validator whole_number_in(long long lo, long long hi) {
  const std::string range = std::to_string(lo) + " to " + std::to_string(hi);
  return CLI::Validator(
      [lo, hi, range](std::string& text) -> std::string {
        if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos) {
          errno = 0;
          const unsigned long long v = std::strtoull(text.c_str(), nullptr, 10);
          if (errno != ERANGE && v >= static_cast<unsigned long long>(lo) &&
              v <= static_cast<unsigned long long>(hi)) {
            return {};
          }
        }
        return "must be a whole number from " + range + ", got \"" + text + "\"";
      },
      "INT in [" + range + "]");
}

CLI::Validator whole_number() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        const auto fail = [&] {
          return "must be a whole number from 0 to 18446744073709551615, got \"" + text + "\"";
        };
        if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) {
          return fail();
        }
        errno = 0;
        static_cast<void>(std::strtoull(text.c_str(), nullptr, 10));
        return errno == ERANGE ? fail() : std::string();
      },
      "UINT");
}

BoundaryPolicy parse_boundary(const std::string& name) {
  if (name == "clamp") return BoundaryPolicy::Clamp;
  if (name == "reject") return BoundaryPolicy::Reject;
  throw InputError("unknown boundary policy \"" + name + "\" (expected reject or clamp)");
}

void InputCli::add(CLI::App* app, bool with_weights, const std::string& weights_effect) {
  app->add_option(
         "--format", format,
         "input format: auto (from the extension; stdin: npy by its first byte, else txt), npy, "
         "txt, csv, f32 or f64")
      ->check(CLI::IsMember({"auto", "npy", "txt", "csv", "f32", "f64"}))
      ->capture_default_str();
  app->add_option("--column", column,
                  "CSV column: header name or 0-based index (default: the first)");
  if (!with_weights) return;
  app->add_option("--weights-file", weights_file,
                  "case weights, one per sample in the same order, in any input format (from the "
                  "extension; stdin: npy by its first byte, else txt); finite and >= 0" +
                      (weights_effect.empty() ? std::string() : "; " + weights_effect));
  app->add_option("--weight-column", weight_column,
                  "case weights from this CSV column (header name or 0-based index) of the "
                  "--weights-file, or of FILE when there is no --weights-file");
}

double InputData::total_weight() const {
  if (weights.empty()) return static_cast<double>(samples.values.size());
  double sum = 0.0;
  for (double w : weights) sum += w;
  return sum;
}

InputStream::InputStream(const std::string& file, const InputCli& in, BoundaryPolicy policy,
                         double eps) {
  io::ReadOptions ro;
  ro.format = io::parse_format(in.format);
  ro.column = in.column;
  ro.on_boundary = policy;
  ro.eps = eps;
  const bool weighted = !in.weights_file.empty() || !in.weight_column.empty();
  // Checked before anything is read, so that standard input is not consumed in vain.
  if (weighted && file == "-" && in.weights_file == "-") {
    throw InputError(
        "stdin: samples and case weights cannot both come from standard input; give one of "
        "them as a file, or both as columns of one CSV (--column and --weight-column)");
  }
  std::string path = file;
  if (weighted && file == "-" && in.weights_file.empty()) {
    // Two columns of one CSV on standard input: the two readers read a copy of it.
    if (ro.format != io::Format::Csv) {
      throw InputError("stdin: --weight-column reads a CSV column; add --format csv");
    }
    stdin_copy_ = std::make_unique<io::ScratchFile>("stdin");
    stdin_copy_->copy_from(stdin, "stdin");
    path = stdin_copy_->path();
    ro.name = "stdin";
  }
  samples_.emplace(path, ro, io::Values::Samples);
  if (!weighted) return;
  io::ReadOptions wo;
  wo.column = in.weight_column;
  if (in.weights_file.empty()) wo.format = ro.format;
  weights_source_ = in.weights_file.empty()
                        ? samples_->source() + " (weight column " + in.weight_column + ")"
                        : (in.weights_file == "-" ? std::string("stdin") : in.weights_file);
  // A weight column's errors name it, or they would read as the samples' own.
  if (in.weights_file.empty()) wo.name = weights_source_;
  weights_.emplace(in.weights_file.empty() ? path : in.weights_file, wo, io::Values::Weights);
}

std::size_t InputStream::next(std::size_t max, std::vector<double>& x, std::vector<double>& w) {
  const auto drain = [](io::ChunkReader& r) {
    std::vector<double> scratch;
    while (r.next(kReadChunk, scratch) > 0) scratch.clear();
    return r.count();
  };
  const std::size_t got = samples_->next(max, x);
  if (!weights_) return got;
  // At the end of the samples, one more weight must not exist (and the weights' end checks run).
  const std::size_t want = got == 0 ? 1 : got;
  const std::size_t weights_got = weights_->next(want, w);
  if (weights_got != got) {
    const std::size_t n_samples = got == 0 ? samples_->count() : drain(*samples_);
    const std::size_t n_weights = weights_got < got ? weights_->count() : drain(*weights_);
    throw InputError(weights_source_ + ": " + std::to_string(n_weights) + " case weights for " +
                     std::to_string(n_samples) + " samples in " + samples_->source() +
                     "; there must be exactly one weight per sample");
  }
  return got;
}

InputData read_input(const std::string& file, const InputCli& in, BoundaryPolicy policy,
                     double eps) {
  InputStream stream(file, in, policy, eps);
  InputData data;
  if (const std::optional<std::size_t> n = stream.expected_count()) {
    io::reserve_values(data.samples.values, *n, stream.source());
    if (stream.weighted()) io::reserve_values(data.weights, *n, stream.weights_source());
  }
  while (stream.next(kReadChunk, data.samples.values, data.weights) > 0) {
  }
  data.samples.source = stream.source();
  data.samples.n_clamped = stream.n_clamped();
  data.weights_source = stream.weights_source();
  return data;
}

Device parse_device(const std::string& name) {
  if (name == "cpu") return Device::Cpu;
  if (name == "cuda") return Device::Cuda;
  if (name == "auto") return Device::Auto;
  throw InputError("unknown device \"" + name + "\" (expected auto, cpu or cuda)");
}

FitOptions FitCli::options(int k, const std::string& k_option) const {
  FitOptions o;
  o.k = k;
  o.method = method == "em" ? Method::EM : method == "squarem" ? Method::Squarem : Method::Adam;
  if (o.method != Method::Adam && lr_option && lr_option->count() > 0) {
    throw InputError("--lr is Adam's step size; --method " + method + " has none (leave --lr out)");
  }
  o.learning_rate = lr;
  o.max_iterations = max_iter;
  o.tolerance = tol;
  o.seed = seed;
  o.init = init == "random"   ? InitMethod::Random
           : init == "kmeans" ? InitMethod::KMeans
                              : InitMethod::Quantile;
  if (!init_from.empty()) {
    o.start = read_params_json(init_from);
    if (static_cast<int>(o.start->k()) != k) {
      throw InputError("--init-from " + init_from + ": the model has " +
                       std::to_string(o.start->k()) + " components, but " +
                       (k_option.empty()
                            ? "this command fits " + std::to_string(k)
                            : k_option + " is " + std::to_string(k) + " (give " + k_option + " " +
                                  std::to_string(o.start->k()) + ")"));
    }
  }
  o.device = parse_device(device);
  o.on_boundary = parse_boundary(on_boundary);
  o.boundary_eps = eps;
  o.restarts = restarts;
  o.threads = threads;
  return o;
}

std::vector<int> parse_k_list(const std::string& text) {
  const auto bad = [&] {
    return InputError("-k \"" + text +
                      "\": expected a number (2), a range (1:6) or a list (2,3,5)");
  };
  const auto too_many = [&] {
    return InputError("-k \"" + text + "\": at most " + std::to_string(kMaxKCount) +
                      " values of K are fitted in one selection");
  };
  const auto number = [&](std::string s) {
    // Digits only, blanks around them aside (a '-' only to be told K >= 1): stoi alone took
    // " 2" and "+2", but not "2 ".
    s.erase(0, s.find_first_not_of(" \t"));
    s.erase(s.find_last_not_of(" \t") + 1);
    const std::size_t digits = s.rfind('-', 0) == 0 ? 1 : 0;
    if (s.size() == digits || s.find_first_not_of("0123456789", digits) != std::string::npos) {
      throw bad();
    }
    std::size_t used = 0;
    int v = 0;
    try {
      v = std::stoi(s, &used);
    } catch (const std::exception&) {
      throw bad();
    }
    if (used != s.size()) throw bad();
    if (v < 1) throw InputError("-k: the number of components must be at least 1, got " + s);
    return v;
  };
  std::vector<int> ks;
  const auto colon = text.find(':');
  if (colon != std::string::npos) {
    const int lo = number(text.substr(0, colon)), hi = number(text.substr(colon + 1));
    if (hi < lo) throw bad();
    if (hi - lo >= kMaxKCount) throw too_many();
    for (int k = lo; k <= hi; ++k) ks.push_back(k);
    return ks;
  }
  if (!text.empty() && text.back() == ',') throw bad();
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    const int k = number(item);
    if (std::find(ks.begin(), ks.end(), k) != ks.end()) {
      throw InputError("-k \"" + text + "\": lists K = " + item + " twice");
    }
    ks.push_back(k);
    if (ks.size() > static_cast<std::size_t>(kMaxKCount)) throw too_many();
  }
  if (ks.empty()) throw bad();
  return ks;
}

std::string fixed(double value, int decimals) {
  char text[64];
  const double a = std::abs(value);
  if (a > 0.0 && a < 0.5 * std::pow(10.0, -decimals)) {
    // Fixed point would print a nonzero value (alpha 5e-324) as 0.0000.
    std::snprintf(text, sizeof text, "%.*e", std::max(1, decimals - 2), value);
  } else {
    std::snprintf(text, sizeof text, a < 1e9 ? "%.*f" : "%.*e", decimals, value);
  }
  return text;
}

std::string summary(const FitResult& r, const std::string& source, const MixtureParams* truth) {
  char line[256];
  std::ostringstream os;
  os << "betamix: " << r.n << " samples from " << source << ", K = " << r.params.k() << ", "
     << to_string(r.method) << " on " << r.device << " (" << r.device_name << ")\n";
  if (!r.note.empty()) os << "  note: " << r.note << "\n";
  std::snprintf(line, sizeof line, "  %s after %d iterations in %.3f s", to_string(r.status),
                r.iterations, r.seconds);
  os << line;
  if (!r.status_detail.empty()) os << ": " << r.status_detail;
  os << "\n";
  const bool stood_still =
      r.history.size() > 1 && std::abs(r.history.back() - r.history.front()) <=
                                  1e-9 * std::max(1.0, std::abs(r.history.front()));
  if (r.status == FitStatus::MaxIterations && r.method == Method::Adam && stood_still) {
    os << "  hint: the mean NLL hardly moved from the start: the step size (--lr) may be too "
          "small\n"
          "  to move the parameters (the default is 0.05)\n";
  } else if (r.status == FitStatus::ComponentCollapsed && r.method == Method::Adam &&
             r.iterations > 0 && r.start_log_likelihoods.size() < 2) {
    // Not where the start itself left a component without samples: no step did that.
    os << "  hint: Adam's fixed step can push a narrow component off its samples; --restarts 2 "
          "adds\n"
          "  a second start (after quantile or kmeans, the other of the two), and --method "
          "squarem\n"
          "  has no step size to overshoot\n";
  } else if (r.status == FitStatus::MaxIterations && r.method == Method::Adam) {
    os << "  hint: Adam did not converge; where components are concentrated (large shapes) or "
          "well\n"
          "  separated, --method squarem converges in far fewer passes; or raise --max-iter\n";
  }
  os << "  log-likelihood " << fixed(r.log_likelihood, 6) << ", mean NLL " << fixed(r.mean_nll, 8)
     << ", AIC " << fixed(r.aic, 3) << ", BIC " << fixed(r.bic, 3) << "\n";
  if (r.n_clamped > 0) os << "  " << r.n_clamped << " values clamped off 0 or 1\n";
  if (r.start_log_likelihoods.size() > 1) {
    os << "  restarts: " << r.start_log_likelihoods.size() << ", best start " << r.best_start + 1
       << ", " << r.starts_at_best << " reached the best log-likelihood\n";
  }
  if (truth) {
    os << "  component    weight (true)        alpha (true)          beta (true)\n";
  } else {
    os << "  component    weight      alpha       beta        mean\n";
  }
  for (std::size_t j = 0; j < r.params.k(); ++j) {
    const double a = r.params.alpha[j], b = r.params.beta[j];
    if (truth && j < truth->k()) {
      std::snprintf(line, sizeof line, "  %-9zu %8.4f (%6.4f) %10s (%8s) %10s (%8s)\n", j + 1,
                    r.params.weights[j], truth->weights[j], fixed(a, 4).c_str(),
                    fixed(truth->alpha[j], 4).c_str(), fixed(b, 4).c_str(),
                    fixed(truth->beta[j], 4).c_str());
    } else {
      std::snprintf(line, sizeof line, "  %-9zu %9s %10s %10s %10s\n", j + 1,
                    fixed(r.params.weights[j], 4).c_str(), fixed(a, 4).c_str(), fixed(b, 4).c_str(),
                    fixed(a / (a + b), 4).c_str());
    }
    os << line;
  }
  return os.str();
}

// `text` after `lead`, broken at spaces into lines of at most 96 characters, the continuation
// lines indented by two more spaces than `lead`'s indent.
std::string wrapped(const std::string& lead, const std::string& text) {
  constexpr std::size_t kWidth = 96;
  const std::string indent(lead.find_first_not_of(' ') + 2, ' ');
  std::string out = lead, word;
  std::size_t column = lead.size();
  std::istringstream words(text);
  bool first = true;
  while (words >> word) {
    if (!first && column + 1 + word.size() > kWidth) {
      out += "\n" + indent;
      column = indent.size();
    } else if (!first) {
      out += ' ';
      ++column;
    }
    out += word;
    column += word.size();
    first = false;
  }
  return out + "\n";
}

std::string standard_error_summary(const FitResult& r) {
  if (!r.se) return "";
  const StandardErrors& e = *r.se;
  if (!e.available) return "  standard errors: not available: " + e.reason + "\n";
  std::string out = "  standard errors [95 % interval]\n";
  char line[256];
  std::snprintf(line, sizeof line, "  %-10s %-26s %-26s %s\n", "component", "weight", "alpha",
                "beta");
  out += line;
  const auto cell = [](double se, double lo, double hi) {
    char text[96];
    std::snprintf(text, sizeof text, "%.4g [%.4g, %.4g]", se, lo, hi);
    return std::string(text);
  };
  for (std::size_t j = 0; j < r.params.k(); ++j) {
    std::snprintf(line, sizeof line, "  %-10zu %-26s %-26s %s\n", j + 1,
                  cell(e.se.weights[j], e.ci95_lower.weights[j], e.ci95_upper.weights[j]).c_str(),
                  cell(e.se.alpha[j], e.ci95_lower.alpha[j], e.ci95_upper.alpha[j]).c_str(),
                  cell(e.se.beta[j], e.ci95_lower.beta[j], e.ci95_upper.beta[j]).c_str());
    out += line;
  }
  if (!e.note.empty()) out += wrapped("  caution: ", e.note);
  return out;
}

std::function<void(const Progress&)> progress_line(bool quiet) {
  if (quiet || !isatty(STDERR_FILENO)) return {};
  return [](const Progress& p) {
    std::fprintf(stderr, "\r  iteration %d  mean NLL %.8f  %.0f it/s   ", p.iteration, p.mean_nll,
                 p.iterations_per_second);
    std::fflush(stderr);
  };
}

void end_progress_line(bool quiet) {
  if (quiet || !isatty(STDERR_FILENO)) return;
  std::fprintf(stderr, "\r%60s\r", "");
}

CountLine::CountLine(bool quiet, std::size_t total)
    : on_(!quiet && isatty(STDERR_FILENO)),
      total_(total),
      shown_(std::chrono::steady_clock::now()) {}

CountLine::~CountLine() { clear(); }

void CountLine::clear() {
  if (drawn_) std::fprintf(stderr, "\r%60s\r", "");
  drawn_ = false;
}

void CountLine::update(std::size_t done) {
  if (!on_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - shown_ < std::chrono::milliseconds(200)) return;
  if (total_ > 0) {
    std::fprintf(stderr, "\r  %zu of %zu samples (%.0f %%)   ", done, total_,
                 100.0 * static_cast<double>(done) / static_cast<double>(total_));
  } else {
    std::fprintf(stderr, "\r  %zu samples   ", done);
  }
  std::fflush(stderr);
  drawn_ = true;
  shown_ = now;
}

}  // namespace betamix::cli
