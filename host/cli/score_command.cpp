// `betamix score --model result.json FILE`: the log-likelihood and mean negative
// log-likelihood of new data under a fitted mixture, the held-out check of a fit. The data are
// read and go through the same backend pass as a fit (CPU or GPU) in chunks, so neither the
// host nor the device ever holds more than one chunk.

#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "backend.hpp"
#include "betamix/betamix.hpp"
#include "cli/command.hpp"
#include "cli/fit_options.hpp"
#include "cli/model_stream.hpp"
#include "cli/result_json.hpp"

namespace betamix::cli {
namespace {

int run_score(const ModelStreamCli& a) {
  check_writable(a.output, "-o", {a.model, a.file, a.input.weights_file});
  const MixtureParams params = read_params_json(a.model).normalized();
  InputStream input(a.file, a.input, parse_boundary(a.on_boundary), a.eps);
  ModelBackend run(params, a);
  detail::PassStats stats;
  std::vector<double> x, w;
  double ll = 0.0, total = 0.0;  // chunk sums added in chunk order: the same total on every run
  {
    CountLine progress(a.quiet);
    while (input.next(kReadChunk, x, w) > 0) {
      run.load(x.data(), input.weighted() ? w.data() : nullptr, x.size());
      run.backend->pass(run.constants, stats);
      ll += stats.ll[0];
      total += run.backend->total_weight();
      x.clear();
      w.clear();
      progress.update(input.count());
    }
  }
  const std::size_t n = input.count();
  nlohmann::json j;
  j["model"] = a.model;
  j["source"] = input.source();
  j["n"] = n;
  j["total_weight"] = total;
  j["log_likelihood"] = ll;
  j["mean_nll"] = -ll / total;
  j["n_clamped"] = input.n_clamped();
  j["device"] = run.backend->name();
  std::string why;
  if (!std::isfinite(ll)) {
    // JSON has no infinity: null, and a note that says what it stands for.
    why = std::string("the log-likelihood is ") + (ll < 0.0 ? "-inf" : "not finite") +
          ": the data's log-densities under the model sum beyond the range of a double "
          "(-1.8e308), or some sample has density 0 there";
    j["log_likelihood"] = nullptr;
    j["mean_nll"] = nullptr;
    j["note"] = why;
  }
  if (!a.quiet) {
    const std::string line =
        "  log-likelihood " + fixed(ll, 6) + ", mean NLL " + fixed(-ll / total, 8) + "\n";
    std::cerr << "betamix: " << n << " samples from " << input.source() << " under the model in "
              << a.model << ", on " << run.backend->name() << " (" << run.backend->device_name()
              << ")\n"
              << (run.note.empty() ? "" : "  note: " + run.note + "\n") << line
              << (why.empty() ? "" : "  note: " + why + "\n");
    if (input.weighted()) {
      std::cerr << "  case weights from " << input.weights_source() << ", total " << total << "\n";
    }
  }
  write_text(a.output, dump_json(j) + "\n");
  return kExitOk;
}

}  // namespace

void add_score_command(CLI::App& app, CommandList& commands) {
  auto args = std::make_shared<ModelStreamCli>();
  CLI::App* sub = app.add_subcommand(
      "score",
      "Log-likelihood and mean negative log-likelihood of the samples in FILE under a fitted\n"
      "mixture (a held-out check). A summary on stderr, JSON on stdout (or into -o). FILE and\n"
      "the case weights are read and checked exactly as by `fit`.\n"
      "Example: betamix score --model result.json heldout.npy");
  args->add(sub, "write the JSON here instead of stdout",
            "the log-likelihood is weighted, and the mean NLL is per unit of weight");
  commands.push_back({sub, [args] { return run_score(*args); }});
}

}  // namespace betamix::cli
