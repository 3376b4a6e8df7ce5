// `betamix fit FILE -k K`: reads samples (and case weights), fits the mixture (or several K and
// selects one), adds standard errors, prints a summary on stderr and the result as JSON on
// stdout or into -o, and with --plot draws the fit as SVG.

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>

#include "betamix/betamix.hpp"
#include "cli/command.hpp"
#include "cli/fit_options.hpp"
#include "cli/result_json.hpp"
#include "io/reader.hpp"
#include "io/writer.hpp"
#include "plot_svg.hpp"
#include "samples.hpp"

namespace betamix::cli {
namespace {

struct FitArgs {
  std::string file;
  std::string k = "2";
  std::string criterion = "bic";
  const CLI::Option* criterion_option = nullptr;
  InputCli input;
  std::string output;
  std::string plot;
  bool no_se = false;
  bool quiet = false;
  FitCli fit;
};

// Ctrl-C during a fit: the first ends it at the point reached, whose result is then written as
// usual (status "stopped", exit 130); a second does what Ctrl-C did before (ends the process,
// temporary files removed). Not where SIGINT is ignored (a background job of a script).
std::atomic<bool> g_stop_requested{false};
bool g_stop_quiet = false;  // --quiet: the handler says nothing
struct sigaction g_sigint_before {};

extern "C" void stop_fit_on_interrupt(int sig) {
  if (!g_stop_requested.exchange(true)) {
    if (g_stop_quiet) return;
    static const char kLine[] =
        "\nbetamix: stopping at the end of this iteration (Ctrl-C again quits without a "
        "result)\n";
    const ssize_t ignored = ::write(STDERR_FILENO, kLine, sizeof kLine - 1);
    static_cast<void>(ignored);
    return;
  }
  ::sigaction(sig, &g_sigint_before, nullptr);
  ::raise(sig);
}

class StopOnInterrupt {
 public:
  explicit StopOnInterrupt(bool quiet) {
    g_stop_requested = false;
    g_stop_quiet = quiet;
    struct sigaction act {};
    act.sa_handler = stop_fit_on_interrupt;
    sigemptyset(&act.sa_mask);
    installed_ = ::sigaction(SIGINT, nullptr, &g_sigint_before) == 0 &&
                 g_sigint_before.sa_handler != SIG_IGN && ::sigaction(SIGINT, &act, nullptr) == 0;
  }
  ~StopOnInterrupt() {
    if (installed_) ::sigaction(SIGINT, &g_sigint_before, nullptr);
  }
  StopOnInterrupt(const StopOnInterrupt&) = delete;
  StopOnInterrupt& operator=(const StopOnInterrupt&) = delete;

  static bool requested() { return g_stop_requested.load(); }

 private:
  bool installed_ = false;
};

Criterion parse_criterion(const std::string& name) {
  return name == "aic" ? Criterion::AIC : name == "icl" ? Criterion::ICL : Criterion::BIC;
}

std::string selection_table(const ModelSelection& sel) {
  std::string out = "  K   log-likelihood          AIC           BIC           ICL   status\n";
  char line[200];
  for (std::size_t i = 0; i < sel.fits.size(); ++i) {
    const FitResult& r = sel.fits[i];
    std::snprintf(line, sizeof line, "  %-2zu %15s %13s %13s %13s   %s%s\n", r.params.k(),
                  fixed(r.log_likelihood, 4).c_str(), fixed(r.aic, 4).c_str(),
                  fixed(r.bic, 4).c_str(), fixed(r.icl, 4).c_str(), to_string(r.status),
                  static_cast<int>(i) == sel.selected ? "   <- selected" : "");
    out += line;
  }
  return out;
}

std::string selection_notes(const ModelSelection& sel) {
  std::string out;
  for (const std::string& note : sel.notes) out += "  note: " + note + "\n";
  return out;
}

std::string weights_line(const InputData& data) {
  if (data.weights.empty()) return "";
  char line[256];
  std::snprintf(line, sizeof line,
                "  case weights from %s, total %.6g (the n of BIC and of the mean NLL)\n",
                data.weights_source.c_str(), data.total_weight());
  return line;
}

int run_fit(const FitArgs& a) {
  const std::vector<int> ks = parse_k_list(a.k);
  const std::vector<std::string> inputs = {a.file, a.input.weights_file, a.fit.init_from};
  check_writable(a.output, "-o", inputs);
  check_writable(a.plot, "--plot", inputs);
  if (a.output.empty() && is_standard_output(a.plot)) {
    throw InputError("--plot " + a.plot +
                     " writes to standard output, where the JSON result goes without -o: give "
                     "-o result.json, or the plot a file name");
  }
  check_distinct_outputs({{"-o", a.output}, {"--plot", a.plot}});
  if (!a.plot.empty() && io::file_extension(a.plot) != ".svg" && !io::is_stream_path(a.plot)) {
    throw InputError("--plot " + a.plot + ": the plot is SVG; use a file name ending in .svg");
  }
  if (ks.size() > 1 && !a.fit.init_from.empty()) {
    throw InputError("--init-from starts one K; -k \"" + a.k +
                     "\" asks for several: give the K of " + a.fit.init_from);
  }
  if (ks.size() == 1 && a.criterion_option && a.criterion_option->count() > 0) {
    throw InputError(
        "--criterion chooses among several K, and -k \"" + a.k +
        "\" is one: give a range (-k 1:6) or a list (-k 2,3), or leave --criterion out");
  }
  FitOptions o = a.fit.options(ks.front());
  o.standard_errors = !a.no_se;
  const InputData data = read_input(a.file, a.input, o.on_boundary, o.boundary_eps);
  const std::vector<double>& x = data.samples.values;
  const std::string& source = data.samples.source;
  detail::check_not_one_value(x.data(), data.weights_or_null(), x.size(), source);

  o.progress = progress_line(a.quiet);
  std::optional<StopOnInterrupt> interrupt(std::in_place, a.quiet);
  o.stop = [] { return StopOnInterrupt::requested(); };
  nlohmann::json j;
  FitResult chosen;
  if (ks.size() == 1) {
    chosen = fit(x.data(), x.size(), o, data.weights_or_null());
    interrupt.reset();
    end_progress_line(a.quiet);
    chosen.n_clamped = data.samples.n_clamped;
    if (!a.quiet) {
      std::cerr << summary(chosen, source, nullptr) << weights_line(data)
                << standard_error_summary(chosen);
    }
    j = to_json(chosen);
  } else {
    ModelSelection sel =
        select_k(x.data(), x.size(), ks, parse_criterion(a.criterion), o, data.weights_or_null());
    interrupt.reset();
    end_progress_line(a.quiet);
    for (FitResult& r : sel.fits) r.n_clamped = data.samples.n_clamped;
    chosen = sel.fits[sel.selected];
    if (!a.quiet) {
      std::cerr << "betamix: K selection by " << a.criterion << " on " << source << "\n"
                << selection_table(sel) << selection_notes(sel) << summary(chosen, source, nullptr)
                << weights_line(data) << standard_error_summary(chosen);
    }
    j = to_json(chosen);
    j["criterion"] = a.criterion;
    j["selection"] = nlohmann::json::array();
    for (const FitResult& r : sel.fits) {
      j["selection"].push_back({{"k", r.params.k()},
                                {"log_likelihood", r.log_likelihood},
                                {"n_parameters", r.n_parameters()},
                                {"aic", r.aic},
                                {"bic", r.bic},
                                {"icl", r.icl},
                                {"iterations", r.iterations},
                                {"status", to_string(r.status)}});
    }
    j["selection_notes"] = sel.notes;
  }
  if (!o.standard_errors) {
    j["se"] = nullptr;
    j["ci95"] = nullptr;
    j["se_reason"] = "not computed (--no-se)";
  }
  if (!data.weights.empty()) {
    j["weights_source"] = data.weights_source;
    j["total_weight"] = data.total_weight();
  }
  j["source"] = source;
  write_text(a.output, dump_json(j) + "\n");  // the result first: the more costly to lose
  if (!a.plot.empty()) {
    detail::PlotData plot;
    plot.x = x.data();
    plot.weights = data.weights_or_null();
    plot.n = x.size();
    plot.params = chosen.params;
    plot.history = chosen.history;
    plot.result_nll = chosen.mean_nll;
    plot.title = source;
    write_text(a.plot, detail::plot_svg(plot));
  }
  return StopOnInterrupt::requested() ? kExitStopped : kExitOk;
}

}  // namespace

void add_fit_command(CLI::App& app, CommandList& commands) {
  auto args = std::make_shared<FitArgs>();
  CLI::App* sub = app.add_subcommand(
      "fit",
      "Fit a K-component Beta mixture to the samples in FILE by maximum likelihood.\n"
      "Prints a summary on stderr and the result as JSON on stdout (or into -o). Ctrl-C stops\n"
      "the fit at the point reached and writes that (status \"stopped\", exit 130).\n"
      "Example: betamix fit data.npy -k 2 -o result.json");
  sub->add_option(
         "FILE", args->file,
         "samples in (0,1): .npy (float32/float64), .txt (one per line), .csv, raw .f32/.f64, "
         "or - for standard input")
      ->required();
  sub->add_option("-k", args->k,
                  "number of components: a number (2), a range (1:6) or a list (2,3,5), at most "
                  "1000 values; several K are all fitted and one is selected by --criterion (a K "
                  "that ends below a smaller K's log-likelihood, which it can always match, is "
                  "fitted again from that fit with a component split)")
      ->capture_default_str();
  args->criterion_option =
      sub->add_option("--criterion", args->criterion,
                      "how to choose among several K: bic, aic or icl, lowest wins; fits whose "
                      "component collapsed are chosen only when all did")
          ->check(CLI::IsMember({"bic", "aic", "icl"}))
          ->capture_default_str();
  args->input.add(sub, true,
                  "they weight the fit, and the sample size n in AIC/BIC becomes their sum");
  sub->add_option("-o,--output", args->output, "write the JSON result here instead of stdout");
  sub->add_option("--plot", args->plot,
                  "draw the fit as SVG into this file: the data's density histogram with the "
                  "mixture and its weighted components, and the mean NLL per iteration");
  sub->add_flag("--no-se", args->no_se,
                "skip the standard errors (one extra pass over the data after the fit)");
  sub->add_flag("-q,--quiet", args->quiet, "print nothing but errors on stderr");
  args->fit.add(sub);
  commands.push_back({sub, [args] { return run_fit(*args); }});
}

}  // namespace betamix::cli
