// `betamix pdf --model result.json`: the fitted mixture density and each weighted component
// w_k Beta(x; a_k, b_k) on a grid of cell midpoints in (0,1), as CSV.

#include <memory>
#include <string>
#include <vector>

#include "betamix/betamix.hpp"
#include "cli/command.hpp"
#include "cli/fit_options.hpp"
#include "cli/result_json.hpp"
#include "io/reader.hpp"
#include "io/writer.hpp"

namespace betamix::cli {
namespace {

struct PdfArgs {
  std::string model, output;
  int grid = 1000;
};

int run_pdf(const PdfArgs& a) {
  if (!a.output.empty() && a.output != "-" && !io::is_stream_path(a.output)) {
    const std::string ext = io::file_extension(a.output);
    if (ext != ".csv" && ext != ".txt") {
      throw InputError(a.output + ": pdf writes CSV; use a .csv or .txt file, or - for stdout");
    }
  }
  check_writable(a.output, "-o", {a.model});
  const MixtureParams p = read_params_json(a.model).normalized();
  std::vector<double> x(a.grid);
  for (int g = 0; g < a.grid; ++g) x[g] = (g + 0.5) / a.grid;
  const std::vector<double> mixture = pdf(p, x);
  std::vector<std::vector<double>> parts;
  for (std::size_t j = 0; j < p.k(); ++j) {
    parts.push_back(pdf(MixtureParams{{1.0}, {p.alpha[j]}, {p.beta[j]}}, x));
    for (double& v : parts.back()) v *= p.weights[j];
  }
  std::string text = "x,mixture";
  for (std::size_t j = 0; j < p.k(); ++j) text += ",component_" + std::to_string(j + 1);
  text += '\n';
  for (int g = 0; g < a.grid; ++g) {
    append_number(text, x[g]);
    text += ',';
    append_number(text, mixture[g]);
    for (const auto& part : parts) {
      text += ',';
      append_number(text, part[g]);
    }
    text += '\n';
  }
  write_text(a.output, text);
  return kExitOk;
}

}  // namespace

void add_pdf_command(CLI::App& app, CommandList& commands) {
  auto args = std::make_shared<PdfArgs>();
  CLI::App* sub = app.add_subcommand(
      "pdf",
      "The density of a fitted mixture and of each weighted component w_k Beta(x; a_k, b_k) on\n"
      "the grid x = (i + 0.5) / grid, i = 0..grid-1, as CSV with the header\n"
      "x,mixture,component_1,...,component_K (stdout by default).\n"
      "Example: betamix pdf --model result.json --grid 1000 -o density.csv");
  add_model_option(sub, args->model);
  sub->add_option("--grid", args->grid, "number of grid points in (0,1)")
      ->check(whole_number_in(1, 100000000))
      ->capture_default_str();
  sub->add_option("-o,--output", args->output, "write the CSV here instead of stdout");
  commands.push_back({sub, [args] { return run_pdf(*args); }});
}

}  // namespace betamix::cli
