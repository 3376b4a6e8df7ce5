#include "cli/fit_options.hpp"

#include <unistd.h>

#include <cstdio>
#include <sstream>

#include "betamix/error.hpp"
#include "cli/result_json.hpp"

namespace betamix::cli {

void FitCli::add(CLI::App* app, bool with_device) {
  app->add_option("--method", method,
                  "optimiser: adam (gradient steps) or em (expectation-maximisation)")
      ->check(CLI::IsMember({"adam", "em"}))
      ->capture_default_str();
  app->add_option("--lr", lr, "Adam step size on log alpha, log beta and the weight logits")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app->add_option("--max-iter", max_iter,
                  "iteration limit; a fit that reaches it has status max_iterations")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app->add_option(
         "--tol", tol,
         "stop when the mean NLL changes by less than tol * max(1, |mean NLL|) in each of "
         "the last 10 iterations (Adam) or in the last iteration (EM); 0 runs exactly --max-iter "
         "iterations")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app->add_option("--seed", seed, "seed of the random starts (recorded in the result)")
      ->capture_default_str();
  app->add_option("--init", init,
                  "first parameters: quantile (moment-matched Betas on K quantile groups), kmeans "
                  "(1-D k-means, then moments) or random (seeded)")
      ->check(CLI::IsMember({"quantile", "kmeans", "random"}))
      ->capture_default_str();
  app->add_option("--init-from", init_from,
                  "warm start from the parameters of an earlier result JSON");
  app->add_option("--restarts", restarts,
                  "independent starts evaluated together in one pass per iteration; the first uses "
                  "--init, the others are seeded random starts")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  if (with_device) {
    app->add_option(
           "--device", device,
           "where the pass over the data runs: auto (the GPU when one is visible), cpu or cuda")
        ->check(CLI::IsMember({"auto", "cpu", "cuda"}))
        ->capture_default_str();
  }
  app->add_option("--on-boundary", on_boundary,
                  "values of exactly 0 or 1: reject (an error) or clamp (moved to [eps, 1-eps] and "
                  "counted in n_clamped)")
      ->check(CLI::IsMember({"reject", "clamp"}))
      ->capture_default_str();
  app->add_option("--eps", eps, "distance from 0 and 1 that --on-boundary clamp moves values to")
      ->capture_default_str();
  app->add_option("--threads", threads, "CPU threads (0: all cores)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
}

Device parse_device(const std::string& name) {
  if (name == "cpu") return Device::Cpu;
  if (name == "cuda") return Device::Cuda;
  if (name == "auto") return Device::Auto;
  throw InputError("unknown device \"" + name + "\" (expected auto, cpu or cuda)");
}

FitOptions FitCli::options(int k) const {
  FitOptions o;
  o.k = k;
  o.method = method == "em" ? Method::EM : Method::Adam;
  o.learning_rate = lr;
  o.max_iterations = max_iter;
  o.tolerance = tol;
  o.seed = seed;
  o.init = init == "random"   ? InitMethod::Random
           : init == "kmeans" ? InitMethod::KMeans
                              : InitMethod::Quantile;
  if (!init_from.empty()) o.start = read_params_json(init_from);
  o.device = parse_device(device);
  o.on_boundary = on_boundary == "clamp" ? BoundaryPolicy::Clamp : BoundaryPolicy::Reject;
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
  const auto number = [&](const std::string& s) {
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
    for (int k = lo; k <= hi; ++k) ks.push_back(k);
    return ks;
  }
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) ks.push_back(number(item));
  if (ks.empty()) throw bad();
  return ks;
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
  std::snprintf(line, sizeof line, "  log-likelihood %.6f, mean NLL %.8f, AIC %.3f, BIC %.3f\n",
                r.log_likelihood, r.mean_nll, r.aic, r.bic);
  os << line;
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
      std::snprintf(line, sizeof line, "  %-9zu %8.4f (%6.4f) %10.4f (%8.4f) %10.4f (%8.4f)\n",
                    j + 1, r.params.weights[j], truth->weights[j], a, truth->alpha[j], b,
                    truth->beta[j]);
    } else {
      std::snprintf(line, sizeof line, "  %-9zu %9.4f %10.4f %10.4f %10.4f\n", j + 1,
                    r.params.weights[j], a, b, a / (a + b));
    }
    os << line;
  }
  return os.str();
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

}  // namespace betamix::cli
