#include "cli/result_json.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include "betamix/error.hpp"
#include "io/writer.hpp"

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
  j["icl"] = r.icl;
  j["restarts"] = {{"count", r.start_log_likelihoods.size()},
                   {"best_start", r.best_start},
                   {"log_likelihoods", r.start_log_likelihoods},
                   {"reached_best", r.starts_at_best}};
  j["history"] = r.history;
  if (r.se) {
    const StandardErrors& e = *r.se;
    if (e.available) {
      const auto pairs = [](const std::vector<double>& lo, const std::vector<double>& hi) {
        nlohmann::json a = nlohmann::json::array();
        for (std::size_t i = 0; i < lo.size(); ++i) a.push_back({lo[i], hi[i]});
        return a;
      };
      j["se"] = {{"weights", e.se.weights}, {"alpha", e.se.alpha}, {"beta", e.se.beta}};
      j["ci95"] = {{"weights", pairs(e.ci95_lower.weights, e.ci95_upper.weights)},
                   {"alpha", pairs(e.ci95_lower.alpha, e.ci95_upper.alpha)},
                   {"beta", pairs(e.ci95_lower.beta, e.ci95_upper.beta)}};
      const std::size_t dim = 3 * r.params.k() - 1;
      nlohmann::json rows = nlohmann::json::array();
      for (std::size_t i = 0; i < dim; ++i) {
        rows.push_back(std::vector<double>(e.covariance.begin() + i * dim,
                                           e.covariance.begin() + (i + 1) * dim));
      }
      j["covariance"] = {{"order", "alpha_1..K, beta_1..K, weights_1..K-1"}, {"matrix", rows}};
      j["se_distance_to_maximum"] = e.distance_to_maximum;
      if (!e.note.empty()) j["se_note"] = e.note;
    } else {
      j["se"] = nullptr;
      j["ci95"] = nullptr;
      j["se_reason"] = e.reason;
    }
  }
  return j;
}

MixtureParams read_params_json(const std::string& path) { return read_model_json(path).params; }

ModelFile read_model_json(const std::string& path) {
  if (path == "-") {
    throw InputError(
        "-: a model is read from a file, not from standard input (which may hold "
        "the data)");
  }
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw InputError(path + ": is a directory, not a model file");
  }
  std::ifstream in(path);
  if (!in) throw InputError(path + ": cannot open the model file");
  nlohmann::json j;
  // JSON leaves a repeated key to the reader (nlohmann keeps the last): in a model it means
  // an edit gone wrong, so it is refused rather than half-read.
  std::vector<std::set<std::string>> keys;
  std::string repeated;
  const nlohmann::json::parser_callback_t no_repeats = [&](int, nlohmann::json::parse_event_t event,
                                                           nlohmann::json& parsed) {
    if (event == nlohmann::json::parse_event_t::object_start) keys.emplace_back();
    if (event == nlohmann::json::parse_event_t::object_end && !keys.empty()) keys.pop_back();
    if (event == nlohmann::json::parse_event_t::key && !keys.empty() &&
        !keys.back().insert(parsed.get<std::string>()).second && repeated.empty()) {
      repeated = parsed.get<std::string>();
    }
    return true;
  };
  try {
    j = nlohmann::json::parse(in, no_repeats);
  } catch (const nlohmann::json::parse_error& e) {
    throw InputError(path + ": not valid JSON (byte " + std::to_string(e.byte) + ")");
  } catch (const nlohmann::json::out_of_range&) {
    throw InputError(path + ": holds a number beyond the range of a double (such as 1e999)");
  } catch (const nlohmann::json::exception& e) {
    throw InputError(path + ": not a readable JSON model (" + e.what() + ")");
  } catch (const std::ios_base::failure& e) {
    throw InputError(path + ": cannot read the model file (" + e.what() + ")");
  }
  if (!repeated.empty()) {
    throw InputError(path + ": the key \"" + repeated + "\" appears twice in one object; keep one");
  }
  if (!j.is_object()) throw InputError(path + ": not a model: expected a JSON object");
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
  // A fitted model's weights sum to 1 up to rounding; any other sum is an edited or foreign
  // file whose meaning is unclear, so it is refused rather than silently rescaled.
  double sum = 0.0;
  for (double w : p.weights) sum += w;
  if (std::abs(sum - 1.0) > kModelWeightSumSlack) {
    std::string text;
    append_number(text, sum);
    throw InputError(path + ": the weights sum to " + text + ", not 1");
  }
  // "k" is written by fit; where present it must say what the lists say.
  if (j.contains("k")) {
    const nlohmann::json& k = j["k"];
    // 2.0 is the count 2 as another JSON writer may spell it.
    const bool agrees = k.is_number_unsigned()
                            ? k.get<std::uint64_t>() == p.k()
                            : k.is_number_float() && k.get<double>() == static_cast<double>(p.k());
    if (!agrees) {
      throw InputError(path + ": field \"k\" is " + k.dump() + ", but the lists hold " +
                       std::to_string(p.k()) + " components");
    }
  }
  ModelFile model;
  model.params = std::move(p);
  if (j.contains("history") && !j["history"].is_array()) {
    throw InputError(path + ": field \"history\" is not a list");
  }
  if (j.contains("history")) {
    for (const auto& v : j["history"]) {
      if (!v.is_number()) throw InputError(path + ": field \"history\" holds a non-number");
      model.history.push_back(v.get<double>());
    }
  }
  // null is how JSON writes a value that is not finite: the mean NLL is then not known.
  if (j.contains("mean_nll") && !j["mean_nll"].is_null()) {
    if (!j["mean_nll"].is_number()) throw InputError(path + ": field \"mean_nll\" is not a number");
    model.mean_nll = j["mean_nll"].get<double>();
  }
  return model;
}

void append_number(std::string& out, double value) {
  char buf[32];  // the longest shortest-form double has 24 characters
  out.append(buf, std::to_chars(buf, buf + sizeof buf, value).ptr);
}

void check_writable(const std::string& path, const std::string& option,
                    const std::vector<std::string>& inputs) {
  if (path.empty() || path == "-") return;
  namespace fs = std::filesystem;
  const auto fail = [&](const std::string& why) {
    throw InputError(option + " " + path + ": cannot write: " + why);
  };
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (fs::is_directory(st)) fail("it is a directory");
  if (fs::exists(st)) {
    for (const std::string& input : inputs) {
      if (input.empty() || input == "-") continue;
      std::error_code same_ec;
      if (fs::equivalent(path, input, same_ec)) fail("it is the input " + input);
    }
    if (::access(path.c_str(), W_OK) != 0) fail(std::strerror(errno));
    return;
  }
  const fs::path parent = fs::path(path).parent_path();
  const std::string dir = parent.empty() ? "." : parent.string();
  const fs::file_status dir_status = fs::status(dir, ec);
  if (fs::exists(dir_status) && !fs::is_directory(dir_status)) fail(dir + " is not a directory");
  if (!fs::is_directory(dir_status)) fail("no directory " + dir);
  if (::access(dir.c_str(), W_OK) != 0) fail("directory " + dir + ": " + std::strerror(errno));
  // access() can pass where creating fails (/proc, some network file systems, root's view of
  // permissions): create and remove an empty file there, before the work.
  const std::string probe = (fs::path(dir) / ("." + fs::path(path).filename().string() +
                                              ".betamix-probe-" + std::to_string(::getpid())))
                                .string();
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno != EEXIST) fail(std::strerror(errno));
    return;
  }
  ::close(fd);
  ::unlink(probe.c_str());
}

bool is_standard_output(const std::string& path) {
  return path == "-" || path == "/dev/stdout" || path == "/dev/fd/1" || path == "/proc/self/fd/1";
}

void check_distinct_outputs(const std::vector<std::pair<std::string, std::string>>& outputs) {
  namespace fs = std::filesystem;
  const auto same = [](const std::string& a, const std::string& b) {
    std::error_code ec_a, ec_b, ec;
    if (fs::exists(a, ec) && fs::exists(b, ec) && fs::equivalent(a, b, ec)) return true;
    const fs::path pa = fs::weakly_canonical(fs::absolute(a, ec_a), ec_a);
    const fs::path pb = fs::weakly_canonical(fs::absolute(b, ec_b), ec_b);
    return !ec_a && !ec_b && pa == pb;
  };
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    for (std::size_t j = i + 1; j < outputs.size(); ++j) {
      const auto& [option_a, a] = outputs[i];
      const auto& [option_b, b] = outputs[j];
      if (a.empty() || b.empty()) continue;
      if (is_standard_output(a) && is_standard_output(b)) {
        throw InputError(option_a + " " + a + " and " + option_b + " " + b +
                         " both write to standard output: give one of them a file");
      }
      if (is_standard_output(a) || is_standard_output(b)) continue;
      if (same(a, b)) {
        throw InputError(option_a + " " + a + " and " + option_b + " " + b +
                         " are the same file: give each output its own name");
      }
    }
  }
}

std::string dump_json(const nlohmann::json& j) {
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

void write_text(const std::string& path, const std::string& text) {
  if (path.empty() || path == "-") {
    std::cout << text;
    std::cout.flush();
    if (!std::cout) throw Error("stdout: write failed: " + std::string(std::strerror(errno)));
    return;
  }
  io::OutputFile out(path);
  out.write(text.data(), text.size());
  out.commit();
}

}  // namespace betamix::cli
