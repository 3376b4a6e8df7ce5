#pragma once
// Command-line options shared by the commands that fit (`fit`, `demo`, `crosscheck`).

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "betamix/options.hpp"
#include "betamix/result.hpp"

namespace betamix::cli {

/// The fit options as typed on the command line.
struct FitCli {
  std::string method = "adam";
  double lr = FitOptions{}.learning_rate;
  int max_iter = FitOptions{}.max_iterations;
  double tol = FitOptions{}.tolerance;
  std::uint64_t seed = 0;
  std::string init = "quantile";
  std::string init_from;
  std::string device = "auto";
  std::string on_boundary = "reject";
  double eps = FitOptions{}.boundary_eps;
  int restarts = 1;
  int threads = 0;

  /// Adds the options to `app`; `with_device` = false leaves out --device.
  void add(CLI::App* app, bool with_device = true);
  /// The library options for `k` components (reads --init-from when given).
  FitOptions options(int k) const;
};

/// Parses "-k": a number, a range "1:6" or a list "2,3,5" (InputError otherwise).
std::vector<int> parse_k_list(const std::string& text);

/// Parses --device.
Device parse_device(const std::string& name);

/// The summary of a fit for humans (stderr): status, likelihood and a table of components.
/// `truth`, when given, adds the true parameters beside the estimates.
std::string summary(const FitResult& r, const std::string& source, const MixtureParams* truth);

/// A progress callback that redraws one line on stderr when stderr is a terminal, or an empty
/// function when it is not (or `quiet`).
std::function<void(const Progress&)> progress_line(bool quiet);

/// Clears the progress line, if one was drawn.
void end_progress_line(bool quiet);

}  // namespace betamix::cli
