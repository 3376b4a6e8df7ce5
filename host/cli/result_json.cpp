#include "cli/result_json.hpp"

#include <fstream>
#include <iostream>

#include "betamix/error.hpp"

namespace betamix::cli {

nlohmann::json to_json(const FitResult& r) {
  nlohmann::json j;
  j["k"] = r.params.k();
  j["n"] = r.n;
  j["weights"] = r.params.weights;
  j["alpha"] = r.params.alpha;
  j["beta"] = r.params.beta;
  j["log_likelihood"] = r.log_likelihood;
  j["mean_nll"] = r.mean_nll;
  j["iterations"] = r.iterations;
  j["converged"] = r.converged;
  j["status"] = to_string(r.status);
  if (!r.status_detail.empty()) j["status_detail"] = r.status_detail;
  j["method"] = to_string(r.method);
  j["device"] = r.device;
  j["device_name"] = r.device_name;
  j["seed"] = r.seed;
  j["seconds"] = r.seconds;
  j["n_clamped"] = r.n_clamped;
  j["n_parameters"] = r.n_parameters();
  j["aic"] = r.aic;
  j["bic"] = r.bic;
  j["restarts"] = {{"count", r.start_log_likelihoods.size()},
                   {"best_start", r.best_start},
                   {"log_likelihoods", r.start_log_likelihoods},
                   {"reached_best", r.starts_at_best}};
  j["history"] = r.history;
  return j;
}

MixtureParams read_params_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(path + ": cannot open the model file");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    throw InputError(path + ": not valid JSON (byte " + std::to_string(e.byte) + ")");
  }
  // A result with a K selection table stores the selected fit at the top level too.
  MixtureParams p;
  for (const char* key : {"weights", "alpha", "beta"}) {
    if (!j.contains(key) || !j[key].is_array()) {
      throw InputError(path + ": field \"" + key + "\" is missing or not a list");
    }
    std::vector<double> values;
    for (const auto& v : j[key]) {
      if (!v.is_number()) throw InputError(path + ": field \"" + key + "\" holds a non-number");
      values.push_back(v.get<double>());
    }
    (key[0] == 'w' ? p.weights : key[0] == 'a' ? p.alpha : p.beta) = std::move(values);
  }
  try {
    p.validate();
  } catch (const InputError& e) {
    throw InputError(path + ": " + e.what());
  }
  return p;
}

void write_text(const std::string& path, const std::string& text) {
  if (path.empty() || path == "-") {
    std::cout << text;
    std::cout.flush();
    return;
  }
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  if (!out) throw Error(path + ": cannot write the file");
}

}  // namespace betamix::cli
