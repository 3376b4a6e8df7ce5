// Tests of the file readers and writers (host/io): round trips through every format and dtype,
// .npy files written by numpy (tests/data/io/make_io_fixtures.py), CSV column selection, text
// layout (CRLF, blank and comment lines), standard input and output, and every kind of bad
// input, whose message must be one line naming the file, the position and the problem.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "betamix/error.hpp"
#include "io/reader.hpp"
#include "io/writer.hpp"
#include "support/scoped_env.hpp"
#include "support/temp_dir.hpp"

namespace betamix::io {
namespace {

namespace fs = std::filesystem;

const std::string kFixtures = std::string(BETAMIX_TEST_DATA_DIR) + "/io/";

/// (i + 0.5) / n, the values of the numpy fixtures.
std::vector<double> grid(std::size_t n) {
  std::vector<double> x(n);
  for (std::size_t i = 0; i < n; ++i)
    x[i] = (static_cast<double>(i) + 0.5) / static_cast<double>(n);
  return x;
}

std::vector<float> to_float(const std::vector<double>& x) { return {x.begin(), x.end()}; }

/// Succeeds when fn throws InputError with a one-line message containing every part.
template <class Fn>
::testing::AssertionResult throws_input_error(Fn&& fn, std::initializer_list<std::string> parts) {
  try {
    fn();
  } catch (const InputError& e) {
    const std::string message = e.what();
    if (message.find('\n') != std::string::npos) {
      return ::testing::AssertionFailure() << "message spans lines: " << message;
    }
    for (const std::string& part : parts) {
      if (message.find(part) == std::string::npos) {
        return ::testing::AssertionFailure() << "\"" << part << "\" not in: " << message;
      }
    }
    return ::testing::AssertionSuccess() << message;
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "not an InputError: " << e.what();
  }
  return ::testing::AssertionFailure() << "nothing thrown";
}

/// Points file descriptor `fd` (0 or 1) at `path` while fn runs.
template <class Fn>
void with_redirected(int fd, const std::string& path, Fn&& fn) {
  std::fflush(stdout);
  const int saved = dup(fd);
  const int file = fd == 0 ? open(path.c_str(), O_RDONLY)
                           : open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ASSERT_GE(file, 0) << path;
  dup2(file, fd);
  close(file);
  clearerr(stdin);
  struct Restore {
    int fd, saved;
    ~Restore() {
      std::fflush(stdout);
      dup2(saved, fd);
      close(saved);
      clearerr(stdin);
    }
  } restore{fd, saved};
  fn();
}

class IoTest : public betamix::test::TempDirTest {
 protected:
  std::string write_file(const std::string& name, const std::string& bytes) const {
    std::ofstream(path(name), std::ios::binary) << bytes;
    return path(name);
  }
  static std::string read_file(const std::string& file) {
    std::ifstream in(file, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  static std::vector<double> read(const std::string& file, Format format = Format::Auto,
                                  const std::string& column = "") {
    ReadOptions options;
    options.format = format;
    options.column = column;
    return read_samples(file, options).values;
  }
  /// A .npy file with the given header dict (padded as numpy does) and payload.
  std::string write_npy(const std::string& name, const std::string& dict,
                        const std::string& payload, int major = 1) const {
    std::string header = dict;
    const std::size_t preamble = major == 1 ? 10 : 12;
    while ((preamble + header.size() + 1) % 64 != 0) header += ' ';
    header += '\n';
    std::string bytes = std::string("\x93NUMPY", 6) + static_cast<char>(major) + '\0';
    for (std::size_t i = 0; i < preamble - 8; ++i)
      bytes += static_cast<char>((header.size() >> (8 * i)) & 0xff);
    return write_file(name, bytes + header + payload);
  }
};

std::string f64_bytes(const std::vector<double>& x) {
  return {reinterpret_cast<const char*>(x.data()), x.size() * sizeof(double)};
}

// ---- round trips --------------------------------------------------------------------------------

TEST_F(IoTest, RoundTripFloat64IsExactInEveryFormat) {
  for (std::size_t n : {1, 7, 257}) {
    std::vector<double> x = grid(n);
    x[0] = 0x1.fffffffffffffp-1;                // the largest double below 1: needs all 17 digits
    if (n > 1) x[1] = 4.9406564584124654e-324;  // the smallest subnormal
    for (const char* name : {"x.npy", "x.txt", "x.f64"}) {
      write_samples(path(name), x.data(), n);
      EXPECT_EQ(read(path(name)), x) << name << " n=" << n;
    }
  }
}

TEST_F(IoTest, RoundTripFloat32IsExactAsFloat) {
  for (std::size_t n : {1, 7, 257}) {
    std::vector<float> x = to_float(grid(n));
    x[0] = 0x1.fffffep-1f;  // the largest float below 1
    for (const char* name : {"x.npy", "x.txt", "x.f32"}) {
      write_samples(path(name), x.data(), n);
      EXPECT_EQ(to_float(read(path(name))), x) << name << " n=" << n;
    }
  }
}

TEST_F(IoTest, WrittenNpyHeaderIsNumpys) {
  const std::vector<double> x = grid(7);
  write_samples(path("x.npy"), x.data(), x.size());
  const std::string bytes = read_file(path("x.npy"));
  ASSERT_EQ(bytes.size(), 128u + 7 * 8);  // numpy aligns the data to 64 bytes
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  const std::string dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (7,), }";
  EXPECT_EQ(bytes.substr(10, dict.size()), dict);
  EXPECT_EQ(bytes[127], '\n');
}

TEST_F(IoTest, TextOutputIsShortestRoundTrip) {
  const std::vector<float> f = {0.1f, 0.25f};
  write_samples(path("f.txt"), f.data(), f.size());
  EXPECT_EQ(read_file(path("f.txt")), "0.1\n0.25\n");
  const std::vector<double> d = {0.1, 1.0 / 3.0};
  write_samples(path("d.txt"), d.data(), d.size());
  EXPECT_EQ(read_file(path("d.txt")), "0.1\n0.3333333333333333\n");
}

TEST_F(IoTest, ExplicitFormatOverridesTheExtension) {
  const std::vector<double> x = grid(7);
  write_samples(path("x.f64"), x.data(), x.size());
  fs::rename(path("x.f64"), path("x.bin"));
  EXPECT_EQ(read(path("x.bin"), Format::F64), x);
  write_samples(path("x.npy"), x.data(), x.size());
  fs::rename(path("x.npy"), path("x.data"));
  EXPECT_EQ(read(path("x.data"), Format::Npy), x);
}

TEST_F(IoTest, AutoFormatFollowsTheExtensionElseText) {
  write_file("x.dat", "0.25\n0.5\n");
  write_file("x.values", "0.75\n");
  write_file("NOEXT", "0.125\n");
  EXPECT_EQ(read(path("x.dat")), (std::vector<double>{0.25, 0.5}));
  EXPECT_EQ(read(path("x.values")), std::vector<double>{0.75});
  EXPECT_EQ(read(path("NOEXT")), std::vector<double>{0.125});
  write_file("UPPER.CSV", "a\n0.5\n");
  EXPECT_EQ(read(path("UPPER.CSV")), std::vector<double>{0.5});
}

// ---- .npy written by numpy ----------------------------------------------------------------------

TEST(NpyFixtures, Float32OneDimensional) {
  EXPECT_EQ(to_float(read_samples(kFixtures + "f32_7.npy", {}).values), to_float(grid(7)));
}

TEST(NpyFixtures, Float64ColumnVector) {
  EXPECT_EQ(read_samples(kFixtures + "f64_257x1.npy", {}).values, grid(257));
}

TEST(NpyFixtures, Version2Header) {
  EXPECT_EQ(read_samples(kFixtures + "f64_7_v2.npy", {}).values, grid(7));
}

TEST(NpyFixtures, RejectsBigEndian) {
  const std::string file = kFixtures + "f64_big_endian.npy";
  EXPECT_TRUE(throws_input_error([&] { read_samples(file, {}); }, {file, "big-endian", "'>f8'"}));
}

TEST(NpyFixtures, RejectsOtherDtypes) {
  for (const auto& [name, dtype] :
       {std::pair{"int32.npy", "'<i4'"}, std::pair{"uint8.npy", "'|u1'"},
        std::pair{"float16.npy", "'<f2'"}, std::pair{"complex128.npy", "'<c16'"}}) {
    const std::string file = kFixtures + name;
    EXPECT_TRUE(
        throws_input_error([&] { read_samples(file, {}); }, {file, "unsupported dtype", dtype}));
  }
}

TEST(NpyFixtures, RejectsFortranOrder2D) {
  const std::string file = kFixtures + "fortran_3x2.npy";
  EXPECT_TRUE(throws_input_error([&] { read_samples(file, {}); },
                                 {file, "unsupported shape (3, 2)", "Fortran", "(n,) or (n, 1)"}));
}

TEST(NpyFixtures, RejectsTruncatedPayload) {
  const std::string file = kFixtures + "f64_7_truncated.npy";
  EXPECT_TRUE(
      throws_input_error([&] { read_samples(file, {}); },
                         {file, "index 5", "payload ends after 5 of the 7 values", "(7,)"}));
}

// ---- hand-made .npy headers ---------------------------------------------------------------------

TEST_F(IoTest, NpyFortranOrderColumnIsAccepted) {
  const std::vector<double> x = grid(7);
  const std::string file = write_npy(
      "f.npy", "{'descr': '<f8', 'fortran_order': True, 'shape': (7, 1), }", f64_bytes(x));
  EXPECT_EQ(read(file), x);
}

TEST_F(IoTest, NpyVersion3Header) {
  const std::vector<double> x = grid(7);
  const std::string file = write_npy(
      "v3.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (7,), }", f64_bytes(x), 3);
  EXPECT_EQ(read(file), x);
}

// '=f8' and 'f4' (native order, written by tools other than np.save) read as numpy reads them
// on a little-endian machine.
TEST_F(IoTest, NpyNativeByteOrderIsLittleEndian) {
  const std::vector<double> x = grid(7);
  for (const char* dtype : {"=f8", "f8"}) {
    const std::string file = write_npy(
        "n.npy", std::string("{'descr': '") + dtype + "', 'fortran_order': False, 'shape': (7,), }",
        f64_bytes(x));
    EXPECT_EQ(read(file), x) << dtype;
  }
  const std::vector<float> f = to_float(x);
  const std::string file =
      write_npy("n4.npy", "{'descr': '=f4', 'fortran_order': False, 'shape': (7,), }",
                std::string(reinterpret_cast<const char*>(f.data()), f.size() * sizeof(float)));
  EXPECT_EQ(read(file).size(), 7u);
  const std::string bad =
      write_npy("b.npy", "{'descr': '=i4', 'fortran_order': False, 'shape': (7,), }", f64_bytes(x));
  EXPECT_TRUE(throws_input_error([&] { read(bad); }, {bad, "unsupported dtype '=i4'"}));
}

TEST_F(IoTest, NpyPython2LongShape) {
  const std::vector<double> x = grid(7);
  const std::string file = write_npy(
      "l.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (7L,), }", f64_bytes(x));
  EXPECT_EQ(read(file), x);
}

TEST_F(IoTest, NpyBadHeaders) {
  const std::string payload = f64_bytes(grid(7));
  struct Case {
    std::string dict;
    std::vector<std::string> words;
  };
  const std::vector<Case> cases = {
      {"{'descr': '<f8', 'fortran_order': False}", {"no 'shape' key"}},
      {"{'fortran_order': False, 'shape': (7,)}", {"no 'descr' key"}},
      {"{'descr': '<f8', 'shape': (7,)}", {"no 'fortran_order' key"}},
      {"{'descr' '<f8', 'fortran_order': False, 'shape': (7,)}",
       {"malformed .npy header", "expected ':'"}},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (7,)",
       {"malformed .npy header", "expected '}'"}},
      {"not a dict", {"malformed .npy header", "expected '{'"}},
      {"{'descr': '<f8', 'fortran_order': 0, 'shape': (7,)}",
       {"'fortran_order' has the wrong type"}},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': 7}", {"'shape' has the wrong type"}},
      // (7) is 7 in parentheses for Python, so numpy refuses it as a shape: so do we.
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (7)}", {"'shape' has the wrong type"}},
      {"{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (7,)}", {"structured array"}},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (7, 2)}", {"unsupported shape (7, 2)"}},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (1, 7)}", {"unsupported shape (1, 7)"}},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (7, 1, 1)}",
       {"unsupported shape (7, 1, 1)"}},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': ()}", {"unsupported shape ()"}},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (0,)}", {"no values", "(0,)"}},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (6,)}",
       {"index 6", "data after the last of the 6 values"}},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': ((((((((((7,),),),),),),),),),)}",
       {"malformed .npy header", "too deeply nested"}},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999,)}",
       {"integer is too large"}},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904,)}",
       {"is too large"}},
  };
  for (const Case& c : cases) {
    const std::string file = write_npy("bad.npy", c.dict, payload);
    EXPECT_TRUE(throws_input_error([&] { read(file); }, {file})) << c.dict;
    for (const std::string& word : c.words) {
      EXPECT_TRUE(throws_input_error([&] { read(file); }, {word})) << c.dict;
    }
  }
}

TEST_F(IoTest, NpyBadPreamble) {
  const std::string f =
      write_file("magic.npy", std::string("\x93NUMPZ\x01\x00", 8) + std::string(120, ' '));
  EXPECT_TRUE(throws_input_error([&] { read(f); }, {f, "not a .npy file", "magic"}));
  const std::string v =
      write_file("version.npy", std::string("\x93NUMPY\x04\x00", 8) + std::string(120, ' '));
  EXPECT_TRUE(throws_input_error([&] { read(v); }, {v, "unsupported .npy version 4.0"}));
  const std::string s = write_file("short.npy", std::string("\x93NU", 3));
  EXPECT_TRUE(throws_input_error([&] { read(s); }, {s, "truncated .npy header", "3 bytes"}));
  const std::string h =
      write_file("header.npy", std::string("\x93NUMPY\x01\x00\x76\x00{'descr'", 18));
  EXPECT_TRUE(throws_input_error([&] { read(h); }, {h, "truncated .npy header", "8 of 118 bytes"}));
  const std::string l =
      write_file("length.npy", std::string("\x93NUMPY\x02\x00\xff\xff\xff\xff{}", 14));
  EXPECT_TRUE(throws_input_error([&] { read(l); }, {l, "length 4294967295 bytes is implausible"}));
  // Shorter than the preamble but not its beginning: not .npy at all, rather than truncated.
  const std::string t = write_file("text.npy", "0.5\n");
  EXPECT_TRUE(throws_input_error([&] { read(t); }, {t, "not a .npy file", "magic"}));
  const std::string e = write_file("empty.npy", "");
  EXPECT_TRUE(throws_input_error([&] { read(e); }, {e, "no values", "empty"}));
}

// ---- text ---------------------------------------------------------------------------------------

TEST_F(IoTest, TextSkipsBlankAndCommentLinesAndAcceptsCrlf) {
  const std::string file = write_file(
      "x.txt", "\xEF\xBB\xBF# values\r\n0.25\r\n\r\n  0.5\t\r\n# more\n+0.75\n\n1e-1\n.5");
  EXPECT_EQ(read(file), (std::vector<double>{0.25, 0.5, 0.75, 0.1, 0.5}));
}

TEST_F(IoTest, TextAndCsvWithLoneCarriageReturns) {
  const std::string text = write_file("cr.txt", "# values\r0.25\r\r0.5\r0.75\r");
  EXPECT_EQ(read(text), (std::vector<double>{0.25, 0.5, 0.75}));
  const std::string csv = write_file("cr.csv", "id,x\r1,0.25\r2,0.5");
  EXPECT_EQ(read(csv, Format::Auto, "x"), (std::vector<double>{0.25, 0.5}));
  const std::string bad = write_file("bad.txt", "0.1\r0.2\r\r2\r");
  EXPECT_TRUE(throws_input_error([&] { read(bad); }, {bad + ": line 4: value 2 is outside"}));
}

// Mixed line ends: '\r's before '\n' ("\r\r\n", as a twice-converted file has) are trimmed;
// an input whose first line ends in a lone '\r' is read with '\r', '\n' and "\r\n" each
// ending a line (Python's universal newlines), which the line numbers count too, also where a
// "\r\n" straddles the reader's 4 MiB blocks.
TEST_F(IoTest, TextWithMixedLineEnds) {
  const std::string twice = write_file("rrn.txt", "0.25\r\r\n0.5\r\r\n0.125\r\r\n");
  EXPECT_EQ(read(twice), (std::vector<double>{0.25, 0.5, 0.125}));
  const std::string mixed = write_file("mix.txt", "0.25\r0.5\n0.125\r\n0.75");
  EXPECT_EQ(read(mixed), (std::vector<double>{0.25, 0.5, 0.125, 0.75}));
  const std::string bad = write_file("bad.txt", "0.1\r0.2\n\r\n2");
  EXPECT_TRUE(throws_input_error([&] { read(bad); }, {bad + ": line 4: value 2 is outside"}));
  // "0.25\r" then "0.5\r\n" lines put a '\r' on the last byte of the first block (5 + 5 k + 3
  // = 4194303 for k = 838859).
  std::string big = "0.25\r";
  for (int i = 0; i < 838860; ++i) big += "0.5\r\n";
  const std::string straddle = write_file("big.txt", big + "2\n");
  EXPECT_TRUE(throws_input_error([&] { read(straddle); },
                                 {straddle + ": line 838862: value 2 is outside"}));
}

TEST_F(IoTest, TextPositionsAreRealLineNumbers) {
  // Values on lines 2, 3, 6, 7, 8; the bad one is on line 8.
  const std::string file = write_file("x.txt", "# head\n0.1\n0.2\n\n# gap\n0.3\n0.4\n1.5\n");
  EXPECT_TRUE(
      throws_input_error([&] { read(file); }, {file + ": line 8: value 1.5 is outside [0, 1]"}));
  const std::string zero = write_file("z.txt", "# head\n0.1\n\n\n0.2\n0\n1\n");
  EXPECT_TRUE(throws_input_error([&] { read(zero); }, {zero, "2 values are exactly 0 or 1",
                                                       "first at line 6", "--on-boundary clamp"}));
}

TEST_F(IoTest, TextBadValues) {
  struct Case {
    std::string text;
    std::vector<std::string> words;
  };
  const std::vector<Case> cases = {
      {"0.5\nabc\n", {"line 2: \"abc\" is not a number"}},
      {"0.5\n0.1 0.2\n", {"line 2: \"0.1 0.2\" is not a number"}},
      {"0.5,\n", {"line 1: \"0.5,\" is not a number"}},
      {"0.5\n" + std::string(60, 'x') + "\n",
       {"line 2: \"" + std::string(40, 'x') + "...\" is not a number"}},
      {"a\x01z\n", {"line 1: \"a\\x01z\" is not a number"}},
      // Bytes that are not UTF-8 are escaped; UTF-8 characters stay.
      {"0.5\n\xff\xc3z\n", {"line 2: \"\\xff\\xc3z\" is not a number"}},
      {"0.5\nsch\xc3\xb6n\n", {"line 2: \"sch\xc3\xb6n\" is not a number"}},
      {std::string("\xff\xfe"
                   "0\0"
                   ".\0"
                   "5\0"
                   "\n",
                   9),
       {"line 1: the text is UTF-16", "save it as UTF-8"}},
      {"0.5\n\n1e400\n", {"line 3: \"1e400\" is out of the range of a double"}},
      {"0.5\nnan\n", {"line 2: value is NaN"}},
      {"NaN\n", {"line 1: value is NaN"}},
      {"0.5\ninf\n", {"line 2: value is +inf"}},
      {"0.5\n0.5\n-Infinity\n", {"line 3: value is -inf"}},
      {"-0.25\n", {"line 1: value -0.25 is outside [0, 1]"}},
      {"0.5\n1.0000001\n", {"line 2: value 1.0000001", "is outside [0, 1]"}},
      {"0.5\n1\n", {"1 value is exactly 0 or 1", "first at line 2", "--on-boundary clamp"}},
      {"# only a comment\n\n", {"no values: only blank lines and comments"}},
      {"", {"no values: the file is empty"}},
  };
  for (const Case& c : cases) {
    const std::string file = write_file("bad.txt", c.text);
    EXPECT_TRUE(throws_input_error([&] { read(file); }, {file + ": "})) << c.text;
    for (const std::string& word : c.words) {
      EXPECT_TRUE(throws_input_error([&] { read(file); }, {word})) << c.text;
    }
  }
}

TEST_F(IoTest, ClampPolicyCountsBoundaryValues) {
  const std::string file = write_file("x.txt", "0\n0.5\n1\n1\n");
  ReadOptions options;
  options.on_boundary = BoundaryPolicy::Clamp;
  options.eps = 1e-3;
  const Samples s = read_samples(file, options);
  EXPECT_EQ(s.values, (std::vector<double>{1e-3, 0.5, 1 - 1e-3, 1 - 1e-3}));
  EXPECT_EQ(s.n_clamped, 3u);
  EXPECT_EQ(s.source, file);
}

// ---- CSV ----------------------------------------------------------------------------------------

TEST_F(IoTest, CsvHeaderColumnByNameOrIndex) {
  const std::string file =
      write_file("t.csv", "id,\"x\", weight\r\n1,0.25,2\r\n\r\n2, \"0.5\" ,3\r\n");
  // The default column is the first: "id", whose values are not samples.
  EXPECT_TRUE(
      throws_input_error([&] { read(file); }, {file, "line 4, column 1: value 2 is outside"}));
  EXPECT_EQ(read(file, Format::Auto, "x"), (std::vector<double>{0.25, 0.5}));
  EXPECT_EQ(read(file, Format::Auto, "1"), (std::vector<double>{0.25, 0.5}));
  ReadOptions weights;
  weights.column = "weight";
  EXPECT_EQ(read_weights(file, weights), (std::vector<double>{2, 3}));
}

// A first row whose chosen field is a number but another field is not: a header where the
// next row has a number in that field ("id,1,0" over "1,0.2,0.9"), else data with a text
// column (labels) or a missing value. Read one value at a time, too, the order and positions stay.
TEST_F(IoTest, CsvHeaderWithNumericNamesOrALabelColumn) {
  const std::string header = write_file("h.csv", "id,1,0\n1,0.2,0.9\n2,0.3,0.8\n");
  EXPECT_EQ(read(header, Format::Auto, "1"), (std::vector<double>{0.2, 0.3}));
  const std::string labels = write_file("l.csv", "A,0.2\nB,0.3\nC,0.4\n");
  EXPECT_EQ(read(labels, Format::Auto, "1"), (std::vector<double>{0.2, 0.3, 0.4}));
  ReadOptions ro;
  ro.column = "1";
  ChunkReader one(labels, ro, Values::Samples);
  std::vector<double> got;
  while (one.next(1, got) > 0) {
  }
  EXPECT_EQ(got, (std::vector<double>{0.2, 0.3, 0.4}));
  const std::string single = write_file("s.csv", "A,0.2\n");
  EXPECT_EQ(read(single, Format::Auto, "1"), (std::vector<double>{0.2}));
  const std::string bad = write_file("b.csv", "id,1,0\n1,0.2,0.9\n2,1.5,0.8\n");
  EXPECT_TRUE(throws_input_error([&] { read(bad, Format::Auto, "1"); },
                                 {bad + ": line 3, column 2: value 1.5 is outside"}));
  // An empty field or a missing-value marker in another column is data lacking a value there,
  // not a column name: the first row is read (it had been dropped as a header).
  for (const char* missing : {"", "NA", "null", "N/A"}) {
    const std::string na = write_file("na.csv", std::string("0.25,") + missing + ",7\n0.5,3,2\n");
    EXPECT_EQ(read(na), (std::vector<double>{0.25, 0.5})) << "missing \"" << missing << "\"";
  }
  for (const char* only : {"x\n", "x,w\n\n# no rows\n"}) {
    const std::string h = write_file("h.csv", only);
    EXPECT_TRUE(throws_input_error([&] { read(h, Format::Auto, "x"); },
                                   {h + ": no values: only a header row, no data rows"}));
  }
  const std::string twice = write_file("t.csv", "x,y,x\n0.1,0.2,0.3\n");
  EXPECT_TRUE(throws_input_error([&] { read(twice, Format::Auto, "x"); },
                                 {twice, "two columns \"x\" (columns 1 and 3)"}));
}

// A row with more fields than the first (a comma too many) is an error naming the line;
// empty fields at the end of a row (a trailing comma) are not counted.
TEST_F(IoTest, CsvRowsWiderThanTheFirstAreRefused) {
  const std::string ragged = write_file("r.csv", "x,y\n0.1,0.2\n0.3,0.4,0.5\n");
  EXPECT_TRUE(throws_input_error([&] { read(ragged); },
                                 {ragged + ": line 3: the row has 3 fields, the first row 2"}));
  const std::string trailing = write_file("t.csv", "x\n0.1,\n0.3, ,\n");
  EXPECT_EQ(read(trailing), (std::vector<double>{0.1, 0.3}));
  const std::string quoted = write_file("q.csv", "\"a,b\",x\n\"c,d\",0.2\n");
  EXPECT_EQ(read(quoted, Format::Auto, "x"), (std::vector<double>{0.2}));
}

TEST_F(IoTest, CsvWithoutHeader) {
  const std::string file = write_file("t.csv", "0.25,7\n0.5,8\n# note\n0.75,9");
  EXPECT_EQ(read(file), (std::vector<double>{0.25, 0.5, 0.75}));
  ReadOptions weights;
  weights.column = "1";
  EXPECT_EQ(read_weights(file, weights), (std::vector<double>{7, 8, 9}));
}

TEST_F(IoTest, CsvQuotedCommasAndQuotesInHeader) {
  const std::string file = write_file("t.csv", "\"a,b\",\"say \"\"x\"\"\"\n0.1,0.2\n");
  EXPECT_EQ(read(file, Format::Auto, "a,b"), std::vector<double>{0.1});
  EXPECT_EQ(read(file, Format::Auto, "say \"x\""), std::vector<double>{0.2});
}

TEST_F(IoTest, CsvBadInput) {
  const std::string short_row = write_file("short.csv", "x,y\n0.5,0.5\n0.25\n");
  EXPECT_TRUE(throws_input_error(
      [&] { read(short_row, Format::Auto, "y"); },
      {short_row, "line 3: the row has 1 field, so column 2 (index 1 counted from 0) is missing"}));
  const std::string abc = write_file("abc.csv", "x,y\n0.5,0.5\n0.5,abc\n");
  EXPECT_TRUE(throws_input_error([&] { read(abc, Format::Auto, "y"); },
                                 {abc, "line 3, column 2: \"abc\" is not a number"}));
  const std::string empty = write_file("empty.csv", "x,y\n0.5,\n");
  EXPECT_TRUE(throws_input_error([&] { read(empty, Format::Auto, "y"); },
                                 {empty, "line 2, column 2: empty field"}));
  const std::string nan = write_file("nan.csv", "x,y\n0.5,0.5\n0.5,nan\n");
  EXPECT_TRUE(throws_input_error([&] { read(nan, Format::Auto, "y"); },
                                 {nan, "line 3, column 2: value is NaN"}));
  const std::string open = write_file("open.csv", "x\n\"0.5\n");
  EXPECT_TRUE(
      throws_input_error([&] { read(open); }, {open, "line 2: a quoted field is not closed"}));
  // Also in a field after the one read: the row is not what it seems.
  const std::string open_after = write_file("open_after.csv", "x,y\n0.5,0.5\n0.25,\"abc\n");
  EXPECT_TRUE(throws_input_error([&] { read(open_after); },
                                 {open_after, "line 3: a quoted field is not closed"}));
  const std::string closed_after = write_file("closed_after.csv", "x,y\n0.5,\"a,b\"\n");
  EXPECT_EQ(read(closed_after), std::vector<double>{0.5});
  const std::string named = write_file("named.csv", "x,y\n0.5,0.5\n");
  EXPECT_TRUE(
      throws_input_error([&] { read(named, Format::Auto, "z"); },
                         {named, "line 1: no column named \"z\" in the header (\"x\", \"y\")"}));
  const std::string header_only = write_file("header.csv", "x,y\n");
  EXPECT_TRUE(throws_input_error([&] { read(header_only, Format::Auto, "y"); },
                                 {header_only, "no values"}));
  const std::string negative = write_file("w.csv", "x,w\n0.5,1\n0.5,-2\n");
  ReadOptions weights;
  weights.column = "w";
  EXPECT_TRUE(throws_input_error([&] { read_weights(negative, weights); },
                                 {negative, "line 3, column 2: weight -2 is negative"}));
  EXPECT_TRUE(throws_input_error([&] { read(named, Format::Auto, "99999999999999999999999"); },
                                 {named, "column index 99999999999999999999999 is too large"}));
}

TEST_F(IoTest, ColumnNeedsCsv) {
  const std::string file = write_file("x.txt", "0.5\n");
  EXPECT_TRUE(throws_input_error([&] { read(file, Format::Auto, "1"); }, {file, "CSV input only"}));
}

// ---- raw binary ---------------------------------------------------------------------------------

TEST_F(IoTest, RawSizeMustBeAMultipleOfTheElement) {
  const std::string f64 = write_file("x.f64", f64_bytes(grid(1)) + "abcde");
  EXPECT_TRUE(throws_input_error([&] { read(f64); }, {f64, "index 1: incomplete float64 value",
                                                      "13 bytes is not a multiple of 8"}));
  const std::string f32 = write_file("x.f32", "abcdef");
  EXPECT_TRUE(throws_input_error([&] { read(f32); }, {f32, "index 1: incomplete float32 value",
                                                      "6 bytes is not a multiple of 4"}));
  const std::string empty = write_file("e.f32", "");
  EXPECT_TRUE(throws_input_error([&] { read(empty); }, {empty, "no values: the file is empty"}));
}

// Files under /proc report a size of 0 and still hold data: they are read, not called empty.
TEST_F(IoTest, ProcFilesAreReadNotTakenAsEmpty) {
  const std::string proc = "/proc/self/comm";  // this program's name: "io_test\n"
  if (!std::filesystem::exists(proc)) GTEST_SKIP() << "no " << proc;
  EXPECT_TRUE(throws_input_error([&] { read_samples(proc, {}); },
                                 {proc + ": line 1: \"io_test\" is not a number"}));
  // Its 8 bytes as one float64 (about 1e-258, inside (0, 1)); the raw reader had trusted the
  // size and found nothing.
  EXPECT_EQ(read(proc, Format::F64).size(), 1u);
  // Files under /proc/sys answer a read of megabytes with ENOMEM: they are read in smaller
  // pieces (it had been "read error: Cannot allocate memory"), as text and as raw bytes.
  const std::string sys = "/proc/sys/kernel/ostype";  // "Linux\n"
  if (!std::filesystem::exists(sys)) GTEST_SKIP() << "no " << sys;
  EXPECT_TRUE(throws_input_error([&] { read_samples(sys, {}); },
                                 {sys + ": line 1: \"Linux\" is not a number"}));
  EXPECT_TRUE(throws_input_error([&] { read(sys, Format::F64); },
                                 {sys + ": index 0: incomplete float64 value", "6 bytes"}));
}

// "The file is empty" is said of a file read under its own name, whatever that name is (here
// "stdin"); an input read under another name (a copy of standard input) is "the input".
TEST_F(IoTest, EmptyFileOrEmptyInput) {
  const std::string named = write_file("stdin", "");
  const std::filesystem::path cwd = std::filesystem::current_path();
  std::filesystem::current_path(std::filesystem::path(named).parent_path());
  const bool said_file = throws_input_error([&] { read_samples("stdin", {}); },
                                            {"stdin: no values: the file is empty"});
  std::filesystem::current_path(cwd);
  EXPECT_TRUE(said_file);
  ReadOptions copy;
  copy.name = "stdin";
  EXPECT_TRUE(throws_input_error([&] { read_samples(named, copy); },
                                 {"stdin: no values: the input is empty"}));
}

TEST_F(IoTest, BinaryPositionsAreIndices) {
  std::vector<double> x = grid(7);
  x[3] = std::numeric_limits<double>::quiet_NaN();
  write_samples(path("x.f64"), x.data(), x.size());
  EXPECT_TRUE(throws_input_error([&] { read(path("x.f64")); },
                                 {path("x.f64") + ": index 3: value is NaN"}));
  x[3] = -std::numeric_limits<double>::infinity();
  write_samples(path("x.npy"), x.data(), x.size());
  EXPECT_TRUE(throws_input_error([&] { read(path("x.npy")); },
                                 {path("x.npy") + ": index 3: value is -inf"}));
  std::vector<float> f = to_float(grid(7));
  f[6] = 0.0f;
  write_samples(path("x.f32"), f.data(), f.size());
  EXPECT_TRUE(
      throws_input_error([&] { read(path("x.f32")); }, {"exactly 0 or 1", "first at index 6"}));
}

// ---- files that cannot be read ------------------------------------------------------------------

TEST_F(IoTest, MissingFileAndDirectory) {
  const std::string missing = path("missing.txt");
  EXPECT_TRUE(throws_input_error([&] { read(missing); }, {missing, "cannot open", "No such file"}));
  EXPECT_TRUE(throws_input_error([&] { read(dir_.string()); }, {dir_.string(), "is a directory"}));
}

TEST(ParseFormat, NamesAndErrors) {
  EXPECT_EQ(parse_format("auto"), Format::Auto);
  EXPECT_EQ(parse_format("npy"), Format::Npy);
  EXPECT_EQ(parse_format("txt"), Format::Text);
  EXPECT_EQ(parse_format("csv"), Format::Csv);
  EXPECT_EQ(parse_format("f32"), Format::F32);
  EXPECT_EQ(parse_format("f64"), Format::F64);
  EXPECT_TRUE(throws_input_error([] { parse_format("parquet"); },
                                 {"\"parquet\"", "auto, npy, txt, csv, f32 or f64"}));
}

// ---- standard input and output ------------------------------------------------------------------

TEST_F(IoTest, StdinIsTextByDefault) {
  const std::string file = write_file("in.txt", "0.25\n\n0.5\n");
  Samples s;
  with_redirected(0, file, [&] { s = read_samples("-", {}); });
  EXPECT_EQ(s.values, (std::vector<double>{0.25, 0.5}));
  EXPECT_EQ(s.source, "stdin");
  const std::string bad = write_file("bad.txt", "0.25\n\nx\n");
  with_redirected(0, bad, [&] {
    EXPECT_TRUE(throws_input_error([] { read_samples("-", {}); },
                                   {"stdin: line 3: \"x\" is not a number"}));
  });
  const std::string empty = write_file("empty.txt", "");
  with_redirected(0, empty, [&] {
    EXPECT_TRUE(throws_input_error([] { read_samples("-", {}); },
                                   {"stdin: no values: the input is empty"}));
  });
}

TEST_F(IoTest, StdinBinaryCrossesReadChunks) {
  // More float32 values than one read chunk (2^20), and an awkward remainder.
  const std::vector<float> f = to_float(grid((std::size_t{1} << 20) + 7));
  write_samples(path("x.f32"), f.data(), f.size());
  std::vector<double> got;
  with_redirected(0, path("x.f32"), [&] { got = read("-", Format::F32); });
  EXPECT_EQ(to_float(got), f);

  const std::vector<double> x = grid(257);
  write_samples(path("x.npy"), x.data(), x.size());
  with_redirected(0, path("x.npy"), [&] { got = read("-", Format::Npy); });
  EXPECT_EQ(got, x);
  // Without --format, .npy on standard input is recognised by its first byte (0x93); text
  // is still text.
  got.clear();
  with_redirected(0, path("x.npy"), [&] { got = read("-"); });
  EXPECT_EQ(got, x);
  // Its stated count is reserved once known, after the first chunk: the values are not grown
  // by doubling (which would hold up to three times their size at a reallocation).
  const std::vector<double> big = grid((std::size_t{3} << 19) + 3);
  write_samples(path("big.npy"), big.data(), big.size());
  for (const Format format : {Format::Npy, Format::Auto}) {
    with_redirected(0, path("big.npy"), [&] { got = read("-", format); });
    EXPECT_EQ(got, big);
    EXPECT_EQ(got.capacity(), big.size()) << "format " << static_cast<int>(format);
  }
  write_file("x.txt", "0.25\n0.5\n");
  with_redirected(0, path("x.txt"), [&] { got = read("-"); });
  EXPECT_EQ(got, (std::vector<double>{0.25, 0.5}));

  write_file("odd.f64", f64_bytes(grid(3)) + "abc");
  with_redirected(0, path("odd.f64"), [&] {
    EXPECT_TRUE(throws_input_error([] { read("-", Format::F64); },
                                   {"stdin: index 3: incomplete float64 value", "27 bytes"}));
  });
  const std::string cut = read_file(kFixtures + "f64_7_truncated.npy");
  write_file("cut.npy", cut);
  with_redirected(0, path("cut.npy"), [&] {
    EXPECT_TRUE(
        throws_input_error([] { read("-", Format::Npy); }, {"stdin: index 5: the payload ends"}));
  });
  write_file("long.npy", read_file(path("x.npy")) + "x");
  with_redirected(0, path("long.npy"), [&] {
    EXPECT_TRUE(throws_input_error([] { read("-", Format::Npy); },
                                   {"stdin: index 257: data after the last"}));
  });
}

TEST_F(IoTest, DashWritesTextToStdout) {
  const std::vector<double> x = {0.5, 0.125};
  with_redirected(1, path("out.txt"), [&] { write_samples("-", x.data(), x.size()); });
  EXPECT_EQ(read_file(path("out.txt")), "0.5\n0.125\n");
}

// ---- writers ------------------------------------------------------------------------------------

TEST_F(IoTest, DtypeForPath) {
  EXPECT_EQ(dtype_for_path("a.f32", std::nullopt), Dtype::Float32);
  EXPECT_EQ(dtype_for_path("a.F64", Dtype::Float64), Dtype::Float64);
  EXPECT_EQ(dtype_for_path("a.npy", std::nullopt), Dtype::Float64);
  EXPECT_EQ(dtype_for_path("a.npy", Dtype::Float32), Dtype::Float32);
  EXPECT_EQ(dtype_for_path("-", Dtype::Float32), Dtype::Float32);
  EXPECT_TRUE(throws_input_error([] { dtype_for_path("a.f32", Dtype::Float64); },
                                 {"a.f32", "float64 conflicts with the .f32 extension"}));
  EXPECT_TRUE(throws_input_error([] { dtype_for_path("a.csv", std::nullopt); },
                                 {"a.csv", "cannot write '.csv' files", ".npy, .txt, .f32, .f64"}));
  EXPECT_EQ(parse_dtype("float32"), Dtype::Float32);
  EXPECT_EQ(parse_dtype("f64"), Dtype::Float64);
  EXPECT_TRUE(throws_input_error([] { parse_dtype("half"); }, {"\"half\"", "float32 or float64"}));
}

// SampleWriter, the streaming form of write_samples(): pieces of any size give the bytes of
// one write, in every format; a count that falls short or overshoots, or the wrong type, is an
// Error, and an unfinished output is removed.
TEST_F(IoTest, SampleWriterPiecesGiveTheBytesOfOneWrite) {
  const std::vector<double> d = grid(1001);
  const std::vector<float> f = to_float(d);
  for (const char* name : {"x.npy", "x.txt", "x.f64", "x.f32"}) {
    SCOPED_TRACE(name);
    const bool is_f32 = std::string(name) == "x.f32";
    if (is_f32) {
      write_samples(path("whole.f32"), f.data(), f.size());
    } else {
      write_samples(path(std::string("whole") + (name + 1)), d.data(), d.size());
    }
    const std::string whole = read_file(path(std::string("whole") + (name + 1)));
    SampleWriter out(path(name), is_f32 ? Dtype::Float32 : Dtype::Float64, d.size());
    for (std::size_t first = 0, len = 0; first < d.size(); first += len) {
      len = std::min<std::size_t>(1 + first / 3, d.size() - first);  // 1, 1, 1, 2, ...
      if (is_f32) {
        out.write(f.data() + first, len);
      } else {
        out.write(d.data() + first, len);
      }
    }
    EXPECT_EQ(out.written(), d.size());
    out.finish();
    EXPECT_EQ(read_file(path(name)), whole);
    if (std::string(name) == "x.npy") {
      // Empty pieces and an empty output are fine too.
      SampleWriter empty(path("empty.npy"), Dtype::Float64, 0);
      empty.write(d.data(), 0);
      empty.finish();
      write_samples(path("whole_empty.npy"), d.data(), 0);
      EXPECT_EQ(read_file(path("empty.npy")), read_file(path("whole_empty.npy")));
    }
  }
}

TEST_F(IoTest, SampleWriterChecksCountAndTypeAndRemovesUnfinishedOutput) {
  const std::vector<double> d = grid(10);
  const std::vector<float> f = to_float(d);
  {
    SampleWriter out(path("short.f64"), Dtype::Float64, 10);
    out.write(d.data(), 9);
    EXPECT_THROW(out.finish(), Error);
    EXPECT_FALSE(fs::exists(path("short.f64")));
    EXPECT_THROW(out.write(d.data(), 1), Error);  // nothing more after a failure
  }
  {
    SampleWriter out(path("long.npy"), Dtype::Float64, 10);
    out.write(d.data(), 8);
    EXPECT_THROW(out.write(d.data(), 3), Error);
    EXPECT_EQ(out.written(), 8u);
    EXPECT_THROW(out.write(f.data(), 2), Error);  // float32 into a float64 output
  }
  EXPECT_FALSE(fs::exists(path("long.npy")));  // destroyed unfinished: removed
  {
    SampleWriter out(path("unfinished.txt"), Dtype::Float32, 10);
    out.write(f.data(), 10);
    EXPECT_TRUE(out.staged());
    EXPECT_FALSE(fs::exists(path("unfinished.txt")));  // a temporary file until finish()
  }
  EXPECT_FALSE(fs::exists(path("unfinished.txt")));
  // An earlier file of that name keeps its contents when the new output fails; none of the
  // temporary files stays behind.
  write_file("kept.f64", "earlier");
  {
    SampleWriter out(path("kept.f64"), Dtype::Float64, 10);
    out.write(d.data(), 4);
  }
  EXPECT_EQ(read_file(path("kept.f64")), "earlier");
  for (const auto& entry : fs::directory_iterator(dir_)) {
    EXPECT_EQ(entry.path().filename().string().find(".betamix-"), std::string::npos)
        << entry.path();
  }
  EXPECT_TRUE(throws_input_error([&] { SampleWriter(path("x.f32"), Dtype::Float64, 1); },
                                 {path("x.f32"), "cannot hold float64"}));
  SampleWriter done(path("done.f32"), Dtype::Float32, 1);
  done.write(f.data(), 1);
  done.finish();
  EXPECT_THROW(done.finish(), Error);
  EXPECT_THROW(done.write(f.data(), 0), Error);
  EXPECT_TRUE(fs::exists(path("done.f32")));  // a finished output stays
}

// An output larger than its file system's free space is refused before anything is written
// (2^56 values: hundreds of petabytes, more than any disk here has); nothing is left behind.
TEST_F(IoTest, SampleWriterRefusesAnOutputTheDiskCannotHold) {
  const std::size_t huge = std::size_t{1} << 56;
  const fs::space_info space = fs::space(dir_);
  ASSERT_LT(static_cast<double>(space.available), 4.0 * static_cast<double>(huge));
  EXPECT_TRUE(throws_input_error([&] { SampleWriter(path("big.npy"), Dtype::Float64, huge); },
                                 {path("big.npy"), "the output needs 576460752.3 GB", "free"}));
  EXPECT_TRUE(throws_input_error([&] { SampleWriter(path("big.txt"), Dtype::Float32, huge); },
                                 {path("big.txt"), "needs at least 288230376.2 GB"}));
  EXPECT_TRUE(fs::is_empty(dir_));
  // One that fits is written.
  SampleWriter small(path("small.f32"), Dtype::Float32, 1);
  const float v = 0.5F;
  small.write(&v, 1);
  small.finish();
  EXPECT_EQ(fs::file_size(path("small.f32")), 4u);
}

// Whether outputs in `dir` are unnamed files (O_TMPFILE, named later through /proc/self/fd):
// where they are not, they are written under a hidden temporary name, which only SIGINT,
// SIGTERM and SIGHUP remove.
bool takes_unnamed_files(const fs::path& dir) {
#ifdef O_TMPFILE
  if (::access("/proc/self/fd", X_OK) != 0) return false;
  const int probe = ::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
  if (probe < 0) return false;
  ::close(probe);
  return true;
#else
  static_cast<void>(dir);
  return false;
#endif
}

// Ends this process by SIGKILL, which no handler sees, destroying nothing.
[[noreturn]] void kill_self() {
  ::raise(SIGKILL);
  ::_exit(0);
}

// Runs `work` in a child process, which must end by kill_self() while what it tests is alive.
template <class Work>
void run_and_kill(Work&& work) {
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Neither a return nor an exception may take the child back into the test runner.
    try {
      work();
    } catch (...) {
    }
    ::_exit(0);  // work() ended without the kill: the check below fails
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
}

std::vector<std::string> entries_of(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  return names;
}

// Where the file system takes unnamed files (O_TMPFILE), an output in progress has no name
// until it is complete: a writer killed by SIGKILL, which no handler sees, leaves nothing in the
// directory, and an earlier file of the output's name as it was.
TEST_F(IoTest, AKilledWriterLeavesNothingBehind) {
  if (!takes_unnamed_files(dir_)) GTEST_SKIP() << dir_ << " takes no unnamed files (O_TMPFILE)";
  write_file("kept.f64", "earlier");
  for (const char* name : {"new.f64", "kept.f64"}) {
    run_and_kill([&] {
      // 8 MB: past stdio's buffer, so that the file really holds data when the kill comes.
      const std::vector<double> d(std::size_t{1} << 20, 0.5);
      SampleWriter out(path(name), Dtype::Float64, 2 * d.size());
      out.write(d.data(), d.size());
      kill_self();
    });
  }
  EXPECT_EQ(read_file(path("kept.f64")), "earlier");
  EXPECT_EQ(entries_of(dir_), std::vector<std::string>{"kept.f64"});
}

// Where unnamed files cannot be had (BETAMIX_NAMED_TEMPORARIES=1 stands for such a file
// system), the output in progress is a hidden file beside the target, renamed onto it when
// complete and removed when not.
TEST_F(IoTest, NamedTemporaryFilesWhereThereAreNoUnnamedOnes) {
  const test::ScopedEnv named("BETAMIX_NAMED_TEMPORARIES", "1");
  const std::vector<double> d = grid(5);
  const auto hidden = [&] {
    std::size_t count = 0;
    for (const std::string& name : entries_of(dir_))
      count += name.rfind(".out.f64.betamix-", 0) == 0;
    return count;
  };
  {
    SampleWriter out(path("out.f64"), Dtype::Float64, d.size());
    out.write(d.data(), d.size());
    EXPECT_TRUE(out.staged());
    EXPECT_EQ(hidden(), 1u);
    EXPECT_FALSE(fs::exists(path("out.f64")));
    out.finish();
  }
  EXPECT_EQ(read_file(path("out.f64")), f64_bytes(d));
  {
    SampleWriter out(path("out.f64"), Dtype::Float64, d.size());
    out.write(d.data(), 2);
    EXPECT_EQ(hidden(), 1u);
  }  // unfinished: removed, the earlier file as it was
  named.set(nullptr);
  EXPECT_EQ(read_file(path("out.f64")), f64_bytes(d));
  EXPECT_EQ(entries_of(dir_), std::vector<std::string>{"out.f64"});
}

// The copy of standard input that two readers share: its path reads back what was copied, and
// it is gone when the object is, or (unnamed) when the process is killed.
TEST_F(IoTest, ScratchFileReadsBackAndLeavesNothingBehind) {
  const test::ScopedEnv tmpdir("TMPDIR", dir_.c_str());
  const std::string text = "x,w\n0.25,1\n0.5,2\n";
  {
    ScratchFile copy("stdin");
    std::FILE* in = ::fmemopen(const_cast<char*>(text.data()), text.size(), "r");
    ASSERT_NE(in, nullptr);
    EXPECT_EQ(copy.copy_from(in, "stdin"), text.size());
    std::fclose(in);
    EXPECT_EQ(read_file(copy.path()), text);
    EXPECT_EQ(read_file(copy.path()), text);  // every opening reads it from the start
  }
  EXPECT_TRUE(entries_of(dir_).empty());
  if (takes_unnamed_files(dir_)) {
    run_and_kill([] {
      ScratchFile copy("stdin");
      kill_self();
    });
    EXPECT_TRUE(entries_of(dir_).empty());
  }
}

TEST_F(IoTest, WriterRejectsUnsupportedTargets) {
  const std::vector<double> d = grid(7);
  const std::vector<float> f = to_float(d);
  EXPECT_TRUE(throws_input_error([&] { write_samples(path("x.parquet"), d.data(), d.size()); },
                                 {path("x.parquet"), "cannot write '.parquet' files"}));
  EXPECT_TRUE(throws_input_error([&] { write_samples(path("x"), d.data(), d.size()); },
                                 {"without an extension"}));
  EXPECT_TRUE(throws_input_error([&] { write_samples(path(".npy"), d.data(), d.size()); },
                                 {"\".npy\" is a hidden file's whole name", "like x.npy"}));
  EXPECT_TRUE(throws_input_error([&] { write_samples(path("x.f32"), d.data(), d.size()); },
                                 {path("x.f32"), "cannot hold float64"}));
  EXPECT_TRUE(throws_input_error([&] { write_samples(path("x.f64"), f.data(), f.size()); },
                                 {path("x.f64"), "cannot hold float32"}));
  EXPECT_FALSE(fs::exists(path("x.f32")));
  const std::string nowhere = path("no/such/dir/x.npy");
  EXPECT_TRUE(throws_input_error([&] { write_samples(nowhere, d.data(), d.size()); },
                                 {nowhere, "cannot create", "No such file"}));
}

TEST_F(IoTest, WriteFailureIsAnErrorAndSparesDevices) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  // /dev/full fails every write with ENOSPC, like a full disk; its extension is none, so go
  // through a symlink that has one.
  fs::create_symlink("/dev/full", path("full.f64"));
  const std::vector<double> x = grid(257);
  try {
    write_samples(path("full.f64"), x.data(), x.size());
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    ADD_FAILURE() << "a write failure is not bad input: " << e.what();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path("full.f64") + ": write failed: No space left"),
              std::string::npos)
        << e.what();
  }
  EXPECT_TRUE(fs::exists("/dev/full"));
}

// ---- reading in chunks ----------------------------------------------------------------------

// Every value of `file` through a ChunkReader asked for `chunk` values at a time.
std::vector<double> read_chunked(const std::string& file, std::size_t chunk,
                                 ReadOptions options = {}, Values what = Values::Samples) {
  ChunkReader reader(file, options, what);
  std::vector<double> all, part;
  for (;;) {
    part.clear();
    const std::size_t got = reader.next(chunk, part);
    EXPECT_EQ(got, part.size());
    EXPECT_LE(got, chunk);
    if (got == 0) break;
    all.insert(all.end(), part.begin(), part.end());
  }
  EXPECT_EQ(reader.count(), all.size());
  EXPECT_EQ(reader.next(chunk, part), 0u) << "the end stays the end";
  return all;
}

// The same values in every chunk size, for every format, as read whole.
TEST_F(IoTest, ChunksJoinToTheWholeInput) {
  const std::vector<double> x = grid(1001);
  std::vector<std::string> files;
  for (const char* name : {"x.npy", "x.txt", "x.f64"}) {
    write_samples(path(name), x.data(), x.size());
    files.push_back(path(name));
  }
  write_samples(path("x32.npy"), to_float(x).data(), x.size());
  write_samples(path("x.f32"), to_float(x).data(), x.size());
  files.push_back(path("x32.npy"));
  files.push_back(path("x.f32"));
  std::string csv = "id,x\n# a comment\n";
  for (std::size_t i = 0; i < x.size(); ++i) {
    csv += std::to_string(i) + "," + std::to_string(x[i]) + (i % 100 == 0 ? "\n\n" : "\n");
  }
  files.push_back(write_file("x.csv", csv));
  for (const std::string& file : files) {
    ReadOptions options;
    if (file == path("x.csv")) options.column = "x";
    const std::vector<double> whole = read_samples(file, options).values;
    ASSERT_EQ(whole.size(), x.size()) << file;
    for (const std::size_t chunk : {std::size_t{1}, std::size_t{7}, std::size_t{1000},
                                    std::size_t{1001}, std::size_t{5000}}) {
      EXPECT_EQ(read_chunked(file, chunk, options), whole) << file << ", chunk " << chunk;
    }
  }
}

// A problem in a later chunk names its real position; the end-of-input checks run at the end.
TEST_F(IoTest, ChunkErrorsNameTheirPositionInTheWholeInput) {
  const std::string text = write_file("x.txt", "# head\n0.1\n0.2\n\n0.3\n0.4\n0.5\nnan\n");
  EXPECT_TRUE(
      throws_input_error([&] { read_chunked(text, 2); }, {text + ": line 8: value is NaN"}));
  const std::string csv = write_file("x.csv", "a,b\n1,0.5\n2,0.5\n3,0.5\n4\n");
  ReadOptions by_name;
  by_name.column = "b";
  EXPECT_TRUE(throws_input_error(
      [&] { read_chunked(csv, 2, by_name); },
      {csv + ": line 5: the row has 1 field, so column 2 (index 1 counted from 0) is missing"}));
  std::vector<double> x = grid(10);
  x[8] = 1.5;
  write_samples(path("x.f64"), x.data(), x.size());
  EXPECT_TRUE(throws_input_error([&] { read_chunked(path("x.f64"), 3); },
                                 {"index 8: value 1.5 is outside [0, 1]"}));
  // A truncated payload is found when the reader reaches it.
  const std::string npy = write_npy(
      "t.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (5,), }", f64_bytes(grid(3)));
  EXPECT_TRUE(
      throws_input_error([&] { read_chunked(npy, 2); }, {"the payload ends after 3 of the 5"}));
  const std::string empty = write_file("e.txt", "# nothing\n");
  EXPECT_TRUE(
      throws_input_error([&] { read_chunked(empty, 4); }, {"only blank lines and comments"}));
}

// Under Reject, the error counts every exact 0 or 1 of the input and names the first, as a
// whole read does, though they lie in different chunks; under Clamp each chunk is clamped.
TEST_F(IoTest, ChunkBoundaryValuesAreCountedOverTheWholeInput) {
  const std::string file = write_file("z.txt", "0.5\n0.5\n0\n0.5\n0.5\n1\n0.5\n1\n");
  EXPECT_TRUE(throws_input_error([&] { read_chunked(file, 2); },
                                 {"3 values are exactly 0 or 1", "first at line 3"}));
  // A NaN after them wins, as in a whole read.
  const std::string nan = write_file("n.txt", "0.5\n0\n0.5\n0.5\nnan\n");
  EXPECT_TRUE(throws_input_error([&] { read_chunked(nan, 2); }, {"line 5: value is NaN"}));
  ReadOptions clamp;
  clamp.on_boundary = BoundaryPolicy::Clamp;
  clamp.eps = 1e-3;
  ChunkReader reader(file, clamp, Values::Samples);
  std::vector<double> all;
  while (reader.next(3, all) > 0) {
  }
  EXPECT_EQ(all, (std::vector<double>{0.5, 0.5, 1e-3, 0.5, 0.5, 1 - 1e-3, 0.5, 1 - 1e-3}));
  EXPECT_EQ(reader.n_clamped(), 3u);
}

// Weights: each chunk is checked; their sum is checked at the end of the input.
TEST_F(IoTest, ChunkWeightsAreCheckedAndMustNotSumToZero) {
  const std::string zeros = write_file("w.txt", "0\n0\n0\n");
  EXPECT_TRUE(throws_input_error([&] { read_chunked(zeros, 2, {}, Values::Weights); },
                                 {zeros + ": the case weights sum to 0"}));
  const std::string ok = write_file("v.txt", "0\n0\n2.5\n");
  EXPECT_EQ(read_chunked(ok, 2, {}, Values::Weights), (std::vector<double>{0, 0, 2.5}));
  const std::string negative = write_file("n.txt", "1\n1\n1\n-1\n");
  EXPECT_TRUE(throws_input_error([&] { read_chunked(negative, 2, {}, Values::Weights); },
                                 {"line 4: weight -1 is negative"}));
}

// Text lines that cross the reader's 4 MB blocks arrive whole, with their line numbers.
TEST_F(IoTest, TextLinesAcrossReadBlocks) {
  std::string text;
  std::vector<double> want;
  const std::string pad(1 << 12, ' ');
  for (int i = 0; text.size() < (std::size_t{9} << 20); ++i) {
    const double v = (i % 999 + 0.5) / 1000.0;
    text += pad + std::to_string(v) + "\n";
    want.push_back(std::stod(std::to_string(v)));
  }
  text += "0.5\n0.25 x\n";
  want.push_back(0.5);
  const std::string file = write_file("big.txt", text);
  const std::size_t bad_line = want.size() + 1;
  EXPECT_TRUE(throws_input_error([&] { read_chunked(file, 1000); },
                                 {"line " + std::to_string(bad_line) + ": \"0.25 x\""}));
  write_file("big.txt", text.substr(0, text.size() - 7));
  EXPECT_EQ(read_chunked(file, 1000), want);
}

}  // namespace
}  // namespace betamix::io
