// The writers behind write_samples(). Text uses std::to_chars' shortest round-trip form, which
// reads back to the identical float32/float64 and is several times faster than printf.

#include "io/writer.hpp"

#include <algorithm>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "betamix/error.hpp"
#include "host_memory.hpp"
#include "io/reader.hpp"

namespace betamix::io {
namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the binary writers copy values without swapping bytes to little-endian");

enum class Target { Npy, Text, F32, F64, Stdout };

Target target_for(const std::string& path) {
  if (path == "-") return Target::Stdout;
  const std::string ext = file_extension(path);
  if (ext == ".npy") return Target::Npy;
  if (ext == ".txt") return Target::Text;
  if (ext == ".f32") return Target::F32;
  if (ext == ".f64") return Target::F64;
  if (is_stream_path(path)) return Target::Stdout;  // /dev/stdout, a FIFO: text
  const std::string name = std::filesystem::path(path).filename().string();
  if (ext.empty() && name.size() > 1 && name[0] == '.' && name.find('.', 1) == std::string::npos) {
    throw InputError(path + ": \"" + name +
                     "\" is a hidden file's whole name, without an extension; name the file "
                     "like x" +
                     name);
  }
  throw InputError(path + ": cannot write " +
                   (ext.empty() ? "files without an extension" : "'" + ext + "' files") +
                   "; use .npy, .txt, .f32, .f64 or - for standard output");
}

const char* dtype_name(Dtype dtype) { return dtype == Dtype::Float32 ? "float32" : "float64"; }

template <class T>
void write_text(OutputFile& out, const T* x, std::size_t n) {
  // The longest shortest-form double, "-2.2250738585072014e-308", has 24 characters.
  constexpr std::size_t kMaxValueChars = 32;
  std::vector<char> buffer(std::size_t{1} << 16);
  std::size_t used = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (buffer.size() - used < kMaxValueChars) {
      out.write(buffer.data(), used);
      used = 0;
    }
    used = static_cast<std::size_t>(
        std::to_chars(buffer.data() + used, buffer.data() + buffer.size(), x[i]).ptr -
        buffer.data());
    buffer[used++] = '\n';
  }
  out.write(buffer.data(), used);
}

// A name for the temporary file beside `target` that no other writer uses: hidden, with the
// process id and a counter.
std::filesystem::path temporary_beside(const std::filesystem::path& target) {
  static std::atomic<unsigned> counter{0};
  const std::string name = "." + target.filename().string() + ".betamix-" +
                           std::to_string(::getpid()) + "-" + std::to_string(counter++);
  return target.parent_path() / name;
}

// The temporary files of this process, for a handler that removes them when SIGINT, SIGTERM or
// SIGHUP ends it (unlink() may be called in a handler; nothing else here allocates or locks),
// and then lets the signal end the process as it would have. Installed only where the signal
// still has its default action, so that a program's own handlers stay.
constexpr int kTrackedFiles = 16;
struct TrackedFile {
  std::atomic<bool> used{false};
  char path[4096];
};
TrackedFile g_tracked[kTrackedFiles];

extern "C" void remove_temporaries(int sig) {
  for (TrackedFile& t : g_tracked) {
    if (t.used.load(std::memory_order_acquire)) ::unlink(t.path);
  }
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  ::sigaction(sig, &dfl, nullptr);
  ::raise(sig);
}

void install_removal_handlers() {
  static const bool installed = [] {
    for (const int sig : {SIGINT, SIGTERM, SIGHUP}) {
      struct sigaction old {};
      if (::sigaction(sig, nullptr, &old) != 0 || old.sa_handler != SIG_DFL) continue;
      struct sigaction act {};
      act.sa_handler = remove_temporaries;
      sigemptyset(&act.sa_mask);
      ::sigaction(sig, &act, nullptr);
    }
    return true;
  }();
  static_cast<void>(installed);
}

// The slot that now holds `path`, or -1 (all in use, or a path too long to keep).
int track(const std::string& path) {
  install_removal_handlers();
  if (path.size() >= sizeof(TrackedFile::path)) return -1;
  for (int i = 0; i < kTrackedFiles; ++i) {
    if (g_tracked[i].used.load(std::memory_order_relaxed)) continue;
    std::memcpy(g_tracked[i].path, path.c_str(), path.size() + 1);
    g_tracked[i].used.store(true, std::memory_order_release);
    return i;
  }
  return -1;
}

void untrack(int& slot) {
  if (slot >= 0) g_tracked[slot].used.store(false, std::memory_order_release);
  slot = -1;
}

// An unnamed file in directory `dir` (Linux's O_TMPFILE), opened for `access` with
// permissions `mode`: it can be given a name later by linkat() through /proc/self/fd, and until
// then no kill, however hard, leaves anything behind. -1 where the file system or the kernel
// cannot, or /proc is not mounted, or BETAMIX_NAMED_TEMPORARIES=1 asks for named ones (what
// file systems without unnamed files get, for tests); the caller then takes a named temporary
// file.
int open_unnamed(const std::filesystem::path& dir, int access, mode_t mode) {
#ifdef O_TMPFILE
  const char* named = std::getenv("BETAMIX_NAMED_TEMPORARIES");
  if (named && std::string(named) == "1") return -1;
  if (::access("/proc/self/fd", X_OK) != 0) return -1;
  return ::open(dir.c_str(), O_TMPFILE | access | O_CLOEXEC, mode);
#else
  static_cast<void>(dir);
  static_cast<void>(access);
  static_cast<void>(mode);
  return -1;
#endif
}
}  // namespace

OutputFile::OutputFile(const std::string& path) : path_(path) {
  if (path == "-") {
    file_ = stdout;
    return;
  }
  namespace fs = std::filesystem;
  std::error_code status_ec, link_ec, ec;
  const fs::file_status st = fs::status(path, status_ec);  // through a link
  const bool missing = !fs::exists(fs::symlink_status(path, link_ec));
  if ((fs::is_regular_file(st) && !is_stream_path(path)) || missing) {
    // A link to a file: the file it names is replaced, and the link stays.
    const fs::path target = missing ? fs::path(path) : fs::canonical(path, ec);
    if (!ec) {
      target_ = target.string();
      const int fd =
          open_unnamed(target.has_parent_path() ? target.parent_path() : ".", O_WRONLY, 0666);
      if (fd >= 0) {
        if (!missing) static_cast<void>(::fchmod(fd, static_cast<mode_t>(st.permissions())));
        file_ = ::fdopen(fd, "wb");
        if (file_) {
          unnamed_ = true;
        } else {
          ::close(fd);
        }
      }
      for (int attempt = 0; attempt < 16 && !file_; ++attempt) {
        const fs::path temporary = temporary_beside(target);
        const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0) {
          if (errno == EEXIST) continue;
          break;  // e.g. a directory without write permission: write in place below
        }
        if (!missing) static_cast<void>(::fchmod(fd, static_cast<mode_t>(st.permissions())));
        file_ = ::fdopen(fd, "wb");
        if (!file_) {
          ::close(fd);
          fs::remove(temporary, ec);
          break;
        }
        temporary_ = temporary.string();
        tracked_ = track(temporary_);
      }
    }
  }
  // A device or a FIFO, or no other way. Appending, not truncating: /dev/stdout sent to a file
  // by the shell holds what the shell has written there already.
  if (!file_) file_ = std::fopen(path.c_str(), is_stream_path(path) ? "ab" : "wb");
  if (!file_) {
    throw InputError(path + ": cannot create: " + std::generic_category().message(errno));
  }
}

OutputFile::~OutputFile() { discard(); }

void OutputFile::write(const void* data, std::size_t bytes) {
  if (bytes > 0 && std::fwrite(data, 1, bytes, file_) != bytes) fail(errno);
}

void OutputFile::commit() {
  if (unnamed_) name_unnamed();
  std::FILE* file = std::exchange(file_, nullptr);
  if ((file == stdout ? std::fflush(file) : std::fclose(file)) != 0) fail(errno);
  if (!temporary_.empty()) {
    if (std::rename(temporary_.c_str(), target_.c_str()) != 0) fail(errno);
    untrack(tracked_);
    temporary_.clear();
  }
}

void OutputFile::name_unnamed() {
  // What stdio holds goes into the file first: the link names the file as it is.
  if (std::fflush(file_) != 0) fail(errno);
  const std::string self = "/proc/self/fd/" + std::to_string(::fileno(file_));
  for (int attempt = 0; attempt < 16; ++attempt) {
    const std::filesystem::path temporary = temporary_beside(target_);
    if (::linkat(AT_FDCWD, self.c_str(), AT_FDCWD, temporary.c_str(), AT_SYMLINK_FOLLOW) == 0) {
      unnamed_ = false;
      temporary_ = temporary.string();
      tracked_ = track(temporary_);
      return;
    }
    if (errno != EEXIST) fail(errno);
  }
  fail(EEXIST);
}

void OutputFile::fail(int error) {
  discard();
  throw Error(path_ + ": write failed: " + std::generic_category().message(error));
}

void OutputFile::discard() noexcept {
  if (file_ && file_ != stdout) std::fclose(file_);  // an unnamed file goes with it
  file_ = nullptr;
  unnamed_ = false;
  std::error_code ec;
  if (!temporary_.empty()) std::filesystem::remove(temporary_, ec);
  untrack(tracked_);
  temporary_.clear();
}

bool is_stream_path(const std::string& path) {
  std::error_code ec;
  const std::filesystem::file_status st = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(st) || std::filesystem::is_directory(st)) return false;
  // /dev/stdout is a link to the shell's redirection target, which may be a regular file: that
  // must be written through, not replaced.
  return !std::filesystem::is_regular_file(st) || path.rfind("/dev/", 0) == 0;
}

ScratchFile::ScratchFile(const std::string& purpose) {
  const char* tmpdir = std::getenv("TMPDIR");  // unset or empty: /tmp
  const std::filesystem::path dir = tmpdir && *tmpdir ? tmpdir : "/tmp";
  // An unnamed file where the file system takes one (nothing to remove, whatever ends the
  // process), opened again through /proc by whoever reads it; else a named one.
  fd_ = open_unnamed(dir, O_RDWR, 0600);
  if (fd_ >= 0) {
    path_ = "/proc/self/fd/" + std::to_string(fd_);
    name_ = (dir / ("(an unnamed file for " + purpose + ")")).string();
    return;
  }
  std::string name = (dir / ("betamix-" + purpose + "-XXXXXX")).string();
  fd_ = ::mkstemp(name.data());
  if (fd_ < 0) {
    throw Error(dir.string() + ": cannot create a temporary file: " +
                std::generic_category().message(errno) + " (TMPDIR chooses the directory)");
  }
  path_ = name_ = name;
  named_ = true;
  tracked_ = track(path_);
}

ScratchFile::~ScratchFile() {
  ::close(fd_);
  if (named_) ::unlink(path_.c_str());
  untrack(tracked_);
}

std::uintmax_t ScratchFile::copy_from(std::FILE* in, const std::string& in_name) {
  std::vector<char> buffer(std::size_t{1} << 20);
  std::uintmax_t total = 0;
  for (;;) {
    const std::size_t got = std::fread(buffer.data(), 1, buffer.size(), in);
    for (std::size_t done = 0; done < got;) {
      const ssize_t put = ::write(fd_, buffer.data() + done, got - done);
      if (put < 0 && errno == EINTR) continue;
      if (put <= 0) {
        throw Error(name_ + ": cannot keep a copy of " + in_name + ": " +
                    std::generic_category().message(put < 0 ? errno : ENOSPC) +
                    " (TMPDIR chooses the directory)");
      }
      done += static_cast<std::size_t>(put);
    }
    total += got;
    if (got < buffer.size()) {  // the end, or an error
      if (std::ferror(in)) {    // bad input, as the readers say of it; only the copy is ours
        throw InputError(in_name + ": read error: " + std::generic_category().message(errno));
      }
      return total;
    }
  }
}

std::string npy_header(const std::string& descr, const std::string& shape, std::size_t min_bytes) {
  std::string dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  constexpr std::size_t kPreamble = 10;  // magic, version, uint16 header length
  const std::size_t unpadded = kPreamble + dict.size() + 1;
  const std::size_t total = std::max((unpadded + 63) / 64 * 64, (min_bytes + 63) / 64 * 64);
  dict.append(total - unpadded, ' ');
  dict += '\n';
  std::string header("\x93NUMPY\x01\x00", 8);
  header += static_cast<char>(dict.size() & 0xff);
  header += static_cast<char>(dict.size() >> 8);
  return header + dict;
}

// An InputError when the file system that will hold `path` has less room than `bytes` (`at_least`:
// a lower bound on what the output takes), before anything is drawn or written. Where the free
// space cannot be read, nothing is checked.
void check_free_space(const std::string& path, double bytes, bool at_least) {
  std::error_code ec;
  const std::filesystem::path dir = std::filesystem::absolute(path, ec).parent_path();
  if (ec) return;
  const std::filesystem::space_info space = std::filesystem::space(dir, ec);
  if (ec || static_cast<double>(space.available) >= bytes) return;
  const bool huge = !(bytes < 0x1p63);
  const std::string need =
      huge ? detail::format_bytes(SIZE_MAX) : detail::format_bytes(static_cast<std::size_t>(bytes));
  throw InputError(path + ": the output needs " +
                   (huge       ? "more than "
                    : at_least ? "at least "
                               : "") +
                   need + ", but its file system has " + detail::format_bytes(space.available) +
                   " free; write it elsewhere, or draw fewer samples");
}

struct SampleWriter::State {
  State(const std::string& path, Target target, Dtype dtype, std::size_t n)
      : path(path), target(target), dtype(dtype), n(n), out(path) {}
  std::string path;
  Target target;
  Dtype dtype;
  std::size_t n;
  std::size_t written = 0;
  bool finished = false;
  OutputFile out;
};

SampleWriter::SampleWriter(const std::string& path, Dtype dtype, std::size_t n) {
  const Target target = target_for(path);
  const Dtype other = dtype == Dtype::Float32 ? Dtype::Float64 : Dtype::Float32;
  if (target == (other == Dtype::Float32 ? Target::F32 : Target::F64)) {
    throw InputError(path + ": a " + file_extension(path) + " file cannot hold " +
                     dtype_name(dtype) + " values");
  }
  state_ = std::make_unique<State>(path, target, dtype, n);
  std::string header;
  if (target == Target::Npy) {
    header = npy_header(dtype == Dtype::Float32 ? "<f4" : "<f8", "(" + std::to_string(n) + ",)");
  }
  if (target != Target::Stdout && state_->out.staged()) {
    // A binary output's size is known; a text value takes at least 4 bytes ("0.5\n").
    const bool text = target == Target::Text;
    const double per_value = text ? 4.0 : (dtype == Dtype::Float32 ? 4.0 : 8.0);
    check_free_space(path, static_cast<double>(header.size()) + per_value * n, text);
  }
  if (!header.empty()) state_->out.write(header.data(), header.size());
}

SampleWriter::~SampleWriter() = default;
SampleWriter::SampleWriter(SampleWriter&&) noexcept = default;
SampleWriter& SampleWriter::operator=(SampleWriter&&) noexcept = default;

template <class T>
void SampleWriter::append(const T* x, std::size_t count) {
  const Dtype dtype = std::is_same_v<T, float> ? Dtype::Float32 : Dtype::Float64;
  if (!state_ || state_->finished) throw Error("write to a finished or failed SampleWriter");
  State& s = *state_;
  if (dtype != s.dtype) {
    throw Error(s.path + ": writing " + dtype_name(dtype) + " values to a " + dtype_name(s.dtype) +
                " output");
  }
  if (count > s.n - s.written) {
    throw Error(s.path + ": more than the " + std::to_string(s.n) + " values announced");
  }
  try {
    if (s.target == Target::Text || s.target == Target::Stdout) {
      write_text(s.out, x, count);
    } else {
      s.out.write(x, count * sizeof(T));
    }
  } catch (...) {
    state_.reset();  // the partial file is gone already; nothing more can be written
    throw;
  }
  s.written += count;
}

void SampleWriter::write(const float* x, std::size_t count) { append(x, count); }
void SampleWriter::write(const double* x, std::size_t count) { append(x, count); }

std::size_t SampleWriter::written() const { return state_ ? state_->written : 0; }

bool SampleWriter::staged() const { return state_ && state_->out.staged(); }

void SampleWriter::finish() {
  if (!state_ || state_->finished) throw Error("finish of a finished or failed SampleWriter");
  if (state_->written != state_->n) {
    const std::string message = state_->path + ": " + std::to_string(state_->written) + " of " +
                                std::to_string(state_->n) + " values were written";
    state_.reset();  // removes the partial file
    throw Error(message);
  }
  try {
    state_->out.commit();
  } catch (...) {
    state_.reset();
    throw;
  }
  state_->finished = true;
}

void write_samples(const std::string& path, const float* x, std::size_t n) {
  SampleWriter out(path, Dtype::Float32, n);
  out.write(x, n);
  out.finish();
}

void write_samples(const std::string& path, const double* x, std::size_t n) {
  SampleWriter out(path, Dtype::Float64, n);
  out.write(x, n);
  out.finish();
}

Dtype parse_dtype(const std::string& name) {
  if (name == "float32" || name == "f32") return Dtype::Float32;
  if (name == "float64" || name == "f64") return Dtype::Float64;
  throw InputError("unknown dtype \"" + name + "\" (expected float32 or float64)");
}

Dtype dtype_for_path(const std::string& path, std::optional<Dtype> requested) {
  const Target target = target_for(path);
  if (target != Target::F32 && target != Target::F64) return requested.value_or(Dtype::Float64);
  const Dtype fixed = target == Target::F32 ? Dtype::Float32 : Dtype::Float64;
  if (requested && *requested != fixed) {
    throw InputError(path + ": dtype " + dtype_name(*requested) + " conflicts with the " +
                     file_extension(path) + " extension, which holds " + dtype_name(fixed));
  }
  return fixed;
}

}  // namespace betamix::io
