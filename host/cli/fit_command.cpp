// `betamix fit FILE -k K`: reads samples, fits the mixture (or several K and selects one),
// prints a summary on stderr and the result as JSON on stdout or into -o.

#include <cstdio>
#include <iostream>

#include "betamix/betamix.hpp"
#include "cli/command.hpp"
#include "cli/fit_options.hpp"
#include "cli/result_json.hpp"
#include "io/reader.hpp"

namespace betamix::cli {
namespace {

struct FitArgs {
  std::string file;
  std::string k = "2";
  std::string criterion = "bic";
  std::string format = "auto";
  std::string column;
  std::string output;
  bool quiet = false;
  FitCli fit;
};

Criterion parse_criterion(const std::string& name) {
  return name == "aic" ? Criterion::AIC : name == "icl" ? Criterion::ICL : Criterion::BIC;
}

std::string selection_table(const ModelSelection& sel) {
  std::string out = "  K   log-likelihood          AIC           BIC           ICL   status\n";
  char line[200];
  for (std::size_t i = 0; i < sel.fits.size(); ++i) {
    const FitResult& r = sel.fits[i];
    std::snprintf(line, sizeof line, "  %-2zu %15.4f %13.4f %13.4f %13.4f   %s%s\n", r.params.k(),
                  r.log_likelihood, r.aic, r.bic, r.icl, to_string(r.status),
                  static_cast<int>(i) == sel.selected ? "   <- selected" : "");
    out += line;
  }
  return out;
}

int run_fit(const FitArgs& a) {
  const std::vector<int> ks = parse_k_list(a.k);
  io::ReadOptions ro;
  ro.format = io::parse_format(a.format);
  ro.column = a.column;
  const FitOptions base = a.fit.options(ks.front());
  ro.on_boundary = base.on_boundary;
  ro.eps = base.boundary_eps;
  const io::Samples data = io::read_samples(a.file, ro);

  FitOptions o = base;
  o.progress = progress_line(a.quiet);
  nlohmann::json j;
  if (ks.size() == 1) {
    FitResult r = fit(data.values.data(), data.values.size(), o);
    end_progress_line(a.quiet);
    r.n_clamped = data.n_clamped;
    if (!a.quiet) std::cerr << summary(r, data.source, nullptr);
    j = to_json(r);
  } else {
    ModelSelection sel =
        select_k(data.values.data(), data.values.size(), ks, parse_criterion(a.criterion), o);
    end_progress_line(a.quiet);
    for (FitResult& r : sel.fits) r.n_clamped = data.n_clamped;
    const FitResult& best = sel.fits[sel.selected];
    if (!a.quiet) {
      std::cerr << "betamix: K selection by " << a.criterion << " on " << data.source << "\n"
                << selection_table(sel) << summary(best, data.source, nullptr);
    }
    j = to_json(best);
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
  }
  j["source"] = data.source;
  write_text(a.output, j.dump(2) + "\n");
  return kExitOk;
}

}  // namespace

void add_fit_command(CLI::App& app, CommandList& commands) {
  auto args = std::make_shared<FitArgs>();
  CLI::App* sub = app.add_subcommand(
      "fit",
      "Fit a K-component Beta mixture to the samples in FILE by maximum likelihood.\n"
      "Prints a summary on stderr and the result as JSON on stdout (or into -o).\n"
      "Example: betamix fit data.npy -k 2 -o result.json");
  sub->add_option(
         "FILE", args->file,
         "samples in (0,1): .npy (float32/float64), .txt (one per line), .csv, raw .f32/.f64, "
         "or - for standard input")
      ->required();
  sub->add_option("-k", args->k,
                  "number of components: a number (2), a range (1:6) or a list (2,3,5); several K "
                  "are all fitted and one is selected by --criterion")
      ->capture_default_str();
  sub->add_option("--criterion", args->criterion, "how to choose among several K: bic, aic or icl")
      ->check(CLI::IsMember({"bic", "aic", "icl"}))
      ->capture_default_str();
  sub->add_option("--format", args->format,
                  "input format: auto (from the extension), npy, txt, csv, f32 or f64")
      ->check(CLI::IsMember({"auto", "npy", "txt", "csv", "f32", "f64"}))
      ->capture_default_str();
  sub->add_option("--column", args->column,
                  "CSV column: header name or 0-based index (default: the first)");
  sub->add_option("-o,--output", args->output, "write the JSON result here instead of stdout");
  sub->add_flag("-q,--quiet", args->quiet, "print nothing but errors on stderr");
  args->fit.add(sub);
  commands.push_back({sub, [args] { return run_fit(*args); }});
}

}  // namespace betamix::cli
