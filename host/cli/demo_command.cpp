// `betamix demo`: samples the classic two-peak mixture and fits it, printing the estimates
// beside the truth.

#include <chrono>
#include <iostream>

#include "betamix/betamix.hpp"
#include "cli/command.hpp"
#include "cli/fit_options.hpp"

namespace betamix::cli {
namespace {

struct DemoArgs {
  std::size_t n = 10000;
  std::uint64_t seed = 0;
  std::string device = "auto";
  FitCli fit;
};

int run_demo(DemoArgs a) {
  const MixtureParams truth{{0.5, 0.5}, {10.0, 1.5}, {1.5, 10.0}};
  const Device device = parse_device(a.device);
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<double> x = sample(truth, a.n, a.seed, device);
  const double sample_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  a.fit.device = a.device;
  FitOptions o = a.fit.options(2, "");
  o.progress = progress_line(false);
  const FitResult r = fit(x, o);
  end_progress_line(false);
  const MixtureParams sorted_truth = truth.sorted_by_mean();
  std::cout << "betamix demo: 0.5 Beta(10, 1.5) + 0.5 Beta(1.5, 10), n = " << a.n << ", seed "
            << a.seed << " (sampled in " << sample_seconds << " s)\n"
            << summary(r, "the demo sample", &sorted_truth);
  return r.status == FitStatus::Converged ? kExitOk : kExitFailure;
}

}  // namespace

void add_demo_command(CLI::App& app, CommandList& commands) {
  auto args = std::make_shared<DemoArgs>();
  CLI::App* sub = app.add_subcommand(
      "demo",
      "Sample the classic two-peak mixture 0.5 Beta(10, 1.5) + 0.5 Beta(1.5, 10) and fit K = 2,\n"
      "printing the estimates beside the truth.\n"
      "Example: betamix demo -n 100000 --device cpu");
  sub->add_option("-n", args->n, "number of samples")->check(whole_number())->capture_default_str();
  sub->add_option("--sample-seed", args->seed, "seed of the sample")
      ->check(whole_number())
      ->capture_default_str();
  sub->add_option("--device", args->device, "auto (the GPU when one is visible), cpu or cuda")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}))
      ->capture_default_str();
  args->fit.add(sub, false);
  commands.push_back({sub, [args] { return run_demo(*args); }});
}

}  // namespace betamix::cli
