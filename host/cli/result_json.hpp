#pragma once
// The fit result as JSON (the `fit` command's output) and parameters read back from it.

#include <string>

#include <nlohmann/json.hpp>

#include "betamix/params.hpp"
#include "betamix/result.hpp"

namespace betamix::cli {

/// Every field of the result, components sorted by mean.
nlohmann::json to_json(const FitResult& result);

/// Reads the mixture parameters (weights, alpha, beta) of a result file written by `fit`;
/// throws InputError naming the file and the field on any problem.
MixtureParams read_params_json(const std::string& path);

/// Writes `text` to `path`, or to stdout when path is empty or "-"; throws Error on failure.
void write_text(const std::string& path, const std::string& text);

}  // namespace betamix::cli
