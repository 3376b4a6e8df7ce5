#pragma once
// Command-line options shared by the commands that fit (`fit`, `demo`, `crosscheck`).

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "betamix/options.hpp"
#include "betamix/result.hpp"
#include "io/reader.hpp"
#include "io/writer.hpp"

namespace betamix::cli {

/// The fit options as typed on the command line.
struct FitCli {
  std::string method = "adam";
  double lr = FitOptions{}.learning_rate;
  int max_iter = FitOptions{}.max_iterations;
  double tol = FitOptions{}.tolerance;
  std::uint64_t seed = 0;
  std::string init = "quantile";
  std::string init_from;
  std::string device = "auto";
  std::string on_boundary = "reject";
  double eps = FitOptions{}.boundary_eps;
  int restarts = 1;
  int threads = 0;
  /// Set by add(): whether --lr was given (it is refused with EM and SQUAREM, which ignore it).
  const CLI::Option* lr_option = nullptr;

  /// Adds the options to `app`; `with_device` = false leaves out --device.
  void add(CLI::App* app, bool with_device = true);
  /// The library options for `k` components (reads --init-from when given); `k_option` names
  /// the option that sets K in messages, empty where the command fixes it (demo).
  FitOptions options(int k, const std::string& k_option = "-k") const;
};

/// Where the samples and their case weights come from, as typed on the command line; shared
/// by every command that reads data (fit, predict, score, plot).
struct InputCli {
  std::string format = "auto";
  std::string column;
  std::string weights_file;
  std::string weight_column;

  /// Adds --format, --column and, with `with_weights`, --weights-file and --weight-column, whose
  /// help ends with `weights_effect`: what the weights do in this command.
  void add(CLI::App* app, bool with_weights = true, const std::string& weights_effect = "");
};

/// Samples and case weights read and checked the same way by every command.
struct InputData {
  io::Samples samples;
  std::vector<double> weights;  ///< empty: every sample weighs 1
  std::string weights_source;   ///< where the weights came from, for messages

  const double* weights_or_null() const { return weights.empty() ? nullptr : weights.data(); }
  /// Sum of the case weights (the number of samples without them).
  double total_weight() const;
};

/// Values per chunk that the commands read at a time.
inline constexpr std::size_t kReadChunk = std::size_t{1} << 20;

/// The samples of `file` and the case weights `in` names, read together chunk by chunk with
/// every check of read_input() (the streaming form behind it, for predict and score).
class InputStream {
 public:
  /// Opens the inputs (InputError when both would come from standard input). Samples and weights
  /// from two columns of a CSV on standard input are read from a copy of it in the temporary
  /// directory, made here.
  InputStream(const std::string& file, const InputCli& in, BoundaryPolicy policy, double eps);

  /// Appends the next samples, at most `max`, to `x` and, with case weights, as many weights to
  /// `w`; returns how many, 0 at the end. InputError when the inputs hold different numbers of
  /// values (once the longer one has been read to its end, to name both counts).
  std::size_t next(std::size_t max, std::vector<double>& x, std::vector<double>& w);

  bool weighted() const { return weights_.has_value(); }
  const std::string& source() const { return samples_->source(); }
  /// Where the weights come from, for messages ("" without case weights).
  const std::string& weights_source() const { return weights_source_; }
  /// Samples read so far, and how many of them were clamped.
  std::size_t count() const { return samples_->count(); }
  std::size_t n_clamped() const { return samples_->n_clamped(); }
  /// The number of samples, where the format tells it before they are read (.npy, raw).
  std::optional<std::size_t> expected_count() const { return samples_->expected_count(); }

 private:
  std::unique_ptr<io::ScratchFile> stdin_copy_;  // declared first: destroyed after the readers
  std::optional<io::ChunkReader> samples_, weights_;
  std::string weights_source_;
};

/// Reads the samples of `file` and the case weights `in` names (InputError when there are not
/// exactly as many weights as samples, or when both would come from standard input).
InputData read_input(const std::string& file, const InputCli& in, BoundaryPolicy policy,
                     double eps);

/// Adds --on-boundary and --eps.
void add_boundary_options(CLI::App* app, std::string& on_boundary, double& eps);

/// Adds --model, the result JSON a command reads its mixture from (required).
void add_model_option(CLI::App* app, std::string& model);

/// Adds --model and the positional FILE of samples (both required).
void add_model_and_samples(CLI::App* app, std::string& model, std::string& file);

/// Adds --device (auto, cpu or cuda).
void add_device_option(CLI::App* app, std::string& device);

/// Adds --threads (CPU threads, 0: all cores).
void add_threads_option(CLI::App* app, int& threads);

/// Option checks with plain messages (CLI11's own print the range of a double in 309 digits,
/// and read "-5" into an unsigned option as 2^64 - 5): a finite number above 0; a finite
/// number, 0 or more; a whole number from 0 to 2^64 - 1, digits only.
CLI::Validator positive_number();
CLI::Validator non_negative_number();
/// A finite number above `bound`.
CLI::Validator number_above(double bound);
CLI::Validator whole_number();
/// A whole number from `lo` to `hi` (0 <= lo <= hi), digits only.
CLI::Validator whole_number_in(long long lo, long long hi);

/// Parses a comma-separated list of finite numbers given to `option` ("--alpha"); InputError
/// naming the option and the item for an empty item or one that is not a finite number.
std::vector<double> parse_number_list(const std::string& option, const std::string& text);

/// Parses --on-boundary.
BoundaryPolicy parse_boundary(const std::string& name);

/// Most values of K that one `fit -k` selects among.
inline constexpr int kMaxKCount = 1000;

/// Parses "-k": a number, a range "1:6" or a list "2,3,5" of at most kMaxKCount values
/// (InputError otherwise).
std::vector<int> parse_k_list(const std::string& text);

/// Parses --device.
Device parse_device(const std::string& name);

/// The summary of a fit for humans (stderr): status, likelihood and a table of components.
/// `truth`, when given, adds the true parameters beside the estimates.
std::string summary(const FitResult& r, const std::string& source, const MixtureParams* truth);

/// `value` with `decimals` digits after the point; from 1e9 in magnitude on, where fixed point
/// would run to hundreds of digits, in scientific notation with as many (also inf and nan), and
/// below what `decimals` digits show (but not 0) in scientific notation with 2 fewer.
std::string fixed(double value, int decimals);

/// The standard errors and 95 % intervals for humans (stderr), or why there are none.
std::string standard_error_summary(const FitResult& r);

/// A progress callback that redraws one line on stderr when stderr is a terminal, or an empty
/// function when it is not (or `quiet`).
std::function<void(const Progress&)> progress_line(bool quiet);

/// Clears the progress line, if one was drawn.
void end_progress_line(bool quiet);

/// For the commands that stream samples (sample, predict, score): on a terminal, unless
/// `quiet`, one line on stderr with the samples done so far (and the share of `total`, when it
/// is known, i.e. not 0), first drawn 0.2 s after the start and redrawn at most every 0.2 s,
/// so that short runs print nothing; cleared when the object goes (also on an error).
class CountLine {
 public:
  explicit CountLine(bool quiet, std::size_t total = 0);
  CountLine(const CountLine&) = delete;
  CountLine& operator=(const CountLine&) = delete;
  ~CountLine();

  void update(std::size_t done);
  /// Erases the line if one is shown (before another message goes to the terminal).
  void clear();

 private:
  bool on_;
  bool drawn_ = false;
  std::size_t total_;
  std::chrono::steady_clock::time_point shown_;
};

}  // namespace betamix::cli
