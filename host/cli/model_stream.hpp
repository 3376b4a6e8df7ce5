#pragma once
// What `predict` and `score` share: a fitted model, the samples to run it over (read in
// chunks, checked as by `fit`), and the backend whose pass runs it.

#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "backend.hpp"
#include "betamix/options.hpp"
#include "betamix/params.hpp"
#include "cli/fit_options.hpp"

namespace betamix::cli {

/// The options of a command that streams FILE through a fitted model.
struct ModelStreamCli {
  std::string model, file, output;
  InputCli input;
  std::string on_boundary = "reject";
  double eps = FitOptions{}.boundary_eps;
  std::string device = "auto";
  int threads = 0;
  bool quiet = false;

  /// Adds --model and FILE, -o (described by output_help), the input options (case weights
  /// only where weights_effect says what they do), the boundary options, --device, --threads
  /// and --quiet, in that order.
  void add(CLI::App* app, const std::string& output_help, const std::string& weights_effect = "");
};

/// A model (read from `--model` by the caller, normalised) as the one start of a pass, and a
/// backend for it, made for the model's K on the device of `--device`; load() may replace it
/// with the CPU's (the note then says why).
struct ModelBackend {
  ModelBackend(const MixtureParams& model, const ModelStreamCli& cli);

  /// backend->load(x, weights, n), falling back as detail::load_or_fall_back does.
  void load(const double* x, const double* weights, std::size_t n);

  std::string note;  ///< why the device is not the one asked for; empty when it is
  std::unique_ptr<detail::Backend> backend;
  detail::PassConstants constants;

 private:
  Device device_;
  int threads_;
};

}  // namespace betamix::cli
