#pragma once
// Writing samples for `betamix sample`, in a format chosen by the output's extension:
//   .npy        NumPy array of shape (n,), '<f4' or '<f8' after the values' type
//   .txt        one value per line, shortest text that reads back to the same float32/float64
//   .f32, .f64  raw little-endian values; the extension fixes the type
//   -           text on standard output
// Any other extension is an InputError listing these.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

namespace betamix::io {

/// True for an existing path that is neither a regular file nor a directory (following links),
/// or that lies under /dev/: /dev/stdout (also when the shell sends it to a file), a FIFO, a
/// terminal. Such an output is written in place, in a command's text format whatever its name.
bool is_stream_path(const std::string& path);

/// Precision of written samples.
enum class Dtype { Float32, Float64 };

/// Parses "float32"/"f32" or "float64"/"f64"; throws InputError for anything else.
Dtype parse_dtype(const std::string& name);

/// The type to write to `path`: .f32 and .f64 fix it (an InputError when `requested`
/// disagrees), other supported outputs take `requested`, float64 by default. Throws InputError
/// for an unsupported extension, so the output is checked before any work is done.
Dtype dtype_for_path(const std::string& path, std::optional<Dtype> requested);

/// Writes x[0..n) to `path` ("-" = standard output) as float32. Throws InputError for an
/// unsupported extension, for .f64 (use dtype_for_path() to pick the type) and when the file
/// cannot be created; Error when writing fails, after removing the partial file.
void write_samples(const std::string& path, const float* x, std::size_t n);

/// As above, writing float64; a .f32 path is an InputError.
void write_samples(const std::string& path, const double* x, std::size_t n);

/// Writes samples to `path` ("-" = standard output) piece by piece, so that an output larger
/// than memory never has to be held whole: the formats and checks of write_samples(), which
/// are this class used once. `n` is the number of values that will be written (the .npy header
/// announces it); finish() checks that exactly that many came and closes the file. A writer
/// destroyed before finish() succeeded, or whose write failed, removes the partial file.
class SampleWriter {
 public:
  /// Checks the path (extension, `dtype` against .f32/.f64) and creates the file; throws
  /// InputError as write_samples() does.
  SampleWriter(const std::string& path, Dtype dtype, std::size_t n);
  ~SampleWriter();
  SampleWriter(SampleWriter&&) noexcept;
  SampleWriter& operator=(SampleWriter&&) noexcept;

  /// Appends x[0..count); the writer's dtype must be Float32 (Error otherwise, and when more
  /// than n values would be written or writing fails).
  void write(const float* x, std::size_t count);
  /// As above, for Float64.
  void write(const double* x, std::size_t count);
  /// Values written so far (0 after a failure).
  std::size_t written() const;
  /// True when nothing written is visible at the path yet (a file, or a link to one: see
  /// OutputFile), so that dropping the writer and starting again loses nothing; false for
  /// standard output, a pipe or a device.
  bool staged() const;
  /// Closes the file; Error when fewer than n values were written (and the file is removed).
  void finish();

 private:
  struct State;
  template <class T>
  void append(const T* x, std::size_t count);
  std::unique_ptr<State> state_;  // null once a write or finish() failed
};

/// An output file ("-": standard output) that holds either its complete new contents or what it
/// held before: a regular file (or a new one) is written as an unnamed file in its directory
/// (Linux's O_TMPFILE), which commit() links under a hidden temporary name beside it and renames
/// onto it, so that a failed or interrupted write never leaves a truncated output or destroys an
/// earlier one, and no kill (SIGKILL, the out-of-memory killer) leaves a partial file behind.
/// Where the file system takes no unnamed files, the whole write goes to the hidden temporary
/// name; SIGINT, SIGTERM and SIGHUP (where the program has no handler of its own) remove the
/// temporary files before they end the process, and only a harder kill leaves one behind. A
/// symbolic link to a file is followed: the file is replaced, the link stays. What is not a regular
/// file (/dev/null, a FIFO), or a file whose directory takes no new files, is written in place. Not
/// committed, the temporary file is removed.
class OutputFile {
 public:
  /// Creates the file; InputError naming the path when it cannot.
  explicit OutputFile(const std::string& path);
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  /// Writes bytes; Error "PATH: write failed: REASON" on failure (the temporary file removed).
  void write(const void* data, std::size_t bytes);
  /// Flushes and closes the file and puts it in place; Error as write().
  void commit();
  /// The open stream, for what write() does not do (seeking back to rewrite a header).
  std::FILE* stream() const { return file_; }
  /// True while the output goes to a temporary file: nothing written is visible yet, so the
  /// writer may be dropped and the output started again.
  bool staged() const { return unnamed_ || !temporary_.empty(); }

 private:
  [[noreturn]] void fail(int error);
  void discard() noexcept;
  // Links the unnamed file under a temporary name beside the target (temporary_).
  void name_unnamed();

  std::string path_, temporary_, target_;
  bool unnamed_ = false;  // the file has no name yet (O_TMPFILE)
  std::FILE* file_ = nullptr;
  int tracked_ = -1;  // its slot among the files a signal handler removes
};

/// A file of this process's own in the temporary directory ($TMPDIR, where set and not empty,
/// else /tmp): an unnamed one (O_TMPFILE, read through its /proc/self/fd path), which vanishes
/// however the process ends, or where the file system takes none a named one, removed when the
/// object is destroyed or when SIGINT, SIGTERM or SIGHUP end the process (as OutputFile's
/// temporary files are).
class ScratchFile {
 public:
  /// Creates it, empty, named after `purpose` ("stdin"); Error naming the directory when it
  /// cannot.
  explicit ScratchFile(const std::string& purpose);
  ~ScratchFile();
  ScratchFile(const ScratchFile&) = delete;
  ScratchFile& operator=(const ScratchFile&) = delete;

  /// Copies `in` to the end of the file, up to its end; Error naming the file and the reason
  /// when writing fails (a full disk), InputError naming `in_name` when reading it fails.
  /// Returns the bytes copied.
  std::uintmax_t copy_from(std::FILE* in, const std::string& in_name);
  /// A path that opens the file (for reading: it is this process's own).
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::string name_;  // what messages call it
  bool named_ = false;
  int fd_ = -1;
  int tracked_ = -1;
};

/// The .npy version 1.0 header numpy writes for a little-endian C-order array of type `descr`
/// ("<f8") and `shape` (numpy's text: "(7,)", "(7, 3)"): the dict padded with spaces and a final
/// '\n' so that the data start at a multiple of 64 bytes, and at least `min_bytes` long (room
/// to write it again later with a longer shape, when the length was not known up front).
std::string npy_header(const std::string& descr, const std::string& shape,
                       std::size_t min_bytes = 0);

}  // namespace betamix::io
