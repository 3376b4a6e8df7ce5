// The readers behind read_samples() and read_weights(). Each format turns its input into a
// vector of doubles plus a PositionFn that says where value i came from; validation (range,
// NaN, boundary policy) is then detail::check_samples / check_case_weights, shared with fit().
//
// Text and CSV are read whole into memory and parsed with std::from_chars: 10^7 lines take a
// fraction of a second, where iostreams take several. Line numbers are kept as runs of
// consecutive lines, so skipped lines cost one entry per gap rather than one per value.
// Binary payloads are read with fread straight into the result (float64) or through a bounded
// chunk (float32), so 10^8 values need little more memory than the result itself.

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
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

#include "betamix/error.hpp"
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

/// The token in double quotes, cut to kMaxQuoted characters, with control bytes escaped so that
/// the message stays on one line.
std::string quote(std::string_view token) {
  std::string out = "\"";
  for (std::size_t i = 0; i < token.size() && i < kMaxQuoted; ++i) {
    const auto c = static_cast<unsigned char>(token[i]);
    if (c < 0x20 || c == 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", c);
      out += escaped;
    } else {
      out += static_cast<char>(c);
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
  fail(source, where() + ": " + quote(token) + " is not a number");
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

/// Values of one input before validation, and where each came from.
struct RawValues {
  std::vector<double> values;
  detail::PositionFn position;
};

/// The name of an input in messages.
std::string source_name(const std::string& path) { return path == "-" ? "stdin" : path; }

/// An open input. `size` is known for regular files only (not for stdin or pipes).
struct Input {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> owned{nullptr, &std::fclose};
  std::FILE* file = nullptr;
  std::string source;
  std::optional<std::uintmax_t> size;
};

Input open_input(const std::string& path) {
  Input in;
  in.source = source_name(path);
  if (path == "-") {
    in.file = stdin;
    return in;
  }
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (std::filesystem::is_directory(status)) fail(path, "cannot read: it is a directory");
  in.owned.reset(std::fopen(path.c_str(), "rb"));
  if (!in.owned) fail(path, "cannot open: " + errno_message());
  in.file = in.owned.get();
  if (std::filesystem::is_regular_file(status)) {
    const auto size = std::filesystem::file_size(path, ec);
    if (!ec) in.size = size;
  }
  return in;
}

[[noreturn]] void fail_read(const Input& in) { fail(in.source, "read error: " + errno_message()); }

[[noreturn]] void fail_empty(const Input& in) {
  fail(in.source, in.size ? "no values: the file is empty" : "no values: the input is empty");
}

std::string read_all(const Input& in) {
  // One byte more than a regular file's size, so that a single fread also sees the end.
  std::string bytes(in.size ? *in.size + 1 : kChunkValues, '\0');
  std::size_t used = 0;
  for (;;) {
    used += std::fread(bytes.data() + used, 1, bytes.size() - used, in.file);
    if (used < bytes.size()) break;
    bytes.resize(2 * bytes.size());
  }
  if (std::ferror(in.file)) fail_read(in);
  bytes.resize(used);
  return bytes;
}

/// Calls fn(line, content) for each line of `text` that holds data, with `content` trimmed of
/// blanks and '\r'. Blank lines, lines starting with '#' and a UTF-8 byte-order mark are skipped.
template <class Fn>
void for_each_data_line(std::string_view text, Fn&& fn) {
  constexpr std::string_view kBom = "\xEF\xBB\xBF";
  if (text.substr(0, kBom.size()) == kBom) text.remove_prefix(kBom.size());
  for (std::size_t line = 1; !text.empty(); ++line) {
    const std::size_t newline = text.find('\n');
    const std::string_view content = trim(text.substr(0, newline));
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    if (!content.empty() && content.front() != '#') fn(line, content);
  }
}

std::string line_position(std::size_t line) { return "line " + std::to_string(line); }

void require_values(const std::vector<double>& values, const std::string& bytes, const Input& in) {
  if (!values.empty()) return;
  if (bytes.empty()) fail_empty(in);
  fail(in.source, "no values: only blank lines and comments");
}

RawValues read_text(const Input& in) {
  const std::string bytes = read_all(in);
  std::vector<double> values;
  LineIndex lines;
  for_each_data_line(bytes, [&](std::size_t line, std::string_view content) {
    values.push_back(parse_number(content, in.source, [&] { return line_position(line); }));
    lines.add(line);
  });
  require_values(values, bytes, in);
  return {std::move(values),
          [lines = std::move(lines)](std::size_t i) { return line_position(lines.line_of(i)); }};
}

// ---- CSV ----------------------------------------------------------------------------------------

/// Splits a CSV row at the commas outside double quotes into its first `max_fields` raw fields
/// (quotes and blanks kept). Returns false when a quote is left open.
bool split_row(std::string_view row, std::size_t max_fields,
               std::vector<std::string_view>& fields) {
  fields.clear();
  bool quoted = false;
  std::size_t begin = 0;
  for (std::size_t i = 0;; ++i) {
    if (i == row.size() || (row[i] == ',' && !quoted)) {
      fields.push_back(row.substr(begin, i - begin));
      if (i == row.size() || fields.size() == max_fields) break;
      begin = i + 1;
    } else if (row[i] == '"') {
      quoted = !quoted;  // "" inside quotes toggles twice
    }
  }
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

RawValues read_csv(const Input& in, const std::string& column) {
  ColumnChoice choice = parse_column(column, in.source);
  const std::string bytes = read_all(in);
  std::vector<double> values;
  LineIndex lines;
  std::vector<std::string_view> fields;
  bool first_row = true;
  for_each_data_line(bytes, [&](std::size_t line, std::string_view row) {
    const bool by_name = first_row && choice.name;
    if (!split_row(row, by_name ? kNoLimit : choice.index + 1, fields))
      fail(in.source, line_position(line) + ": a quoted field is not closed");
    if (std::exchange(first_row, false)) {
      if (by_name) {
        const auto found = std::find_if(fields.begin(), fields.end(), [&](std::string_view f) {
          return header_name(f) == *choice.name;
        });
        if (found == fields.end()) {
          fail(in.source, line_position(line) + ": no column named " + quote(*choice.name) +
                              " in the header (" + list_names(fields) + ")");
        }
        choice.index = static_cast<std::size_t>(found - fields.begin());
        return;
      }
      if (fields.size() > choice.index && !is_number(field_text(fields[choice.index]))) return;
    }
    if (fields.size() <= choice.index) {
      fail(in.source, line_position(line) + ": the row has " + std::to_string(fields.size()) +
                          (fields.size() == 1 ? " field" : " fields") + ", so column " +
                          std::to_string(choice.index + 1) + " is missing");
    }
    values.push_back(parse_number(field_text(fields[choice.index]), in.source,
                                  [&] { return csv_position(line, choice.index); }));
    lines.add(line);
  });
  require_values(values, bytes, in);
  return {std::move(values), [lines = std::move(lines), column = choice.index](std::size_t i) {
            return csv_position(lines.line_of(i), column);
          }};
}

// ---- binary -------------------------------------------------------------------------------------

/// Reads up to `limit` little-endian values stored as T, widened to double, into `out`; stops
/// early at the end of the input. Returns the number of bytes after the last whole value.
template <class T>
std::size_t read_binary(const Input& in, std::size_t limit, std::vector<double>& out) {
  // A size-checked regular file is read by one fread into the result. Streams come in chunks,
  // so a header that promises more than arrives does not allocate it; float32 comes through a
  // bounded buffer so it never needs a full-size float copy beside the doubles.
  const bool whole = std::is_same_v<T, double> && in.size;
  const std::size_t chunk = whole ? limit : std::min(limit, kChunkValues);
  std::vector<T> buffer;
  while (out.size() < limit) {
    const std::size_t want = std::min(chunk, limit - out.size());
    std::size_t got = 0;
    if constexpr (std::is_same_v<T, double>) {
      const std::size_t old = out.size();
      out.resize(old + want);
      got = std::fread(out.data() + old, 1, want * sizeof(T), in.file);
      out.resize(old + got / sizeof(T));
    } else {
      buffer.resize(want);
      got = std::fread(buffer.data(), 1, want * sizeof(T), in.file);
      out.insert(out.end(), buffer.begin(), buffer.begin() + got / sizeof(T));
    }
    if (std::ferror(in.file)) fail_read(in);
    if (got < want * sizeof(T)) return got % sizeof(T);
  }
  return 0;
}

template <class T>
RawValues read_raw(const Input& in) {
  const char* type = sizeof(T) == 4 ? "float32" : "float64";
  const auto incomplete = [&](std::size_t index, std::uintmax_t bytes) {
    fail(in.source, detail::index_position(index) + ": incomplete " + type + " value at the end (" +
                        std::to_string(bytes) + " bytes is not a multiple of " +
                        std::to_string(sizeof(T)) + ")");
  };
  if (in.size && *in.size % sizeof(T) != 0) incomplete(*in.size / sizeof(T), *in.size);
  std::vector<double> values;
  const std::size_t trailing =
      read_binary<T>(in, in.size ? *in.size / sizeof(T) : kNoLimit, values);
  if (trailing != 0) incomplete(values.size(), values.size() * sizeof(T) + trailing);
  if (values.empty()) fail_empty(in);
  return {std::move(values), detail::index_position};
}

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
      while (!accept(end)) {
        v.items.push_back(value());
        if (!accept(',')) {
          expect(end);
          break;
        }
      }
      --depth_;
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
  if (dtype == "<f4" || dtype == "<f8") {
    layout.float64 = dtype == "<f8";
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
RawValues read_npy_payload(const Input& in, const NpyLayout& layout, std::size_t header_bytes) {
  const auto truncated = [&](std::size_t got) {
    fail(in.source, detail::index_position(got) + ": the payload ends after " +
                        std::to_string(got) + " of the " + std::to_string(layout.count) +
                        " values of shape " + layout.shape);
  };
  const auto extra = [&] {
    fail(in.source, detail::index_position(layout.count) + ": data after the last of the " +
                        std::to_string(layout.count) + " values of shape " + layout.shape);
  };
  if (in.size) {
    const std::uintmax_t payload = *in.size - header_bytes;
    if (payload < layout.count * sizeof(T)) truncated(payload / sizeof(T));
    if (payload > layout.count * sizeof(T)) extra();
  }
  std::vector<double> values;
  read_binary<T>(in, layout.count, values);
  if (values.size() < layout.count) truncated(values.size());
  if (std::fgetc(in.file) != EOF) extra();
  return {std::move(values), detail::index_position};
}

RawValues read_npy(const Input& in) {
  // Preamble: "\x93NUMPY", major and minor version, then the header length (uint16 in version
  // 1.0, uint32 in 2.0 and 3.0), little-endian.
  constexpr std::string_view kMagic = "\x93NUMPY";
  unsigned char preamble[12];
  const std::size_t got = std::fread(preamble, 1, 8, in.file);
  if (std::ferror(in.file)) fail_read(in);
  if (got == 0) fail_empty(in);
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
  const NpyLayout layout = parse_npy_header(header, in.source);
  const std::size_t header_bytes = 8 + length_bytes + length;
  return layout.float64 ? read_npy_payload<double>(in, layout, header_bytes)
                        : read_npy_payload<float>(in, layout, header_bytes);
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

RawValues read_raw_values(const std::string& path, const ReadOptions& options) {
  const Format format = resolve_format(path, options.format);
  if (format != Format::Csv && !options.column.empty()) {
    fail(source_name(path),
         "a column (" + quote(options.column) + ") can be selected in CSV input only");
  }
  const Input in = open_input(path);
  switch (format) {
    case Format::Npy:
      return read_npy(in);
    case Format::Csv:
      return read_csv(in, options.column);
    case Format::F32:
      return read_raw<float>(in);
    case Format::F64:
      return read_raw<double>(in);
    case Format::Text:
    case Format::Auto:  // resolve_format() never returns Auto
      break;
  }
  return read_text(in);
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

Samples read_samples(const std::string& path, const ReadOptions& options) {
  RawValues raw = read_raw_values(path, options);
  Samples samples;
  samples.source = source_name(path);
  samples.n_clamped =
      detail::check_samples(raw.values.data(), raw.values.size(), options.on_boundary, options.eps,
                            samples.source, raw.position);
  samples.values = std::move(raw.values);
  return samples;
}

std::vector<double> read_weights(const std::string& path, const ReadOptions& options) {
  RawValues raw = read_raw_values(path, options);
  detail::check_case_weights(raw.values.data(), raw.values.size(), source_name(path), raw.position);
  return std::move(raw.values);
}

}  // namespace betamix::io
