#include "cli/model_stream.hpp"

namespace betamix::cli {

void ModelStreamCli::add(CLI::App* app, const std::string& output_help,
                         const std::string& weights_effect) {
  add_model_and_samples(app, model, file);
  app->add_option("-o,--output", output, output_help);
  input.add(app, !weights_effect.empty(), weights_effect);
  add_boundary_options(app, on_boundary, eps);
  add_device_option(app, device);
  add_threads_option(app, threads);
  app->add_flag("-q,--quiet", quiet, "print nothing but errors on stderr");
}

ModelBackend::ModelBackend(const MixtureParams& model, const ModelStreamCli& cli)
    : device_(parse_device(cli.device)), threads_(cli.threads) {
  const int k = static_cast<int>(model.k());
  backend = detail::make_backend(device_, threads_, &note, k);
  constants.resize(1, k);
  constants.set(0, model);
}

void ModelBackend::load(const double* x, const double* weights, std::size_t n) {
  detail::load_or_fall_back(backend, device_, threads_, &note, x, weights, n);
}

}  // namespace betamix::cli
