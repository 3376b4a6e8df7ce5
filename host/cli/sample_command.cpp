// `betamix sample`: draws samples of a mixture into a file.

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <optional>
#include <vector>

#include "betamix/betamix.hpp"
#include "cli/command.hpp"
#include "cli/draw_pieces.hpp"
#include "cli/fit_options.hpp"
#include "cli/result_json.hpp"
#include "io/writer.hpp"

namespace betamix::cli {
namespace {

struct SampleArgs {
  std::string weights, alpha, beta;  // comma-separated lists, given once each
  std::string model;                 // a result file of `fit`, instead of the three lists
  std::size_t n = 0;
  std::uint64_t seed = 0;
  std::string output;
  std::string dtype;
  std::string device = "cpu";
  bool quiet = false;
};

// Values drawn and written per piece, so that the output never has to fit in memory (32 MB
// of float64); sample_range() makes the pieces the values of one draw.
constexpr std::size_t kPiece = std::size_t{1} << 22;

// Draws into the output on `requested` (auto resolved once, by sample_device(), so that one
// file is one device's draw; a GPU failure under auto starts it again on the CPU). Returns
// how many of the values came from the GPU.
template <class Real>
std::size_t draw_into(const SampleArgs& a, const MixtureParams& p, io::Dtype dtype,
                      Device requested) {
  const Device device = sample_device(p, requested);
  CountLine progress(a.quiet, a.n);  // on a terminal, how far a long draw has come
  const DrawnPieces drawn = draw_pieces<Real>(
      a.output, dtype, a.n, kPiece, device, requested == Device::Auto,
      [&](std::uint64_t first, std::size_t len, Device on, Real* out) {
        sample_range(p, first, len, a.seed, out, on);
      },
      [&](const DeviceError& e, std::size_t first, bool restarted) {
        progress.clear();
        std::cerr << "betamix: note: the GPU sampler failed at sample " << first << " (" << e.what()
                  << "); "
                  << (restarted ? "drawing every sample on the CPU instead\n"
                                : "the samples from there on come from the CPU\n");
      },
      [&](std::size_t done) { progress.update(done); });
  return drawn.gpu_values;
}

// The mixture to draw from: the model file's, or the one given by the three lists.
MixtureParams mixture(const SampleArgs& a) {
  if (!a.model.empty()) return read_params_json(a.model).normalized();
  if (a.weights.empty() || a.alpha.empty() || a.beta.empty()) {
    throw InputError(
        "sample: give the mixture as --weights, --alpha and --beta, or as --model "
        "result.json");
  }
  MixtureParams p{parse_number_list("--weights", a.weights), parse_number_list("--alpha", a.alpha),
                  parse_number_list("--beta", a.beta)};
  p.validate();
  double sum = 0.0;
  for (double w : p.weights) sum += w;
  if (std::abs(sum - 1.0) > 1e-12 && !a.quiet) {
    std::cerr << "betamix: note: the weights sum to ";
    if (std::isfinite(sum)) {
      std::cerr << sum;
    } else {
      std::cerr << "more than a double holds";
    }
    std::cerr << "; normalised to sum to 1\n";
  }
  return p.normalized();
}

int run_sample(const SampleArgs& a) {
  check_writable(a.output, "-o", {a.model});
  const MixtureParams p = mixture(a);
  std::optional<io::Dtype> requested;
  if (!a.dtype.empty()) requested = io::parse_dtype(a.dtype);
  const io::Dtype dtype = io::dtype_for_path(a.output, requested);
  const Device device = parse_device(a.device);
  if (device == Device::Cuda) {
    // An empty draw on the GPU: the library's device check, before anything is written, also
    // for -n 0 (which draws nothing below).
    sample_range(p, 0, 0, a.seed, static_cast<double*>(nullptr), Device::Cuda);
  }
  const std::size_t gpu = dtype == io::Dtype::Float32 ? draw_into<float>(a, p, dtype, device)
                                                      : draw_into<double>(a, p, dtype, device);
  if (!a.quiet) {
    std::string where;
    if (a.n > 0) {
      where = gpu == a.n ? "; drawn on the GPU"
              : gpu == 0
                  ? "; drawn on the CPU"
                  : "; the first " + std::to_string(gpu) + " drawn on the GPU, the rest on the CPU";
    }
    std::cerr << "betamix: wrote " << a.n << (dtype == io::Dtype::Float32 ? " float32" : " float64")
              << " samples to " << a.output << " (seed " << a.seed << where << ")\n";
  }
  return kExitOk;
}

}  // namespace

void add_sample_command(CLI::App& app, CommandList& commands) {
  auto args = std::make_shared<SampleArgs>();
  CLI::App* sub = app.add_subcommand(
      "sample",
      "Draw samples from a Beta mixture into a file. The same seed gives the same values on\n"
      "the same device (cpu by default); the GPU draws the same random streams, so its values\n"
      "agree with the CPU's up to rounding, not bit for bit. float32 output is drawn in float32\n"
      "arithmetic: its own sequence, not the float64 values rounded.\n"
      "Example: betamix sample --weights 0.5,0.5 --alpha 10,1.5 --beta 1.5,10 -n 1000000 -o "
      "data.npy\n"
      "         betamix sample --model result.json -n 1000000 -o simulated.npy  (from a fit)");
  CLI::Option* weights = sub->add_option(
      "--weights", args->weights, "mixing weights, comma-separated (normalised to sum to 1)");
  CLI::Option* alpha = sub->add_option("--alpha", args->alpha,
                                       "first shape of each component, comma-separated, > 0");
  CLI::Option* beta =
      sub->add_option("--beta", args->beta, "second shape of each component, comma-separated, > 0");
  sub->add_option("--model", args->model,
                  "draw from the mixture of a result file written by `fit` instead of --weights, "
                  "--alpha and --beta")
      ->excludes(weights)
      ->excludes(alpha)
      ->excludes(beta);
  sub->add_option("-n", args->n, "number of samples")->check(whole_number())->required();
  sub->add_option("--seed", args->seed, "seed of the Philox generator")
      ->check(whole_number())
      ->capture_default_str();
  sub->add_option("-o,--output", args->output,
                  "output file; the extension picks the format: .npy, .txt (one value per line, "
                  "round-trip precision), .f32 or .f64 (raw little-endian); - writes text to "
                  "standard output")
      ->required();
  sub->add_option("--dtype", args->dtype, "float32 or float64 (default float64; .f32/.f64 fix it)")
      ->check(CLI::IsMember({"float32", "float64"}));
  sub->add_option("--device", args->device,
                  "where to draw: cpu, cuda or auto (the GPU when one is visible; if it fails "
                  "part-way, a file is drawn again on the CPU, standard output goes on there)")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}))
      ->capture_default_str();
  sub->add_flag("-q,--quiet", args->quiet, "print nothing but errors");
  commands.push_back({sub, [args] { return run_sample(*args); }});
}

}  // namespace betamix::cli
