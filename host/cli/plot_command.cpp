// `betamix plot --model result.json FILE -o fit.svg`: the picture `fit --plot` draws, for a
// result written earlier (the mean NLL panel uses the result's "history").

#include <memory>
#include <string>

#include "betamix/betamix.hpp"
#include "cli/command.hpp"
#include "cli/fit_options.hpp"
#include "cli/result_json.hpp"
#include "io/reader.hpp"
#include "io/writer.hpp"
#include "plot_svg.hpp"

namespace betamix::cli {
namespace {

struct PlotArgs {
  std::string model, file, output;
  InputCli input;
  std::string on_boundary = "reject";
  double eps = FitOptions{}.boundary_eps;
  int bins = 60;
};

int run_plot(const PlotArgs& a) {
  if (io::file_extension(a.output) != ".svg" && !io::is_stream_path(a.output)) {
    throw InputError(a.output + ": plot writes SVG; use a file name ending in .svg");
  }
  check_writable(a.output, "-o", {a.model, a.file, a.input.weights_file});
  const ModelFile model = read_model_json(a.model);
  const InputData data = read_input(a.file, a.input, parse_boundary(a.on_boundary), a.eps);
  detail::PlotData plot;
  plot.x = data.samples.values.data();
  plot.weights = data.weights_or_null();
  plot.n = data.samples.values.size();
  plot.params = model.params;
  plot.history = model.history;
  plot.result_nll = model.mean_nll;
  plot.title = data.samples.source;
  plot.bins = a.bins;
  write_text(a.output, detail::plot_svg(plot));
  return kExitOk;
}

}  // namespace

void add_plot_command(CLI::App& app, CommandList& commands) {
  auto args = std::make_shared<PlotArgs>();
  CLI::App* sub = app.add_subcommand(
      "plot",
      "Draw a fitted mixture over the samples in FILE as a self-contained SVG: the density\n"
      "histogram of the data with the mixture and its weighted components, and the mean NLL\n"
      "per iteration from the result's history.\n"
      "Example: betamix plot --model result.json data.npy -o fit.svg");
  add_model_and_samples(sub, args->model, args->file);
  sub->add_option("-o,--output", args->output, "the SVG file to write")->required();
  sub->add_option("--bins", args->bins, "histogram bins on [0, 1]")
      ->check(whole_number_in(1, 100000))
      ->capture_default_str();
  args->input.add(sub, true, "the histogram counts each sample with its weight");
  add_boundary_options(sub, args->on_boundary, args->eps);
  commands.push_back({sub, [args] { return run_plot(*args); }});
}

}  // namespace betamix::cli
