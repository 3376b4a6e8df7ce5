#pragma once
// Reading samples and case weights for `betamix fit`: NumPy .npy, text, CSV, raw little-endian
// float32/float64, or standard input. Every problem is an InputError with a one-line message
// "<file>: <position>: <problem>", where the position is a 1-based line ("line 17"), a line
// and a 1-based CSV column ("line 4, column 2") or a 0-based element index ("index 3").

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "betamix/options.hpp"

namespace betamix::io {

/// Layout of an input file.
enum class Format {
  Auto,  ///< from the extension: .npy, .csv, .f32, .f64; .txt, .dat, any other and stdin: text
  Npy,   ///< NumPy .npy (versions 1-3): '<f4' or '<f8', shape (n,) or (n, 1)
  Text,  ///< one value per line; blank lines and lines starting with '#' are skipped
  Csv,   ///< comma-separated, one column chosen by ReadOptions::column; blank and '#' lines skipped
  F32,   ///< raw little-endian float32, no header
  F64,   ///< raw little-endian float64, no header
};

/// Parses "auto", "npy", "txt", "csv", "f32" or "f64"; throws InputError for anything else.
Format parse_format(const std::string& name);

/// The extension of the file name in `path`, lower-cased, with its dot (".npy"); empty when
/// there is none.
std::string file_extension(const std::string& path);

/// How to read one input.
struct ReadOptions {
  Format format = Format::Auto;
  /// CSV only: a header name, or a 0-based column index written in digits; empty = the first
  /// column. The first row is a header when its selected field is not a number (always when a
  /// name is given). A non-empty column with any other format is an InputError.
  std::string column;
  BoundaryPolicy on_boundary = BoundaryPolicy::Reject;  ///< samples exactly 0 or 1
  double eps = 1e-6;                                    ///< clamp target under Clamp
  /// The input's name in messages and in Samples::source; empty: the path, or "stdin" for "-"
  /// (set to "stdin" where a copy of standard input is read from a file).
  std::string name;
};

/// Samples read from one input, validated to lie in (0,1) after the boundary policy.
struct Samples {
  std::vector<double> values;
  std::size_t n_clamped = 0;  ///< values moved from exactly 0 or 1 under BoundaryPolicy::Clamp
  std::string source;         ///< the path, or "stdin"
};

/// What a ChunkReader reads.
enum class Values {
  Samples,  ///< in (0,1) after the boundary policy
  Weights,  ///< case weights: finite, >= 0, with a positive sum
};

/// Reads one input of any format chunk by chunk, holding only the chunk asked for: the
/// streaming form of read_samples() and read_weights(), with the same checks and messages. A
/// problem is reported when the chunk that holds it is read; under BoundaryPolicy::Reject the
/// chunk with the first exact 0 or 1 reads (and checks) the rest of the input, to count them.
class ChunkReader {
 public:
  /// Opens `path` ("-" = standard input); a header (.npy) is read and checked here.
  ChunkReader(const std::string& path, const ReadOptions& options, Values what);
  ~ChunkReader();
  ChunkReader(ChunkReader&&) noexcept;
  ChunkReader& operator=(ChunkReader&&) noexcept;

  /// Appends the next values, at most `max`, checked (and clamped under Clamp), to `out`, and
  /// returns how many; 0 at the end of the input (after its last checks: no values at all, a
  /// truncated payload, weights that sum to 0).
  std::size_t next(std::size_t max, std::vector<double>& out);
  /// Values delivered so far.
  std::size_t count() const;
  /// Samples moved off 0 or 1 so far (Clamp).
  std::size_t n_clamped() const;
  /// The path, or "stdin".
  const std::string& source() const;
  /// The number of values to reserve for: the count a binary file announces and its size
  /// confirms; from a stream, the count its .npy header announces up to 2^27.
  std::optional<std::size_t> expected_count() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

/// Reads samples from `path` ("-" = standard input, text unless options.format says otherwise).
/// NaN, infinities and values outside [0,1] are InputErrors naming the position; exact 0 or 1
/// follow options.on_boundary.
Samples read_samples(const std::string& path, const ReadOptions& options);

/// values.reserve(n) for the `n` values of `source`; when host memory cannot hold them, a
/// DeviceError naming the source, the count and the bytes needed.
void reserve_values(std::vector<double>& values, std::size_t n, const std::string& source);

/// Reads case weights from `path`, in any format read_samples() reads; every weight must be
/// finite and >= 0 with a positive sum (options.on_boundary and eps are ignored). Samples and
/// weights in two columns of one CSV file are read by two calls that differ only in
/// options.column; standard input can be read only once.
std::vector<double> read_weights(const std::string& path, const ReadOptions& options);

}  // namespace betamix::io
