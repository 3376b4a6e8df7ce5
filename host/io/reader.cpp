// The readers behind ChunkReader, read_samples() and read_weights(). Each format is a
// ValueReader that appends the input's values to a vector, as many as asked at a time, and says
// where value i came from; validation (range, NaN, boundary policy, weights) is then
// detail::scan_samples / scan_case_weights, shared with fit(), chunk by chunk.
//
// Text and CSV are read in blocks of 4 MB and parsed line by line with std::from_chars: 10^7
// lines take a fraction of a second, where iostreams take several. Line numbers are kept as runs
// of consecutive lines, so skipped lines cost one entry per gap rather than one per value.
// Binary payloads are read with fread straight into the result (float64) or through a bounded
// chunk (float32), so 10^8 values need little more memory than the result itself, and a chunk
// of them only the chunk.

#include "io/reader.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

#include "betamix/error.hpp"
#include "host_memory.hpp"
#include "samples.hpp"

namespace betamix::io {
namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the binary readers copy little-endian values without swapping bytes");

constexpr std::size_t kMaxQuoted = 40;                      // longest token quoted in a message
constexpr std::size_t kChunkValues = std::size_t{1} << 20;  // values per fread from a stream
constexpr std::size_t kNoLimit = std::numeric_limits<std::size_t>::max();

[[noreturn]] void fail(const std::string& source, const std::string& problem) {
  throw InputError(source + ": " + problem);
}

std::string errno_message() { return std::generic_category().message(errno); }

// The length of the UTF-8 sequence at text[i] when it is whole and well-formed, else 0.
std::size_t utf8_length(std::string_view text, std::size_t i) {
  const auto c = static_cast<unsigned char>(text[i]);
  const std::size_t len = c >= 0xC2 && c <= 0xDF   ? 2
                          : c >= 0xE0 && c <= 0xEF ? 3
                          : c >= 0xF0 && c <= 0xF4 ? 4
                                                   : 0;
  if (len == 0 || i + len > text.size()) return 0;
  for (std::size_t j = 1; j < len; ++j) {
    if ((static_cast<unsigned char>(text[i + j]) & 0xC0) != 0x80) return 0;
  }
  return len;
}

/// The token in double quotes, cut to about kMaxQuoted characters, with control bytes and
/// bytes that are not UTF-8 escaped (\xff), so that the message stays one readable line.
std::string quote(std::string_view token) {
  std::string out = "\"";
  for (std::size_t i = 0; i < token.size() && i < kMaxQuoted;) {
    const auto c = static_cast<unsigned char>(token[i]);
    const std::size_t len = c >= 0x80 ? utf8_length(token, i) : 1;
    if (c < 0x20 || c == 0x7f || len == 0) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", c);
      out += escaped;
      ++i;
    } else {
      out.append(token.substr(i, len));
      i += len;
    }
  }
  out += token.size() > kMaxQuoted ? "...\"" : "\"";
  return out;
}

std::string_view trim(std::string_view s) {
  constexpr std::string_view kBlank = " \t\r\v\f";
  const auto first = s.find_first_not_of(kBlank);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(kBlank) - first + 1);
}

/// std::from_chars over a whole token, also accepting a leading '+'. "nan", "inf" and "-inf"
/// (any case) parse, so that validation reports them as NaN or infinite rather than as text.
std::from_chars_result parse_double(std::string_view token, double& value) {
  if (token.size() > 1 && token[0] == '+' && token[1] != '+' && token[1] != '-') {
    token.remove_prefix(1);
  }
  return std::from_chars(token.data(), token.data() + token.size(), value);
}

bool is_number(std::string_view token) {
  double ignored = 0.0;
  return !token.empty() && parse_double(token, ignored).ptr == token.data() + token.size();
}

/// Parses a token that must be a number; `where` builds the position, only when it is not.
template <class Where>
double parse_number(std::string_view token, const std::string& source, const Where& where) {
  double value = 0.0;
  const auto [ptr, ec] = parse_double(token, value);
  if (ptr == token.data() + token.size() && ec == std::errc() && !token.empty()) return value;
  if (token.empty()) fail(source, where() + ": empty field, expected a number");
  if (ec == std::errc::result_out_of_range) {
    fail(source, where() + ": " + quote(token) + " is out of the range of a double");
  }
  // Binary data read as text (standard output of a program writing .npy, or raw values).
  const std::string_view npy_magic("\x93NUMPY", 6);
  const std::string hint = token.substr(0, npy_magic.size()) == npy_magic
                               ? " (this is .npy data: give --format npy)"
                               : "";
  fail(source, where() + ": " + quote(token) + " is not a number" + hint);
}

/// Value index -> 1-based line number, stored as runs of consecutive lines.
class LineIndex {
 public:
  /// Records that the next value sits on `line`.
  void add(std::size_t line) {
    const std::size_t i = count_++;
    if (runs_.empty() || line - runs_.back().line != i - runs_.back().first)
      runs_.push_back({i, line});
  }
  std::size_t line_of(std::size_t i) const {
    const auto after = std::upper_bound(runs_.begin(), runs_.end(), i,
                                        [](std::size_t v, const Run& r) { return v < r.first; });
    const Run& run = *(after - 1);  // runs_[0].first == 0 <= i
    return run.line + (i - run.first);
  }

 private:
  struct Run {
    std::size_t first;  // index of the run's first value
    std::size_t line;   // its line
  };
  std::vector<Run> runs_;
  std::size_t count_ = 0;
};

/// The name of an input in messages.
std::string source_name(const std::string& path) { return path == "-" ? "stdin" : path; }

/// The name of an input in messages, as ReadOptions::name says.
std::string source_name(const std::string& path, const ReadOptions& options) {
  return options.name.empty() ? source_name(path) : options.name;
}

/// An open input. `size` is known for regular files only (not for stdin or pipes).
struct Input {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> owned{nullptr, &std::fclose};
  std::FILE* file = nullptr;
  std::string source;
  std::optional<std::uintmax_t> size;
  bool named_file = false;     ///< a file read under its own name (not stdin, nor a copy of it)
  bool empty_by_size = false;  ///< a regular file whose size is 0 (size is then unset)
};

Input open_input(const std::string& path, const std::string& name) {
  Input in;
  in.source = name;
  if (path == "-") {
    in.file = stdin;
    return in;
  }
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (std::filesystem::is_directory(status)) fail(name, "cannot read: it is a directory");
  in.owned.reset(std::fopen(path.c_str(), "rb"));
  if (!in.owned) fail(name, "cannot open: " + errno_message());
  in.file = in.owned.get();
  if (std::filesystem::is_regular_file(status)) {
    // A size of 0 is not trusted: files under /proc and /sys say 0 and still hold data, so
    // they are read as streams; a really empty file is then found empty by reading it.
    const auto size = std::filesystem::file_size(path, ec);
    if (!ec && size > 0) in.size = size;
    in.empty_by_size = !ec && size == 0;
  }
  return in;
}

// fread, in small pieces where the system refuses a large read: files under /proc/sys answer a
// read of megabytes with ENOMEM, though they hold a few bytes.
std::size_t read_bytes(void* dst, std::size_t bytes, std::FILE* file) {
  constexpr std::size_t kSmallRead = std::size_t{1} << 16;
  char* to = static_cast<char*>(dst);
  std::size_t got = std::fread(to, 1, bytes, file);
  if (got == bytes || !std::ferror(file) || errno != ENOMEM || bytes - got <= kSmallRead) {
    return got;
  }
  std::clearerr(file);
  while (got < bytes) {
    const std::size_t ask = std::min(kSmallRead, bytes - got);
    const std::size_t n = std::fread(to + got, 1, ask, file);
    got += n;
    if (n < ask) break;
  }
  return got;
}

[[noreturn]] void fail_read(const Input& in) { fail(in.source, "read error: " + errno_message()); }

[[noreturn]] void fail_empty(const Input& in) {
  fail(in.source, (in.size || in.empty_by_size) && in.named_file ? "no values: the file is empty"
                                                                 : "no values: the input is empty");
}

/// Where value i of an input came from, and its values, as many as asked at a time.
class ValueReader {
 public:
  virtual ~ValueReader() = default;
  /// Appends up to `max` values to `out` and returns how many; 0 only at the end of the input,
  /// after the checks of its end (no values at all, a truncated or overlong payload).
  virtual std::size_t read(std::size_t max, std::vector<double>& out) = 0;
  /// "line 17", "line 4, column 2" or "index 3" for value i (0-based over the whole input).
  virtual std::string position(std::size_t i) const = 0;
  /// The number of values the input announces (binary formats), for reserving memory.
  virtual std::optional<std::size_t> expected_count() const { return std::nullopt; }
};

/// The lines of a text input that hold data, read in blocks: each trimmed of blanks and '\r';
/// blank lines, lines starting with '#' and a UTF-8 byte-order mark are skipped. Lines end in
/// "\n", "\r\n" or, throughout a file written so, a lone '\r'.
class LineSource {
 public:
  explicit LineSource(Input in) : in_(std::move(in)) {}

  /// The next data line and its 1-based number; false at the end. `content` stays valid until
  /// the next call.
  bool next(std::size_t& line, std::string_view& content) {
    for (;;) {
      std::size_t newline = find_end_of_line();
      while (newline == std::string::npos && fill()) newline = find_end_of_line();
      if (newline == std::string::npos && pos_ == buffer_.size()) return false;
      const std::size_t end = newline == std::string::npos ? buffer_.size() : newline;
      std::string_view raw(buffer_.data() + pos_, end - pos_);
      pos_ = newline == std::string::npos ? end : end + 1;
      if (newline != std::string::npos && universal_ && buffer_[newline] == '\r' &&
          pos_ < buffer_.size() && buffer_[pos_] == '\n') {
        ++pos_;  // "\r\n" ends one line
      }
      if (line_++ == 0) {
        constexpr std::string_view kBom = "\xEF\xBB\xBF";
        if (raw.substr(0, kBom.size()) == kBom) raw.remove_prefix(kBom.size());
        const std::string_view head = raw.substr(0, 2);
        if (head == "\xFF\xFE" || head == "\xFE\xFF") {
          fail(in_.source,
               "line 1: the text is UTF-16 (it starts with a UTF-16 byte order mark); "
               "save it as UTF-8 or ASCII");
        }
      }
      content = trim(raw);
      if (!content.empty() && content.front() != '#') {
        line = line_;
        return true;
      }
    }
  }

  const Input& input() const { return in_; }

  /// At the end: the error for an input that gave no values.
  [[noreturn]] void fail_no_values() const {
    if (!read_any_) fail_empty(in_);
    fail(in_.source, "no values: only blank lines and comments");
  }

 private:
  static constexpr std::size_t kBlock = std::size_t{1} << 22;

  // Appends the next block to the unread rest of the buffer; false at the end of the input.
  bool fill() {
    if (eof_) return false;
    buffer_.erase(0, pos_);
    pos_ = 0;
    const std::size_t old = buffer_.size();
    buffer_.resize(old + kBlock);
    const std::size_t got = read_bytes(buffer_.data() + old, kBlock, in_.file);
    buffer_.resize(old + got);
    if (std::ferror(in_.file)) fail_read(in_);
    read_any_ = read_any_ || got > 0;
    eof_ = got < kBlock;
    if (!end_of_line_known_) decide_end_of_line();
    return got > 0;
  }

  // Lines end in '\n', with any '\r's before it (trimmed with the line's blanks): found by one
  // memchr per line. An input whose first line ends in a lone '\r' (written that way, or with
  // mixed endings) is read with universal line ends instead: '\r', '\n' and "\r\n" each end
  // a line, as Python reads text.
  void decide_end_of_line() {
    const std::size_t cr = buffer_.find('\r'), lf = buffer_.find('\n');
    if (cr < lf) {  // also where there is no '\n'
      std::size_t after = cr;
      while (after < buffer_.size() && buffer_[after] == '\r') ++after;
      const bool last = after == buffer_.size();
      if (last && !eof_) return;  // a "\r\n" the block may have split
      universal_ = last || buffer_[after] != '\n';
    } else if (lf == std::string::npos && !eof_) {
      return;  // no line end yet
    }
    end_of_line_known_ = true;
  }

  // The next line end at or after pos_, npos when the buffer holds none (in universal mode
  // also for a '\r' that ends the buffer before the input does: it may start a "\r\n").
  std::size_t find_end_of_line() const {
    if (!universal_) return buffer_.find('\n', pos_);
    const std::size_t at = buffer_.find_first_of("\r\n", pos_);
    if (at != std::string::npos && at + 1 == buffer_.size() && buffer_[at] == '\r' && !eof_) {
      return std::string::npos;
    }
    return at;
  }

  Input in_;
  std::string buffer_;
  std::size_t pos_ = 0, line_ = 0;
  bool eof_ = false, read_any_ = false, end_of_line_known_ = false, universal_ = false;
};

std::string line_position(std::size_t line) { return "line " + std::to_string(line); }

class TextReader final : public ValueReader {
 public:
  explicit TextReader(Input in) : lines_(std::move(in)) {}

  std::size_t read(std::size_t max, std::vector<double>& out) override {
    std::size_t got = 0, line = 0;
    std::string_view content;
    while (got < max && lines_.next(line, content)) {
      out.push_back(
          parse_number(content, lines_.input().source, [&] { return line_position(line); }));
      index_.add(line);
      ++got;
    }
    count_ += got;
    if (count_ == 0) lines_.fail_no_values();
    return got;
  }

  std::string position(std::size_t i) const override { return line_position(index_.line_of(i)); }

 private:
  LineSource lines_;
  LineIndex index_;
  std::size_t count_ = 0;
};

// ---- CSV ----------------------------------------------------------------------------------------

/// Splits a CSV row at the commas outside double quotes into its first `max_fields` raw fields
/// (quotes and blanks kept). Returns false when a quote is left open anywhere in the row, also
/// after the fields taken. `used`, where given, receives the number of fields up to the last
/// one that holds more than blanks, over the whole row (0 for a row of blank fields).
bool split_row(std::string_view row, std::size_t max_fields, std::vector<std::string_view>& fields,
               std::size_t* used = nullptr) {
  fields.clear();
  bool quoted = false;
  std::size_t begin = 0, i = 0, field = 0, last = 0;
  const auto look = [&](char c) {
    if (c == ',' && !quoted) {
      ++field;
    } else if (c != ' ' && c != '\t') {
      last = field + 1;
    }
  };
  for (;; ++i) {
    if (i == row.size() || (row[i] == ',' && !quoted)) {
      fields.push_back(row.substr(begin, i - begin));
      if (i == row.size() || fields.size() == max_fields) break;
      begin = i + 1;
    } else if (row[i] == '"') {
      quoted = !quoted;  // "" inside quotes toggles twice
    }
    look(row[i]);
  }
  for (; i < row.size(); ++i) {
    look(row[i]);
    quoted ^= row[i] == '"';
  }
  if (used) *used = last;
  return !quoted;
}

/// A raw field trimmed and without its enclosing quotes. Doubled quotes inside stay doubled:
/// a field that holds them is not a number anyway.
std::string_view field_text(std::string_view raw) {
  raw = trim(raw);
  if (raw.size() >= 2 && raw.front() == '"' && raw.back() == '"')
    raw = trim(raw.substr(1, raw.size() - 2));
  return raw;
}

/// A field that can name a column: not a number, not empty and not a common missing-value
/// marker (NA, null, ...), which in a row of data says that another column lacks a value, so
/// "0.25,,7" or "0.25,NA" over "0.5,3" is data, not a header.
bool could_be_name(std::string_view field) {
  static constexpr std::string_view kMissing[] = {"NA",   "na",   "N/A",  "n/a", "null", "NULL",
                                                  "Null", "None", "none", "-",   ".",    "?"};
  if (field.empty() || is_number(field)) return false;
  return std::find(std::begin(kMissing), std::end(kMissing), field) == std::end(kMissing);
}

std::string header_name(std::string_view raw) {
  std::string name;
  const std::string_view text = field_text(raw);
  for (std::size_t i = 0; i < text.size(); ++i) {
    name += text[i];
    if (text[i] == '"' && i + 1 < text.size() && text[i + 1] == '"') ++i;
  }
  return name;
}

std::string csv_position(std::size_t line, std::size_t column) {
  return "line " + std::to_string(line) + ", column " + std::to_string(column + 1);
}

/// The selected CSV column: an index, or a header name to look up in the first row.
struct ColumnChoice {
  std::size_t index = 0;
  std::optional<std::string> name;
};

ColumnChoice parse_column(const std::string& column, const std::string& source) {
  ColumnChoice choice;
  if (column.empty()) return choice;
  if (std::all_of(column.begin(), column.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    const auto parsed = std::from_chars(column.data(), column.data() + column.size(), choice.index);
    if (parsed.ec != std::errc() || choice.index == kNoLimit) {
      fail(source, "column index " + column + " is too large");
    }
    return choice;
  }
  choice.name = column;
  return choice;
}

std::string list_names(const std::vector<std::string_view>& fields) {
  constexpr std::size_t kMaxNames = 8;
  std::string out;
  for (std::size_t i = 0; i < fields.size() && i < kMaxNames; ++i) {
    out += (i ? ", " : "") + quote(header_name(fields[i]));
  }
  if (fields.size() > kMaxNames) out += ", ...";
  return out;
}

class CsvReader final : public ValueReader {
 public:
  CsvReader(Input in, const std::string& column)
      : choice_(parse_column(column, in.source)), lines_(std::move(in)) {}

  std::size_t read(std::size_t max, std::vector<double>& out) override {
    const std::string& source = lines_.input().source;
    std::size_t got = 0, line = 0;
    std::string_view row;
    while (got < max) {
      if (held_) {
        held_text_ = std::move(held_->second);
        line = held_->first;
        held_.reset();
        row = held_text_;
      } else if (!lines_.next(line, row)) {
        if (!pending_) break;
        // A one-row input whose row only looked like a header: it is data.
        held_text_ = std::move(pending_->second);
        line = pending_->first;
        pending_.reset();
        row = held_text_;
      } else if (pending_) {
        // The second row decides whether the first was a header: it was where a field that is
        // not a number there ("id") is a number here. Otherwise the first row is data, read
        // now, and this one is held for the next turn.
        const std::pair<std::size_t, std::string> first = std::move(*pending_);
        pending_.reset();
        std::vector<std::string_view> a, b;
        split_row(first.second, kNoLimit, a);
        split_row(row, kNoLimit, b);
        bool header = false;
        for (std::size_t j = 0; j < a.size() && j < b.size(); ++j) {
          header = header || (could_be_name(field_text(a[j])) && is_number(field_text(b[j])));
        }
        header_read_ = header;
        if (!header) {
          held_.emplace(line, std::string(row));
          pending_text_ = first.second;
          line = first.first;
          row = pending_text_;
        }
      }
      const bool by_name = first_row_ && choice_.name;
      std::size_t used = 0;
      if (!split_row(row, by_name ? kNoLimit : choice_.index + 1, fields_, &used))
        fail(source, line_position(line) +
                         ": a quoted field is not closed (fields that span lines are not read)");
      // A row with more fields than the first (not counting empty ones at its end) has most
      // likely a comma too many, which shifts the column: refused rather than read askew.
      if (first_row_) width_ = used;
      if (used > width_) {
        fail(source, line_position(line) + ": the row has " + std::to_string(used) +
                         " fields, the first row " + std::to_string(width_) +
                         " (an unquoted comma inside a field shifts the columns)");
      }
      if (std::exchange(first_row_, false)) {
        if (by_name) {
          const auto found = std::find_if(fields_.begin(), fields_.end(), [&](std::string_view f) {
            return header_name(f) == *choice_.name;
          });
          if (found == fields_.end()) {
            fail(source, line_position(line) + ": no column named " + quote(*choice_.name) +
                             " in the header (" + list_names(fields_) + ")");
          }
          const auto again = std::find_if(found + 1, fields_.end(), [&](std::string_view f) {
            return header_name(f) == *choice_.name;
          });
          if (again != fields_.end()) {
            fail(source, line_position(line) + ": the header names two columns " +
                             quote(*choice_.name) + " (columns " +
                             std::to_string(found - fields_.begin() + 1) + " and " +
                             std::to_string(again - fields_.begin() + 1) +
                             "); select one by its 0-based index");
          }
          choice_.index = static_cast<std::size_t>(found - fields_.begin());
          header_read_ = true;
          continue;
        }
        if (fields_.size() > choice_.index && !is_number(field_text(fields_[choice_.index]))) {
          header_read_ = true;
          continue;
        }
        // The chosen field is a number, another is not ("id,1,0" read at column 1): a header
        // whose names include numbers, or data with a text column; the next row decides.
        std::vector<std::string_view> all;
        split_row(row, kNoLimit, all);
        if (std::any_of(all.begin(), all.end(),
                        [](std::string_view f) { return could_be_name(field_text(f)); })) {
          pending_.emplace(line, std::string(row));
          continue;
        }
      }
      if (fields_.size() <= choice_.index) {
        fail(source, line_position(line) + ": the row has " + std::to_string(fields_.size()) +
                         (fields_.size() == 1 ? " field" : " fields") + ", so column " +
                         std::to_string(choice_.index + 1) + " (index " +
                         std::to_string(choice_.index) + " counted from 0) is missing");
      }
      out.push_back(parse_number(field_text(fields_[choice_.index]), source,
                                 [&] { return csv_position(line, choice_.index); }));
      index_.add(line);
      ++got;
    }
    count_ += got;
    if (count_ == 0 && header_read_) fail(source, "no values: only a header row, no data rows");
    if (count_ == 0) lines_.fail_no_values();
    return got;
  }

  std::string position(std::size_t i) const override {
    return csv_position(index_.line_of(i), choice_.index);
  }

 private:
  ColumnChoice choice_;
  LineSource lines_;
  LineIndex index_;
  std::vector<std::string_view> fields_;
  std::size_t count_ = 0, width_ = 0;
  bool first_row_ = true, header_read_ = false;
  // The first row while the second decides whether it is a header, and a row read ahead to be
  // taken next; the texts that `row` points into meanwhile.
  std::optional<std::pair<std::size_t, std::string>> pending_, held_;
  std::string held_text_, pending_text_;
};

// ---- binary -------------------------------------------------------------------------------------

/// Appends up to `want` little-endian values stored as T, widened to double, to `out`; stops
/// early at the end of the input. Returns the number appended; `trailing` receives the bytes
/// after the last whole value when the input ended.
template <class T>
std::size_t read_binary(const Input& in, std::size_t want, std::vector<double>& out,
                        std::size_t& trailing) {
  // A size-checked regular file's float64 values are read by one fread into the result (the
  // caller never asks for more than the file holds). Streams come in chunks, so a header that
  // promises more than arrives does not allocate it; float32 comes through a bounded buffer so
  // it never needs a full-size float copy beside the doubles.
  const bool whole = std::is_same_v<T, double> && in.size;
  const std::size_t chunk = whole ? want : std::min(want, kChunkValues);
  std::vector<T> buffer;
  std::size_t appended = 0;
  trailing = 0;
  while (appended < want) {
    const std::size_t ask = std::min(chunk, want - appended);
    std::size_t got = 0;
    if constexpr (std::is_same_v<T, double>) {
      const std::size_t old = out.size();
      out.resize(old + ask);
      got = read_bytes(out.data() + old, ask * sizeof(T), in.file);
      out.resize(old + got / sizeof(T));
    } else {
      buffer.resize(ask);
      got = read_bytes(buffer.data(), ask * sizeof(T), in.file);
      out.insert(out.end(), buffer.begin(), buffer.begin() + got / sizeof(T));
    }
    appended += got / sizeof(T);
    if (std::ferror(in.file)) fail_read(in);
    if (got < ask * sizeof(T)) {
      trailing = got % sizeof(T);
      break;
    }
  }
  return appended;
}

template <class T>
class RawReader final : public ValueReader {
 public:
  explicit RawReader(Input in) : in_(std::move(in)) {
    if (in_.size && *in_.size % sizeof(T) != 0) incomplete(*in_.size / sizeof(T), *in_.size);
  }

  std::size_t read(std::size_t max, std::vector<double>& out) override {
    const std::optional<std::size_t> total = expected_count();
    const std::size_t want = total ? std::min(max, *total - count_) : max;
    std::size_t trailing = 0;
    const std::size_t got = want == 0 ? 0 : read_binary<T>(in_, want, out, trailing);
    count_ += got;
    if (trailing != 0) incomplete(count_, count_ * sizeof(T) + trailing);
    if (count_ == 0) fail_empty(in_);
    return got;
  }

  std::string position(std::size_t i) const override { return detail::index_position(i); }

  std::optional<std::size_t> expected_count() const override {
    if (!in_.size) return std::nullopt;
    return static_cast<std::size_t>(*in_.size / sizeof(T));
  }

 private:
  [[noreturn]] void incomplete(std::size_t index, std::uintmax_t bytes) const {
    fail(in_.source, detail::index_position(index) + ": incomplete " +
                         (sizeof(T) == 4 ? "float32" : "float64") + " value at the end (" +
                         std::to_string(bytes) + " bytes is not a multiple of " +
                         std::to_string(sizeof(T)) + ")");
  }

  Input in_;
  std::size_t count_ = 0;
};

// ---- .npy ---------------------------------------------------------------------------------------

/// A Python literal as found in a .npy header: str, True/False/None, int, tuple or list.
struct PyValue {
  enum class Kind { Str, Bool, None, Int, Tuple, List } kind = Kind::None;
  std::string str;
  bool flag = false;
  std::uint64_t integer = 0;
  std::vector<PyValue> items;
};

/// Parses the header dict that numpy writes, e.g.
/// {'descr': '<f8', 'fortran_order': False, 'shape': (7,), }
class NpyHeaderParser {
 public:
  NpyHeaderParser(std::string_view text, const std::string& source)
      : text_(text), source_(source) {}

  std::vector<std::pair<std::string, PyValue>> dict() {
    std::vector<std::pair<std::string, PyValue>> entries;
    expect('{');
    while (!accept('}')) {
      PyValue key = value();
      if (key.kind != PyValue::Kind::Str) error("a dict key is not a string");
      expect(':');
      entries.emplace_back(std::move(key.str), value());
      if (!accept(',')) {
        expect('}');
        break;
      }
    }
    skip_blanks();
    if (pos_ != text_.size()) error("unexpected text after the dict");
    return entries;
  }

 private:
  [[noreturn]] void error(const std::string& what) const {
    fail(source_, "malformed .npy header: " + what + " at byte " + std::to_string(pos_) + " of " +
                      quote(trim(text_)));
  }
  void skip_blanks() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  bool accept(char c) {
    skip_blanks();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!accept(c)) error(std::string("expected '") + c + "'");
  }
  bool accept_word(std::string_view word) {
    skip_blanks();
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  PyValue value() {
    PyValue v;
    skip_blanks();
    if (pos_ == text_.size()) error("unexpected end");
    const char c = text_[pos_];
    if (c == '\'' || c == '"') {
      const std::size_t close = text_.find(c, pos_ + 1);
      if (close == std::string_view::npos) error("a string is not closed");
      v.kind = PyValue::Kind::Str;
      v.str = std::string(text_.substr(pos_ + 1, close - pos_ - 1));
      pos_ = close + 1;
    } else if (c == '(' || c == '[') {
      // A bound on nesting keeps a hostile header from overflowing the stack.
      if (++depth_ > kMaxDepth) error("too deeply nested");
      v.kind = c == '(' ? PyValue::Kind::Tuple : PyValue::Kind::List;
      const char end = c == '(' ? ')' : ']';
      ++pos_;
      bool comma = false;
      while (!accept(end)) {
        v.items.push_back(value());
        if (!accept(',')) {
          expect(end);
          break;
        }
        comma = true;
      }
      --depth_;
      // As in Python, (7) is 7 in parentheses, not a tuple: only (7,) is.
      if (c == '(' && v.items.size() == 1 && !comma) {
        PyValue inner = std::move(v.items.front());
        v = std::move(inner);
      }
    } else if (c >= '0' && c <= '9') {
      const auto [ptr, ec] =
          std::from_chars(text_.data() + pos_, text_.data() + text_.size(), v.integer);
      if (ec != std::errc()) error("an integer is too large");
      v.kind = PyValue::Kind::Int;
      pos_ = static_cast<std::size_t>(ptr - text_.data());
      if (pos_ < text_.size() && text_[pos_] == 'L') ++pos_;  // Python 2 long, e.g. (7L,)
    } else if (accept_word("True")) {
      v.kind = PyValue::Kind::Bool;
      v.flag = true;
    } else if (accept_word("False")) {
      v.kind = PyValue::Kind::Bool;
    } else if (!accept_word("None")) {
      error("unexpected character");
    }
    return v;
  }

  static constexpr int kMaxDepth = 8;
  std::string_view text_;
  const std::string& source_;
  std::size_t pos_ = 0;
  int depth_ = 0;
};

std::string shape_text(const PyValue& shape) {
  std::string out = "(";
  for (std::size_t i = 0; i < shape.items.size(); ++i) {
    out += (i ? ", " : "") + std::to_string(shape.items[i].integer);
  }
  return out + (shape.items.size() == 1 ? ",)" : ")");
}

/// What the header of a supported .npy file says.
struct NpyLayout {
  bool float64 = true;
  std::size_t count = 0;
  std::string shape;
};

const PyValue& header_entry(const std::vector<std::pair<std::string, PyValue>>& entries,
                            const std::string& key, const std::string& source) {
  const auto found =
      std::find_if(entries.rbegin(), entries.rend(), [&](const auto& e) { return e.first == key; });
  if (found == entries.rend()) fail(source, "malformed .npy header: no '" + key + "' key");
  return found->second;
}

void require_kind(const PyValue& v, PyValue::Kind kind, const std::string& key,
                  const std::string& source) {
  if (v.kind != kind) fail(source, "malformed .npy header: '" + key + "' has the wrong type");
}

NpyLayout parse_npy_header(std::string_view text, const std::string& source) {
  const auto entries = NpyHeaderParser(text, source).dict();
  const PyValue& descr = header_entry(entries, "descr", source);
  if (descr.kind == PyValue::Kind::List) {
    fail(source,
         "unsupported dtype: a structured array; betamix reads float32 ('<f4') or "
         "float64 ('<f8') arrays");
  }
  require_kind(descr, PyValue::Kind::Str, "descr", source);
  const PyValue& fortran_order = header_entry(entries, "fortran_order", source);
  require_kind(fortran_order, PyValue::Kind::Bool, "fortran_order", source);
  const PyValue& shape = header_entry(entries, "shape", source);
  require_kind(shape, PyValue::Kind::Tuple, "shape", source);
  for (const PyValue& dim : shape.items) require_kind(dim, PyValue::Kind::Int, "shape", source);
  const std::string& dtype = descr.str;
  const bool fortran = fortran_order.flag;

  NpyLayout layout;
  layout.shape = shape_text(shape);
  // '=' and no byte-order mark mean native order, which numpy takes to be the reader's: on a
  // little-endian machine (every one betamix builds for) the same as '<'.
  const std::string order_free = dtype.size() == 3 && dtype[0] == '=' ? dtype.substr(1)
                                 : dtype.size() == 2                  ? dtype
                                                                      : "";
  if (dtype == "<f4" || dtype == "<f8" || order_free == "f4" || order_free == "f8") {
    layout.float64 = dtype.back() == '8';
  } else if (dtype == ">f4" || dtype == ">f8") {
    fail(source, "unsupported byte order: big-endian '" + dtype +
                     "'; save little-endian data, e.g. x.astype('<f8')");
  } else {
    fail(source, "unsupported dtype '" + dtype +
                     "'; betamix reads float32 ('<f4') or float64 ('<f8'), e.g. x.astype('<f8')");
  }
  // Shapes (n,) and (n, 1) have the same memory layout in C and Fortran order.
  const auto& dims = shape.items;
  if (!(dims.size() == 1 || (dims.size() == 2 && dims[1].integer == 1))) {
    fail(source, std::string("unsupported shape ") + layout.shape +
                     (fortran ? " (Fortran order)" : "") + "; expected (n,) or (n, 1)");
  }
  const std::size_t elem = layout.float64 ? 8 : 4;
  if (dims[0].integer > std::numeric_limits<std::size_t>::max() / elem) {
    fail(source, "shape " + layout.shape + " is too large");
  }
  layout.count = dims[0].integer;
  if (layout.count == 0) fail(source, "no values: shape " + layout.shape);
  return layout;
}

template <class T>
class NpyReader final : public ValueReader {
 public:
  NpyReader(Input in, NpyLayout layout, std::size_t header_bytes)
      : in_(std::move(in)), layout_(std::move(layout)) {
    if (in_.size) {
      const std::uintmax_t payload = *in_.size - header_bytes;
      if (payload < layout_.count * sizeof(T)) truncated(payload / sizeof(T));
      if (payload > layout_.count * sizeof(T)) extra();
    }
  }

  std::size_t read(std::size_t max, std::vector<double>& out) override {
    const std::size_t want = std::min(max, layout_.count - count_);
    std::size_t trailing = 0;
    const std::size_t got = want == 0 ? 0 : read_binary<T>(in_, want, out, trailing);
    count_ += got;
    if (got < want) truncated(count_);
    if (count_ == layout_.count && !checked_end_) {
      checked_end_ = true;
      if (std::fgetc(in_.file) != EOF) extra();
    }
    return got;
  }

  std::string position(std::size_t i) const override { return detail::index_position(i); }
  // A stream's header is a promise the payload may not keep (a truncated copy, a hostile
  // shape): what is reserved for it on trust stays bounded, beyond which the values grow as
  // they arrive, so such input ends as "the payload ends after ..." rather than out of memory.
  std::optional<std::size_t> expected_count() const override {
    constexpr std::size_t kTrustedStreamCount = std::size_t{1} << 27;  // 1 GiB as double
    return in_.size ? layout_.count : std::min(layout_.count, kTrustedStreamCount);
  }

 private:
  [[noreturn]] void truncated(std::size_t got) const {
    fail(in_.source, detail::index_position(got) + ": the payload ends after " +
                         std::to_string(got) + " of the " + std::to_string(layout_.count) +
                         " values of shape " + layout_.shape);
  }
  [[noreturn]] void extra() const {
    fail(in_.source, detail::index_position(layout_.count) + ": data after the last of the " +
                         std::to_string(layout_.count) + " values of shape " + layout_.shape);
  }

  Input in_;
  NpyLayout layout_;
  std::size_t count_ = 0;
  bool checked_end_ = false;
};

std::unique_ptr<ValueReader> open_npy(Input in) {
  // Preamble: "\x93NUMPY", major and minor version, then the header length (uint16 in version
  // 1.0, uint32 in 2.0 and 3.0), little-endian.
  constexpr std::string_view kMagic = "\x93NUMPY";
  unsigned char preamble[12];
  const std::size_t got = std::fread(preamble, 1, 8, in.file);
  if (std::ferror(in.file)) fail_read(in);
  if (got == 0) fail_empty(in);
  if (std::string_view(reinterpret_cast<const char*>(preamble), std::min(got, kMagic.size())) !=
      kMagic.substr(0, std::min(got, kMagic.size()))) {
    fail(in.source, "not a .npy file: bad magic bytes (use --format to read another format)");
  }
  if (got < 8)
    fail(in.source,
         "truncated .npy header: the input ends after " + std::to_string(got) + " bytes");
  if (std::string_view(reinterpret_cast<const char*>(preamble), kMagic.size()) != kMagic) {
    fail(in.source, "not a .npy file: bad magic bytes (use --format to read another format)");
  }
  const int major = preamble[6], minor = preamble[7];
  if (!((major >= 1 && major <= 3) && minor == 0)) {
    fail(in.source, "unsupported .npy version " + std::to_string(major) + "." +
                        std::to_string(minor) + " (betamix reads 1.0, 2.0 and 3.0)");
  }
  const std::size_t length_bytes = major == 1 ? 2 : 4;
  if (std::fread(preamble + 8, 1, length_bytes, in.file) != length_bytes) {
    fail(in.source, "truncated .npy header: the input ends inside the header length");
  }
  std::size_t length = 0;
  for (std::size_t i = 0; i < length_bytes; ++i) length |= std::size_t{preamble[8 + i]} << (8 * i);
  // numpy itself refuses headers over 10000 bytes by default; this bound only stops a corrupt
  // length from allocating gigabytes.
  constexpr std::size_t kMaxHeader = std::size_t{1} << 20;
  if (length > kMaxHeader) {
    fail(in.source,
         "malformed .npy header: its length " + std::to_string(length) + " bytes is implausible");
  }
  std::string header(length, '\0');
  const std::size_t header_got = std::fread(header.data(), 1, length, in.file);
  if (std::ferror(in.file)) fail_read(in);
  if (header_got < length) {
    fail(in.source, "truncated .npy header: " + std::to_string(header_got) + " of " +
                        std::to_string(length) + " bytes");
  }
  NpyLayout layout = parse_npy_header(header, in.source);
  const std::size_t header_bytes = 8 + length_bytes + length;
  if (layout.float64) {
    return std::make_unique<NpyReader<double>>(std::move(in), std::move(layout), header_bytes);
  }
  return std::make_unique<NpyReader<float>>(std::move(in), std::move(layout), header_bytes);
}

// ---- dispatch -----------------------------------------------------------------------------------

Format resolve_format(const std::string& path, Format format) {
  if (format != Format::Auto) return format;
  if (path == "-") return Format::Text;
  const std::string ext = file_extension(path);
  if (ext == ".npy") return Format::Npy;
  if (ext == ".csv") return Format::Csv;
  if (ext == ".f32") return Format::F32;
  if (ext == ".f64") return Format::F64;
  return Format::Text;
}

// Standard input without --format, which has no extension to go by: .npy announces itself by
// its first byte, 0x93, which no text (ASCII or UTF-8) starts with; anything else is text. The
// byte is looked at on the first read, not on opening, which must not wait for input (outputs
// are prepared in between).
class SniffingReader final : public ValueReader {
 public:
  explicit SniffingReader(Input in) : in_(std::move(in)) {}

  std::size_t read(std::size_t max, std::vector<double>& out) override {
    if (!inner_) {
      const int first = std::fgetc(in_.file);
      if (first != EOF) std::ungetc(first, in_.file);
      inner_ =
          first == 0x93 ? open_npy(std::move(in_)) : std::make_unique<TextReader>(std::move(in_));
    }
    return inner_->read(max, out);
  }
  std::string position(std::size_t i) const override {
    return inner_ ? inner_->position(i) : detail::index_position(i);
  }
  std::optional<std::size_t> expected_count() const override {
    return inner_ ? inner_->expected_count() : std::nullopt;
  }

 private:
  Input in_;
  std::unique_ptr<ValueReader> inner_;
};

std::unique_ptr<ValueReader> open_reader(const std::string& path, const ReadOptions& options) {
  const Format format = resolve_format(path, options.format);
  const std::string name = source_name(path, options);
  if (format != Format::Csv && !options.column.empty()) {
    fail(name, "a column (" + quote(options.column) + ") can be selected in CSV input only" +
                   (path == "-" ? std::string("; --format csv reads standard input as CSV") : ""));
  }
  Input in = open_input(path, name);
  in.named_file = path != "-" && options.name.empty();
  if (path == "-" && options.format == Format::Auto) {
    return std::make_unique<SniffingReader>(std::move(in));
  }
  switch (format) {
    case Format::Npy:
      return open_npy(std::move(in));
    case Format::Csv:
      return std::make_unique<CsvReader>(std::move(in), options.column);
    case Format::F32:
      return std::make_unique<RawReader<float>>(std::move(in));
    case Format::F64:
      return std::make_unique<RawReader<double>>(std::move(in));
    case Format::Text:
    case Format::Auto:  // resolve_format() never returns Auto
      break;
  }
  return std::make_unique<TextReader>(std::move(in));
}

}  // namespace

Format parse_format(const std::string& name) {
  if (name == "auto") return Format::Auto;
  if (name == "npy") return Format::Npy;
  if (name == "txt") return Format::Text;
  if (name == "csv") return Format::Csv;
  if (name == "f32") return Format::F32;
  if (name == "f64") return Format::F64;
  throw InputError("unknown input format " + quote(name) +
                   " (expected auto, npy, txt, csv, f32 or f64)");
}

std::string file_extension(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext;
}

struct ChunkReader::State {
  std::unique_ptr<ValueReader> reader;
  ReadOptions options;
  Values what = Values::Samples;
  std::string source;
  std::size_t count = 0, n_clamped = 0;
  double weight_sum = 0.0;
  bool done = false;
};

ChunkReader::ChunkReader(const std::string& path, const ReadOptions& options, Values what)
    : state_(std::make_unique<State>()) {
  if (what == Values::Samples) detail::check_boundary_eps(options.on_boundary, options.eps);
  state_->options = options;
  state_->what = what;
  state_->source = source_name(path, options);
  state_->reader = open_reader(path, options);
}

ChunkReader::~ChunkReader() = default;
ChunkReader::ChunkReader(ChunkReader&&) noexcept = default;
ChunkReader& ChunkReader::operator=(ChunkReader&&) noexcept = default;

std::size_t ChunkReader::next(std::size_t max, std::vector<double>& out) {
  State& st = *state_;
  if (st.done || max == 0) return 0;
  const std::size_t old = out.size(), base = st.count;
  const std::size_t got = st.reader->read(max, out);
  const detail::PositionFn position = [&](std::size_t i) { return st.reader->position(base + i); };
  if (got == 0) {
    st.done = true;
    if (st.what == Values::Weights) detail::check_weight_sum(st.weight_sum, st.source);
    return 0;
  }
  st.count += got;
  double* values = out.data() + old;
  if (st.what == Values::Weights) {
    st.weight_sum += detail::scan_case_weights(values, got, st.source, position);
    return got;
  }
  std::size_t first = 0;
  const std::size_t boundary = detail::scan_samples(values, got, st.source, position, first);
  if (boundary == 0) return got;
  if (st.options.on_boundary == BoundaryPolicy::Clamp) {
    detail::clamp_boundary(values, got, st.options.eps);
    st.n_clamped += boundary;
    return got;
  }
  // Reject: the error names every exact 0 or 1 of the input, as read_samples() does, and any
  // NaN or out-of-range value after them comes first, as there.
  const std::string first_position = st.reader->position(base + first);
  std::size_t total = boundary;
  std::vector<double> rest;
  while (true) {
    rest.clear();
    const std::size_t more_base = st.count;
    const std::size_t more = st.reader->read(kChunkValues, rest);
    if (more == 0) break;
    st.count += more;
    std::size_t ignored = 0;
    total += detail::scan_samples(
        rest.data(), more, st.source,
        [&](std::size_t i) { return st.reader->position(more_base + i); }, ignored);
  }
  st.done = true;
  throw detail::boundary_error(st.source, total, first_position);
}

std::size_t ChunkReader::count() const { return state_->count; }
std::size_t ChunkReader::n_clamped() const { return state_->n_clamped; }
const std::string& ChunkReader::source() const { return state_->source; }

std::optional<std::size_t> ChunkReader::expected_count() const {
  return state_->reader->expected_count();
}

void reserve_values(std::vector<double>& values, std::size_t n, const std::string& source) {
  try {
    values.reserve(n);
  } catch (const std::exception&) {  // bad_alloc, or length_error beyond max_size()
    throw DeviceError(source + ": its " + std::to_string(n) + " values need " +
                      detail::host_allocation_failure(8.0 * static_cast<double>(n), "as double"));
  }
}

namespace {

// Every value of an input, checked chunk by chunk as a ChunkReader delivers them. The count,
// where the input states it, is reserved as soon as it is known: on opening, or after the first
// chunk where the format is only found by reading (a .npy on standard input).
std::vector<double> read_whole(ChunkReader& reader) {
  std::vector<double> values;
  bool reserved = false;
  const auto reserve_known = [&] {
    if (reserved) return;
    if (const std::optional<std::size_t> n = reader.expected_count()) {
      reserve_values(values, *n, reader.source());
      reserved = true;
    }
  };
  reserve_known();
  while (reader.next(kChunkValues, values) > 0) reserve_known();
  return values;
}

}  // namespace

Samples read_samples(const std::string& path, const ReadOptions& options) {
  ChunkReader reader(path, options, Values::Samples);
  Samples samples;
  samples.values = read_whole(reader);
  samples.n_clamped = reader.n_clamped();
  samples.source = reader.source();
  return samples;
}

std::vector<double> read_weights(const std::string& path, const ReadOptions& options) {
  ChunkReader reader(path, options, Values::Weights);
  return read_whole(reader);
}

}  // namespace betamix::io
