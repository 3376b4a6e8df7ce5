// `betamix crosscheck FILE -k K`: runs the same fit from the same start on the CPU and on the
// GPU and compares the log-likelihood at every iteration and the final parameters. Exits 1
// when a difference exceeds its tolerance, so that users can put it in their own CI.

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <limits>

#include "betamix/betamix.hpp"
#include "cli/command.hpp"
#include "cli/fit_options.hpp"
#include "fit_compare.hpp"
#include "io/reader.hpp"
#include "samples.hpp"

namespace betamix::cli {
namespace {

struct CrosscheckArgs {
  std::string file;
  int k = 2;
  std::string format = "auto";
  std::string column;
  std::string second = "cuda";
  double ll_rtol = 1e-6;
  double param_rtol = 1e-4;
  double perturb = 0.0;
  FitCli fit;
};

int run_crosscheck(CrosscheckArgs a) {
  io::ReadOptions ro;
  ro.format = io::parse_format(a.format);
  ro.column = a.column;
  a.fit.device = "cpu";
  FitOptions first = a.fit.options(a.k);
  first.standard_errors = false;  // compared: the iterations and the parameters
  ro.on_boundary = first.on_boundary;
  ro.eps = first.boundary_eps;
  const io::Samples data = io::read_samples(a.file, ro);
  detail::check_not_one_value(data.values.data(), nullptr, data.values.size(), data.source);
  const std::size_t n = data.values.size();

  // Both runs start from the same parameters: the first run's start, made explicit.
  if (!first.start) {
    FitOptions init = first;
    init.max_iterations = 0;
    init.restarts = 1;
    first.start = fit(data.values.data(), n, init).params;
  }
  FitOptions second = first;
  if (a.second == "cuda") {
    second.device = Device::Cuda;
  } else {
    second.threads = 1;
  }
  if (a.perturb != 0.0) {
    for (double& v : second.start->alpha) v *= 1.0 + a.perturb;
  }
  const FitResult r1 = fit(data.values.data(), n, first);
  FitResult r2;
  try {
    r2 = fit(data.values.data(), n, second);
  } catch (const DeviceError& e) {
    throw DeviceError("crosscheck: the GPU run failed: " + std::string(e.what()) +
                      "; --against cpu compares two CPU runs instead");
  }

  const detail::FitDifference diff = detail::compare_fits(r1, r2);
  const bool same_iterations = r1.iterations == r2.iterations;
  const bool ok = diff.mean_nll <= a.ll_rtol && diff.params <= a.param_rtol && same_iterations;
  std::printf("crosscheck: %zu samples from %s, K = %d, %s, %d iterations\n", n,
              data.source.c_str(), a.k, to_string(first.method), r1.iterations);
  std::printf("  first:  %s (%s), LL %.10g\n", r1.device.c_str(), r1.device_name.c_str(),
              r1.log_likelihood);
  std::printf("  second: %s (%s), LL %.10g, %d iterations\n", r2.device.c_str(),
              r2.device_name.c_str(), r2.log_likelihood, r2.iterations);
  std::printf(
      "  worst difference of the mean NLL per iteration:          %.3e (iteration %d, "
      "tolerance %.1e, relative to max(1, |mean NLL|))\n",
      diff.mean_nll, diff.mean_nll_iteration, a.ll_rtol);
  std::printf(
      "  worst relative difference of the final parameters:       %.3e (%s, tolerance "
      "%.1e)\n",
      diff.params, diff.params_where.c_str(), a.param_rtol);
  std::printf("  %s\n", ok ? "PASS" : "FAIL");
  return ok ? kExitOk : kExitFailure;
}

}  // namespace

void add_crosscheck_command(CLI::App& app, CommandList& commands) {
  auto args = std::make_shared<CrosscheckArgs>();
  args->fit.max_iter = 200;
  args->fit.tol = 0.0;
  CLI::App* sub = app.add_subcommand(
      "crosscheck",
      "Run the same fit from the same start on the CPU and on the GPU, print the worst relative\n"
      "difference of the log-likelihood per iteration and of the final parameters, and exit 1\n"
      "when either exceeds its tolerance (or the iteration counts differ).\n"
      "Example: betamix crosscheck data.npy -k 2");
  sub->add_option("FILE", args->file, "samples, as for `betamix fit`")->required();
  sub->add_option("-k", args->k, "number of components")
      ->check(whole_number_in(1, std::numeric_limits<int>::max()))
      ->capture_default_str();
  sub->add_option("--format", args->format, "input format: auto, npy, txt, csv, f32 or f64")
      ->check(CLI::IsMember({"auto", "npy", "txt", "csv", "f32", "f64"}))
      ->capture_default_str();
  sub->add_option("--column", args->column, "CSV column: header name or 0-based index");
  sub->add_option("--against", args->second,
                  "the second run: cuda (the GPU) or cpu (the CPU with one thread, to check the "
                  "check on a machine without a GPU)")
      ->check(CLI::IsMember({"cuda", "cpu"}))
      ->capture_default_str();
  sub->add_option("--ll-rtol", args->ll_rtol,
                  "tolerance on the mean NLL per iteration, relative to max(1, |mean NLL|) (a "
                  "mean NLL near 0 sums terms of size ~1 that cancel)")
      ->check(non_negative_number())
      ->capture_default_str();
  sub->add_option("--param-rtol", args->param_rtol, "tolerance on the final parameters")
      ->check(non_negative_number())
      ->capture_default_str();
  sub->add_option("--perturb", args->perturb,
                  "multiply the second run's starting alphas by 1 + this (above -1), to see "
                  "the check fail")
      ->check(number_above(-1.0));
  args->fit.add(sub, false);
  commands.push_back({sub, [args] { return run_crosscheck(*args); }});
}

}  // namespace betamix::cli
