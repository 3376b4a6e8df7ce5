// `betamix predict --model result.json FILE`: the posterior probability of each component for
// every sample, and the most likely component, as CSV (default, on stdout) or as an (n, K+1)
// float64 .npy. The samples are read, processed and written in chunks, so neither the input
// nor the output is ever held in memory whole.

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <iostream>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "backend.hpp"
#include "betamix/betamix.hpp"
#include "cli/command.hpp"
#include "cli/fit_options.hpp"
#include "cli/model_stream.hpp"
#include "cli/result_json.hpp"
#include "io/reader.hpp"
#include "io/writer.hpp"

namespace betamix::cli {
namespace {

/// The output file: CSV text or .npy, an io::OutputFile (a failure half-way leaves no partial
/// file, and an earlier file of that name as it was). The number of
/// rows is known only at the end: a .npy header is written with room for any count and
/// written again by commit().
class RowWriter {
 public:
  RowWriter(const std::string& path, std::size_t k)
      : path_(path.empty() ? "-" : path),
        k_(k),
        npy_(io::file_extension(path) == ".npy" && !io::is_stream_path(path)) {
    const std::string ext = io::file_extension(path);
    if (path_ != "-" && ext != ".csv" && ext != ".txt" && ext != ".npy" &&
        !io::is_stream_path(path_)) {
      throw InputError(path + ": cannot write " +
                       (ext.empty() ? "files without an extension" : "'" + ext + "' files") +
                       "; use .csv, .npy or - for CSV on standard output");
    }
    out_.emplace(path_);
    if (npy_) {
      header_bytes_ = io::npy_header("<f8", shape(std::numeric_limits<std::size_t>::max())).size();
      header_ = io::npy_header("<f8", shape(0), header_bytes_);
    } else {
      for (std::size_t j = 0; j < k; ++j) header_ += "p" + std::to_string(j + 1) + ",";
      header_ += "component\n";
    }
  }

  /// Writes the rows of `post` (rows x K posteriors) with their most likely components.
  void rows(const std::vector<double>& post, const std::vector<int>& best) {
    write_header();
    rows_ += best.size();
    if (npy_) {
      std::vector<double> out;
      out.reserve(best.size() * (k_ + 1));
      for (std::size_t i = 0; i < best.size(); ++i) {
        out.insert(out.end(), post.begin() + i * k_, post.begin() + (i + 1) * k_);
        out.push_back(best[i] + 1.0);
      }
      out_->write(out.data(), out.size() * sizeof(double));
      return;
    }
    std::string text;
    for (std::size_t i = 0; i < best.size(); ++i) {
      for (std::size_t j = 0; j < k_; ++j) {
        append_number(text, post[i * k_ + j]);
        text += ',';
      }
      text += std::to_string(best[i] + 1);
      text += '\n';
    }
    out_->write(text.data(), text.size());
  }

  /// Completes the file (the .npy header with the final shape) and puts it in place. Until
  /// then an existing file of that name keeps what it held.
  void commit() {
    write_header();
    if (npy_) {
      const std::string header = io::npy_header("<f8", shape(rows_), header_bytes_);
      if (std::fseek(out_->stream(), 0, SEEK_SET) != 0) {
        throw Error(path_ + ": write failed: " + std::generic_category().message(errno));
      }
      out_->write(header.data(), header.size());
    }
    out_->commit();
  }

 private:
  // The header goes out with the first rows, so that input that fails in its first chunk
  // leaves nothing on standard output.
  void write_header() {
    if (header_.empty()) return;
    out_->write(header_.data(), header_.size());
    header_.clear();
  }
  std::string shape(std::size_t rows) const {
    return "(" + std::to_string(rows) + ", " + std::to_string(k_ + 1) + ")";
  }

  std::string path_;
  std::size_t k_;
  bool npy_ = false;
  std::string header_;  // not yet written
  std::size_t header_bytes_ = 0, rows_ = 0;
  std::optional<io::OutputFile> out_;
};

int run_predict(const ModelStreamCli& a) {
  check_writable(a.output, "-o", {a.model, a.file});
  const MixtureParams params = read_params_json(a.model).normalized();
  InputStream input(a.file, a.input, parse_boundary(a.on_boundary), a.eps);
  const std::size_t k = params.k();
  RowWriter out(a.output, k);
  ModelBackend run(params, a);
  std::vector<double> x, none, post;
  std::vector<int> best;
  {
    // Not when the rows go to a terminal: the line would land among them.
    const bool rows_to_terminal =
        (a.output.empty() || a.output == "-") && isatty(STDOUT_FILENO) != 0;
    CountLine progress(a.quiet || rows_to_terminal);
    while (input.next(kReadChunk, x, none) > 0) {
      run.load(x.data(), nullptr, x.size());
      post.resize(x.size() * k);
      best.resize(x.size());
      run.backend->posteriors(run.constants, post.data(), best.data());
      out.rows(post, best);
      x.clear();
      progress.update(input.count());
    }
  }
  out.commit();
  // Said at the end, so that a bad input gives nothing on stderr but its one-line error.
  if (!a.quiet) {
    std::cerr << "betamix: posteriors of " << input.count() << " samples from " << input.source()
              << " under the model in " << a.model << ", on " << run.backend->name() << " ("
              << run.backend->device_name() << ")"
              << (input.n_clamped() > 0 ? ", " + std::to_string(input.n_clamped()) + " clamped"
                                        : std::string())
              << "\n"
              << (run.note.empty() ? "" : "  note: " + run.note + "\n");
  }
  return kExitOk;
}

}  // namespace

void add_predict_command(CLI::App& app, CommandList& commands) {
  auto args = std::make_shared<ModelStreamCli>();
  CLI::App* sub = app.add_subcommand(
      "predict",
      "Posterior probability of each component of a fitted mixture for every sample in FILE,\n"
      "and the most likely component (numbered 1..K as in the result). Writes CSV rows\n"
      "p1,...,pK,component with a header (stdout by default), or with -o x.npy a float64\n"
      "array of shape (n, K+1), in chunks of 2^20 samples, computed in double precision on the\n"
      "CPU or the GPU. FILE is read and checked exactly as by `fit`.\n"
      "Example: betamix predict --model result.json data.npy -o posteriors.csv");
  args->add(sub, "write here (.csv or .npy) instead of CSV on standard output");
  commands.push_back({sub, [args] { return run_predict(*args); }});
}

}  // namespace betamix::cli
