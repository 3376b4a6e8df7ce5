#pragma once
// The fit result as JSON (the `fit` command's output) and parameters read back from it.

#include <limits>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "betamix/params.hpp"
#include "betamix/result.hpp"

namespace betamix::cli {

/// Every field of the result, components sorted by mean.
nlohmann::json to_json(const FitResult& result);

/// A result file written by `fit`, as the commands that use a fitted model read it.
struct ModelFile {
  MixtureParams params;
  std::vector<double> history;  ///< mean NLL per iteration; empty when the file has none
  double mean_nll = std::numeric_limits<double>::quiet_NaN();  ///< NaN when the file has none
};

/// How far from 1 the weights of a model file may sum (a hand-written file's rounding, such as
/// 0.33333 three times); beyond it the file is refused.
constexpr double kModelWeightSumSlack = 1e-5;

/// Reads a result file written by `fit`: the parameters as read_params_json() does, and the
/// optional "history".
ModelFile read_model_json(const std::string& path);

/// Reads the mixture parameters (weights, alpha, beta) of a result file written by `fit`;
/// throws InputError naming the file and the field on any problem, weights summing to other
/// than 1 included.
MixtureParams read_params_json(const std::string& path);

/// Appends `value` in the shortest text that reads back to the same double.
void append_number(std::string& out, double value);

/// Writes `text` to `path`, or to stdout when path is empty or "-"; throws Error on failure.
void write_text(const std::string& path, const std::string& text);

/// `j` as indented JSON text. Strings that are not valid UTF-8 (a file name in another
/// encoding) have each bad byte replaced by U+FFFD rather than failing the output.
std::string dump_json(const nlohmann::json& j);

/// Throws InputError (naming `option` and the reason) unless a file could be written at `path`
/// (empty or "-": stdout): its directory exists and is writable, and the path is not a
/// directory or a read-only file, nor one of the command's `inputs` (the same file, also through
/// a link or another name: writing it would destroy what the output is computed from).
/// Commands call it before long work, so that a result is not computed only to be lost.
/// Creates nothing.
void check_writable(const std::string& path, const std::string& option,
                    const std::vector<std::string>& inputs = {});

/// "-", /dev/stdout or another name of file descriptor 1.
bool is_standard_output(const std::string& path);

/// Throws InputError when two of a command's outputs (option, path) name the same file (also
/// through a link or another name), or both standard output: the later one would replace or
/// mix into the earlier. Empty paths (no such output) are skipped.
void check_distinct_outputs(const std::vector<std::pair<std::string, std::string>>& outputs);

}  // namespace betamix::cli
