// The `betamix` tool end to end: every bad input named in the issue gets one line on stderr
// naming the file, the position and the problem, and exit code 2; good input gives the result.

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "betamix/betamix.hpp"
#include "support/scoped_env.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;

namespace {

struct CliRun {
  int code = -1;
  std::string out, err;
};

class CliTest : public betamix::test::TempDirTest {
 protected:
  std::string write(const std::string& name, const std::string& bytes) const {
    std::ofstream(path(name), std::ios::binary) << bytes;
    return path(name);
  }

  static std::string slurp(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  // Runs `betamix ARGS` through the shell, capturing stdout, stderr and the exit code;
  // standard input from the file `in`.
  CliRun betamix(const std::string& args, const std::string& in = "/dev/null") const {
    const std::string out = path("stdout"), err = path("stderr");
    const std::string cmd =
        std::string(BETAMIX_CLI_PATH) + " " + args + " >" + out + " 2>" + err + " <" + in;
    const int status = std::system(cmd.c_str());
    CliRun r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = slurp(out);
    r.err = slurp(err);
    return r;
  }

  // Asserts a bad-input run: exit 2 and one stderr line containing every fragment.
  void expect_bad_input(const std::string& args, std::initializer_list<std::string> fragments) {
    const CliRun r = betamix(args);
    EXPECT_EQ(r.code, 2) << args << "\nstderr: " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "stderr: " << r.err;
    for (const std::string& f : fragments) {
      EXPECT_NE(r.err.find(f), std::string::npos) << "missing \"" << f << "\" in: " << r.err;
    }
  }
};

std::string npy_header(const std::string& dict) {
  std::string h = dict;
  while ((10 + h.size() + 1) % 64 != 0) h += ' ';
  h += '\n';
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(h.size() & 0xff);
  out += static_cast<char>(h.size() >> 8);
  return out + h;
}

TEST_F(CliTest, MissingFile) {
  expect_bad_input("fit " + path("nope.txt") + " -k 2", {"nope.txt"});
}

TEST_F(CliTest, EmptyFile) {
  const std::string f = write("empty.txt", "");
  expect_bad_input("fit " + f + " -k 1", {"empty.txt"});
}

TEST_F(CliTest, NonNumericText) {
  const std::string f = write("words.txt", "0.5\n0.25\nhello\n");
  expect_bad_input("fit " + f + " -k 1", {"words.txt", "line 3", "hello"});
  // A newline in the file name is shown escaped: the error stays one line.
  const std::string odd = write("a\nb.txt", "0.5\n2\n");
  expect_bad_input("fit '" + odd + "' -k 1", {"a\\x0ab.txt: line 2: value 2 is outside"});
  // .npy bytes in a file named as text are read as text unless told: the message says what to
  // do. On standard input, which has no name, .npy is recognised by its first byte.
  const std::string npy = path("d.npy");
  ASSERT_EQ(betamix("sample --weights 1 --alpha 2 --beta 3 -n 10 -o " + npy).code, 0);
  fs::copy_file(npy, path("d.txt"));
  const CliRun r = betamix("fit " + path("d.txt") + " -k 1");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("give --format npy"), std::string::npos) << r.err;
  EXPECT_EQ(betamix("fit " + path("d.txt") + " --format npy -k 1 -q").code, 0);
  EXPECT_EQ(betamix("fit - -k 1 -q", npy).code, 0);
  EXPECT_EQ(betamix("fit - --format npy -k 1 -q", npy).code, 0);
}

TEST_F(CliTest, NaNAndInfinities) {
  expect_bad_input("fit " + write("nan.txt", "0.5\nnan\n") + " -k 1", {"nan.txt", "line 2", "NaN"});
  expect_bad_input("fit " + write("inf.txt", "0.5\n0.1\ninf\n") + " -k 1",
                   {"inf.txt", "line 3", "inf"});
  expect_bad_input("fit " + write("minf.txt", "-inf\n") + " -k 1", {"minf.txt", "line 1", "-inf"});
}

TEST_F(CliTest, OutOfRange) {
  expect_bad_input("fit " + write("big.txt", "0.5\n1.5\n") + " -k 1",
                   {"big.txt", "line 2", "outside [0, 1]"});
  expect_bad_input("fit " + write("neg.txt", "-0.25\n0.5\n") + " -k 1",
                   {"neg.txt", "line 1", "outside [0, 1]"});
}

TEST_F(CliTest, BoundaryRejectAndClamp) {
  const std::string f = write("edge.txt", "0.5\n0\n0.25\n1\n0.75\n");
  expect_bad_input("fit " + f + " -k 1", {"edge.txt", "2 values", "line 2", "--on-boundary clamp"});
  const CliRun r = betamix("fit " + f + " -k 1 --on-boundary clamp --eps 1e-4 -q");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["n_clamped"], 2);
  EXPECT_EQ(j["n"], 5);
}

TEST_F(CliTest, MalformedNpy) {
  expect_bad_input("fit " + write("short.npy", "\x93NUMP") + " -k 1", {"short.npy"});
  expect_bad_input("fit " + write("magic.npy", "PK\x03\x04 not an array at all....") + " -k 1",
                   {"magic.npy"});
  // The header promises 4 float64 values; the payload holds 2.
  std::string payload(16, '\0');
  expect_bad_input("fit " +
                       write("trunc.npy", npy_header("{'descr': '<f8', 'fortran_order': False, "
                                                     "'shape': (4,), }") +
                                              payload) +
                       " -k 1",
                   {"trunc.npy"});
  expect_bad_input("fit " +
                       write("int.npy", npy_header("{'descr': '<i4', 'fortran_order': False, "
                                                   "'shape': (4,), }") +
                                            payload) +
                       " -k 1",
                   {"int.npy", "<i4"});
  expect_bad_input("fit " +
                       write("be.npy", npy_header("{'descr': '>f8', 'fortran_order': False, "
                                                  "'shape': (2,), }") +
                                           payload) +
                       " -k 1",
                   {"be.npy"});
  // On standard input the header's count cannot be checked against a size first: a shape of
  // 1e15 over 3 values is bad input (exit 2) once the payload ends, not a failed allocation.
  const std::string huge = write("huge.npy", npy_header("{'descr': '<f8', 'fortran_order': False, "
                                                        "'shape': (1000000000000000,), }") +
                                                 std::string(24, '\x10'));
  const CliRun r = betamix("fit - --format npy -k 1 --device cpu", huge);
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("stdin: index 3: the payload ends after 3 of the 1000000000000000"),
            std::string::npos)
      << r.err;
}

TEST_F(CliTest, RawSizeNotMultiple) {
  expect_bad_input("fit " + write("odd.f64", std::string(12, '\0')) + " -k 1", {"odd.f64", "8"});
}

TEST_F(CliTest, BadK) {
  const std::string f = write("three.txt", "0.2\n0.5\n0.7\n");
  expect_bad_input("fit " + f + " -k 0", {"at least 1"});
  expect_bad_input("fit " + f + " -k 4", {"k = 4", "3"});
  expect_bad_input("fit " + f + " -k two", {"-k"});
}

TEST_F(CliTest, SampleParameterErrors) {
  expect_bad_input("sample --weights 0.5,0.5 --alpha 1,2,3 --beta 1,2 -n 10 -o " + path("x.txt"),
                   {"same", "length"});
  expect_bad_input("sample --weights 1 --alpha 0 --beta 1 -n 10 -o " + path("x.txt"), {"alpha"});
  expect_bad_input("sample --weights 1 --alpha 1 --beta -2 -n 10 -o " + path("x.txt"), {"beta"});
  expect_bad_input("sample --weights -0.5,1.5 --alpha 1,2 --beta 1,2 -n 10 -o " + path("x.txt"),
                   {"weight"});
  // A list is given once and holds numbers only: a second --weights is not appended.
  expect_bad_input(
      "sample --weights 0.5 --weights 0.5 --alpha 1,2 --beta 1,2 -n 10 -o " + path("x.txt"),
      {"--weights"});
  expect_bad_input("sample --weights 1, --alpha 1 --beta 1 -n 10 -o " + path("x.txt"),
                   {"--weights \"1,\"", "value 2 is empty"});
  expect_bad_input("sample --weights 1 --alpha 1,x --beta 1,2 -n 10 -o " + path("x.txt"),
                   {"--alpha \"1,x\"", "\"x\" is not a finite decimal number"});
  expect_bad_input("sample --weights 1 --alpha 1 --beta inf -n 10 -o " + path("x.txt"),
                   {"--beta", "\"inf\""});
  expect_bad_input("sample --weights 1 --alpha 0x10 --beta 1 -n 10 -o " + path("x.txt"),
                   {"--alpha", "\"0x10\" is not a finite decimal number"});
  expect_bad_input("fit " + path("x.txt") + " -k 1 --lr 0x1p-3", {"--lr", "\"0x1p-3\""});
  expect_bad_input("sample --weights 1 --alpha 1e400 --beta 1 -n 10 -o " + path("x.txt"),
                   {"--alpha", "beyond the range of a double"});
  expect_bad_input("sample --weights 1e-320,1 --alpha 1,1 --beta 1,1 -n 10 -o " + path("x.txt"),
                   {"--weights", "below the smallest normal double"});
  const CliRun spaced =
      betamix("sample --weights '0.5, 0.5' --alpha '1 ,2' --beta 2,1 -n 3 -o " + path("x.txt"));
  EXPECT_EQ(spaced.code, 0) << spaced.err;
  const CliRun r = betamix("sample --weights 1,3 --alpha 2,3 --beta 2,3 -n 10 -o " + path("x.txt"));
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("normalised"), std::string::npos) << r.err;
}

// `sample --model` draws from a fitted mixture: the same values as the mixture given by the
// three lists, for the same seed; the lists and the model exclude each other.
TEST_F(CliTest, SampleFromModel) {
  const std::string model =
      write("model.json", R"({"weights": [0.25, 0.75], "alpha": [2, 7], "beta": [9, 3]})");
  const std::string tail = " -n 1000 --seed 11 --device cpu -o ";
  const CliRun r = betamix("sample --model " + model + tail + path("m.f64"));
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_EQ(
      betamix("sample --weights 0.25,0.75 --alpha 2,7 --beta 9,3" + tail + path("l.f64")).code, 0);
  const std::string bytes = slurp(path("m.f64"));
  EXPECT_EQ(bytes, slurp(path("l.f64")));
  std::vector<double> want(1000);
  betamix::sample({{0.25, 0.75}, {2.0, 7.0}, {9.0, 3.0}}, want.size(), 11, want.data(),
                  betamix::Device::Cpu);
  ASSERT_EQ(bytes.size(), want.size() * sizeof(double));
  EXPECT_EQ(std::memcmp(bytes.data(), want.data(), bytes.size()), 0);

  const CliRun both = betamix("sample --model " + model + " --weights 1 -n 5 -o " + path("x.txt"));
  EXPECT_EQ(both.code, 2);
  EXPECT_NE(both.err.find("excludes"), std::string::npos) << both.err;
  expect_bad_input("sample --alpha 2 --beta 3 -n 5 -o " + path("x.txt"),
                   {"--weights, --alpha and --beta", "--model"});
  expect_bad_input("sample --model " + path("none.json") + " -n 5 -o " + path("x.txt"),
                   {"none.json", "cannot open"});
}

// An output that cannot be written is an error before the fit (or the scan of the data), not
// after it: nothing is computed only to be lost. Nothing is created either.
TEST_F(CliTest, UnwritableOutputFailsBeforeTheWork) {
  const std::string data = write("d.txt", "0.2\n0.4\n0.5\n0.9\n");
  const std::string model =
      write("model.json", R"({"weights": [0.25, 0.75], "alpha": [2, 7], "beta": [9, 3]})");
  const std::string nodir = path("none") + "/r.json";
  expect_bad_input("fit " + data + " -k 1 -o " + nodir, {"-o", "none/r.json", "no directory"});
  expect_bad_input("fit " + data + " -k 1 --plot " + path("none") + "/p.svg",
                   {"--plot", "none/p.svg", "no directory"});
  expect_bad_input("fit " + data + " -k 1 -o " + path(""), {"it is a directory"});
  expect_bad_input("score --model " + model + " " + data + " -o " + nodir, {"no directory"});
  expect_bad_input("plot --model " + model + " " + data + " -o " + path("none") + "/p.svg",
                   {"no directory"});
  EXPECT_FALSE(fs::exists(path("none")));
  const std::string locked = write("locked.json", "");
  fs::permissions(locked, fs::perms::owner_read);
  if (::access(locked.c_str(), W_OK) != 0) {  // root may write to it anyway
    expect_bad_input("fit " + data + " -k 1 -o " + locked, {"locked.json", "Permission denied"});
  }
  const CliRun ok = betamix("fit " + data + " -k 1 -q -o " + path("r.json"));
  EXPECT_EQ(ok.code, 0) << ok.err;
  EXPECT_TRUE(fs::exists(path("r.json")));
}

// An output that is one of the command's inputs (by name, another name or a link) is refused
// before anything is opened for writing: the input survives, byte for byte.
TEST_F(CliTest, OutputThatIsAnInputIsRefused) {
  const std::string data = write("d.txt", "0.2\n0.4\n0.5\n0.9\n0.35\n");
  const std::string model =
      write("model.json", R"({"weights": [0.25, 0.75], "alpha": [2, 7], "beta": [9, 3]})");
  const std::string link = path("link.txt");
  fs::create_symlink(data, link);
  const std::string before = slurp(data), model_before = slurp(model);
  expect_bad_input("predict --model " + model + " " + data + " -o " + data,
                   {"-o", "it is the input", "d.txt"});
  expect_bad_input("predict --model " + model + " " + data + " -o " + link, {"it is the input"});
  expect_bad_input("predict --model " + model + " " + data + " -o " + model, {"it is the input"});
  expect_bad_input("score --model " + model + " " + data + " -o " + data, {"it is the input"});
  expect_bad_input("fit " + data + " -k 1 -o " + data, {"it is the input"});
  expect_bad_input("fit " + data + " -k 1 --weights-file " + link + " -o " + data,
                   {"it is the input"});
  const std::string csv_named =  // a model file may have any name
      write("model.csv", R"({"weights": [1], "alpha": [2], "beta": [3]})");
  expect_bad_input("pdf --model " + csv_named + " -o " + path("./model.csv"), {"it is the input"});
  expect_bad_input("sample --model " + model + " -n 5 -o " + model, {"it is the input"});
  EXPECT_EQ(slurp(data), before);
  EXPECT_EQ(slurp(model), model_before);
  EXPECT_TRUE(fs::is_symlink(link));
}

// A command that fails leaves an earlier output of the same name as it was (outputs are
// written under a temporary name and put in place at the end), through a link too.
TEST_F(CliTest, AFailedRunKeepsTheEarlierOutput) {
  const std::string model =
      write("model.json", R"({"weights": [0.25, 0.75], "alpha": [2, 7], "beta": [9, 3]})");
  const std::string bad = write("bad.txt", "0.2\n0.4\n1.5\n");
  const std::string out = write("out.csv", "earlier\n");
  fs::create_symlink(out, path("link.csv"));
  expect_bad_input("predict --model " + model + " " + bad + " -o " + out, {"bad.txt", "1.5"});
  EXPECT_EQ(slurp(out), "earlier\n");
  expect_bad_input("predict --model " + model + " " + bad + " -o " + path("link.csv"), {"bad.txt"});
  EXPECT_EQ(slurp(out), "earlier\n");
  EXPECT_TRUE(fs::is_symlink(path("link.csv")));
  const CliRun ok = betamix("predict --model " + model + " " + write("good.txt", "0.2\n0.9\n") +
                            " -o " + path("link.csv") + " -q");
  ASSERT_EQ(ok.code, 0) << ok.err;
  EXPECT_EQ(slurp(out).substr(0, 16), "p1,p2,component\n");
  EXPECT_TRUE(fs::is_symlink(path("link.csv")));
  std::size_t entries = 0;
  for (const auto& entry : fs::directory_iterator(path(""))) {
    ++entries;
    EXPECT_EQ(entry.path().filename().string().find(".betamix-"), std::string::npos);
  }
  EXPECT_GT(entries, 0u);
}

// SIGTERM (or Ctrl-C) during a run leaves nothing of an output in progress: here predict waits
// on a pipe that never ends, its output started, and is stopped. The output in progress is an
// unnamed file in the directory (O_TMPFILE; /proc lists it among the process's files as
// "DIR/#INODE (deleted)"), or, where the file system takes none (and with
// BETAMIX_NAMED_TEMPORARIES=1, which stands for such a file system), a hidden temporary file
// that the signal handler removes.
TEST_F(CliTest, ASignalRemovesTheOutputInProgress) {
  const std::string model =
      write("model.json", R"({"weights": [0.25, 0.75], "alpha": [2, 7], "beta": [9, 3]})");
  const std::string fifo = path("in.fifo"), out = path("out.csv");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const std::string dir = path("");
  const std::string real_dir = fs::canonical(dir).string() + "/";  // as /proc names it
  // How many named and unnamed temporary files of the process are there: "N U".
  const std::string count = "{ ls -a " + dir + " | grep -c betamix- ; ls -l /proc/$pid/fd | " +
                            "grep -c '" + real_dir + "#.*(deleted)' ; } | paste -sd' '";
#ifdef O_TMPFILE  // the writer's condition for unnamed files
  const int probe = ::access("/proc/self/fd", X_OK) == 0
                        ? ::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600)
                        : -1;
  if (probe >= 0) ::close(probe);
#else
  const int probe = -1;
#endif
  for (const bool named : {false, true}) {
    const std::string script =
        "(sleep 30 > " + fifo + " & echo $! > " + path("writer.pid") + "); " +
        (named ? "BETAMIX_NAMED_TEMPORARIES=1 " : "") + std::string(BETAMIX_CLI_PATH) +
        " predict --model " + model + " - -o " + out + " < " + fifo +
        " & pid=$!; for i in $(seq 200); do [ \"$(" + count +
        ")\" != '0 0' ] && break; sleep 0.05; done; " + count + " > " + path("seen") +
        "; kill -TERM $pid; wait $pid; echo $? > " + path("status") + "; kill $(cat " +
        path("writer.pid") + ") 2>/dev/null; true";
    ASSERT_EQ(std::system(script.c_str()), 0);
    // While it ran, the one or the other existed.
    EXPECT_EQ(slurp(path("seen")), named || probe < 0 ? "1 0\n" : "0 1\n") << named;
    EXPECT_EQ(slurp(path("status")), "143\n");  // ended by SIGTERM (128 + 15)
    EXPECT_FALSE(fs::exists(out));
    for (const auto& entry : fs::directory_iterator(dir)) {
      EXPECT_EQ(entry.path().filename().string().find("betamix-"), std::string::npos)
          << entry.path();
    }
  }
}

// Ctrl-C during a fit ends it at the point reached: the result is written (status "stopped")
// and the exit code is 130. The signal is sent once the fit's handler is in place (SIGINT among
// the caught signals of the betamix process in /proc/PID/status); `set -m` keeps the background job
// from ignoring SIGINT, as scripts' background jobs do. (A second Ctrl-C, which ends the process
// without a result, races here with the end of the iteration of 2000 samples, and is not tested.)
TEST_F(CliTest, CtrlCStopsAFitAndWritesWhatItReached) {
  const CliRun drawn =
      betamix("sample --weights 0.5,0.5 --alpha 10,1.5 --beta 1.5,10 -n 2000 --seed 4 -q -o " +
              path("x.npy"));
  ASSERT_EQ(drawn.code, 0) << drawn.err;
  const std::string out = path("r.json");
  const std::string script =
      "set -m; " + std::string(BETAMIX_CLI_PATH) + " fit " + path("x.npy") +
      " -k 1:3 --tol 0 --max-iter 100000000 --device cpu -o " + out + " 2> " + path("err") +
      " & pid=$!; for i in $(seq 400); do m=$(awk '/^SigCgt/ {print $2}' /proc/$pid/status); "
      "[ \"$(cat /proc/$pid/comm)\" = betamix ] && [ $(( 0x${m:-0} & 2 )) -ne 0 ] && break; "
      "sleep 0.025; done; kill -INT $pid; wait $pid; "
      "echo $? > " +
      path("status") + "\n";
  ASSERT_EQ(std::system(("bash " + write("stop.sh", script)).c_str()), 0);
  const std::string err = slurp(path("err"));
  EXPECT_EQ(slurp(path("status")), "130\n") << err;
  EXPECT_NE(err.find("stopping at the end of this iteration"), std::string::npos) << err;
  EXPECT_NE(err.find("stopped after"), std::string::npos) << err;
  const nlohmann::json j = nlohmann::json::parse(slurp(out));
  EXPECT_EQ(j["status"], "stopped");
  // Whole: as many points as iterations (the stop may come before the first step).
  EXPECT_EQ(j["history"].size(), j["iterations"].get<std::size_t>() + 1);
  EXPECT_EQ(j["k"], 1);
  ASSERT_EQ(j["selection"].size(), 1u);
  EXPECT_EQ(j["selection_notes"][0], "stopped during K = 1: K = 2, 3 not fitted");
}

// Out of host memory is exit 3 with the size that was needed: an input whose size is known
// before it is read (a sparse raw file of 64 GB), and the demo's sample. The address space is
// limited to 4 GB so that the allocations fail on any machine.
TEST_F(CliTest, OutOfHostMemorySaysHowMuch) {
  const std::string big = path("big.f64");
  std::ofstream(big).put('\0');
  fs::resize_file(big, std::uintmax_t{8'000'000'000} * 8);  // sparse: no blocks are written
  const auto limited = [&](const std::string& args) {
    const std::string err = path("limited_stderr");
    const int status = std::system(("(ulimit -v 4000000; exec " + std::string(BETAMIX_CLI_PATH) +
                                    " " + args + ") >/dev/null 2>" + err + " </dev/null")
                                       .c_str());
    CliRun r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.err = slurp(err);
    return r;
  };
  const CliRun fit = limited("fit " + big + " -k 1 -q");
  EXPECT_EQ(fit.code, 3) << fit.err;
  EXPECT_NE(fit.err.find("8000000000 values need 64.0 GB of host memory"), std::string::npos)
      << fit.err;
  const CliRun demo = limited("demo -n 10000000000");
  EXPECT_EQ(demo.code, 3) << demo.err;
  EXPECT_NE(demo.err.find("10000000000 samples need 80.0 GB of host memory"), std::string::npos)
      << demo.err;
}

// Options out of their range are exit 2 with a plain message: a thread count OpenMP cannot
// start, a negative count or seed (which would otherwise wrap to 2^64 - 1), an eps so small
// that 1 - eps is 1, a K listed twice.
TEST_F(CliTest, OptionRanges) {
  const std::string data = write("d.txt", "0.2\n0.4\n0.5\n0.9\n0.35\n");
  expect_bad_input("fit " + data + " -k 1 --threads 100000", {"--threads", "0 to 1024"});
  expect_bad_input("fit " + data + " -k 1 --threads -1", {"--threads"});
  expect_bad_input("sample --weights 1 --alpha 2 --beta 2 -n -1 -o " + path("x.npy"),
                   {"-n", "whole number", "\"-1\""});
  expect_bad_input("sample --weights 1 --alpha 2 --beta 2 -n 3 --seed -5 -o " + path("x.npy"),
                   {"--seed", "whole number"});
  expect_bad_input(
      "sample --weights 1 --alpha 2 --beta 2 -n 3 --seed 18446744073709551616 -o " + path("x.npy"),
      {"--seed", "whole number"});
  EXPECT_FALSE(fs::exists(path("x.npy")));
  expect_bad_input("demo -n -1", {"-n", "whole number"});
  expect_bad_input("fit " + data + " -k 1 --restarts 0", {"--restarts", "from 1", "\"0\""});
  expect_bad_input("fit " + data + " -k 1 --lr abc", {"--lr", "above 0", "\"abc\""});
  expect_bad_input("fit " + data + " -k 1 --tol -1", {"--tol", "0 or more"});
  expect_bad_input("fit " + data + " -k 1 --on-boundary clamp --eps 1e-17",
                   {"--eps", "2^-53", "got 1e-17"});
  expect_bad_input("fit " + data + " -k 2,2", {"-k", "twice"});
  const CliRun ok = betamix("fit " + data + " -k 1 -q --threads 1 --seed 18446744073709551615");
  EXPECT_EQ(ok.code, 0) << ok.err;
  EXPECT_EQ(nlohmann::json::parse(ok.out)["seed"].get<std::uint64_t>(),
            std::uint64_t{18446744073709551615u});
}

// Model files that cannot be read as a model name the file: a directory, a number beyond a
// double.
TEST_F(CliTest, UnreadableModelFiles) {
  const std::string data = write("d.txt", "0.2\n0.4\n0.5\n0.9\n");
  const std::string huge = write("huge.json", R"({"weights": [1], "alpha": [1e999], "beta": [2]})");
  expect_bad_input("score --model " + huge + " " + data, {"huge.json", "range of a double"});
  fs::create_directory(path("adir"));
  expect_bad_input("score --model " + path("adir") + " " + data, {"adir", "is a directory"});
  expect_bad_input("fit " + data + " -k 1 --init-from " + path("adir"), {"is a directory"});
}

// A model file is one JSON object whose optional fields agree with the lists: a "k" that
// does not count them, a "history" that is not a list, a "mean_nll" that is not a number and
// a key given twice are refused (each had been ignored, or the last copy taken); a K
// selection result, with "k" in nested objects too, still reads.
TEST_F(CliTest, ModelFileFieldsAgree) {
  const std::string data = write("d.txt", "0.2\n0.4\n0.5\n0.9\n");
  const std::string lists = R"("weights": [0.5, 0.5], "alpha": [1, 2], "beta": [1, 2])";
  const auto model = [&](const std::string& name, const std::string& extra) {
    return write(name, "{" + lists + extra + "}");
  };
  expect_bad_input("predict --model " + model("k3.json", R"(, "k": 3)") + " " + data,
                   {"k3.json", "field \"k\" is 3, but the lists hold 2 components"});
  expect_bad_input("score --model " + model("ks.json", R"(, "k": "two")") + " " + data,
                   {"ks.json", "field \"k\" is \"two\""});
  expect_bad_input("plot --model " + model("h.json", R"(, "history": "x")") + " " + data + " -o " +
                       path("p.svg"),
                   {"h.json", "field \"history\" is not a list"});
  expect_bad_input("plot --model " + model("m.json", R"(, "mean_nll": "low")") + " " + data +
                       " -o " + path("p.svg"),
                   {"m.json", "field \"mean_nll\" is not a number"});
  // The result's mean NLL, where it is not the history's last, is marked; null (how JSON
  // writes a value that was not finite) is a mean NLL not known, and there is no mark.
  for (const std::string mean_nll : {"1", "null"}) {
    const std::string m =
        model("mn.json", R"(, "history": [3, 2, 1, 1.5], "mean_nll": )" + mean_nll);
    ASSERT_EQ(betamix("plot --model " + m + " " + data + " -o " + path("mn.svg")).code, 0);
    EXPECT_EQ(slurp(path("mn.svg")).find("result-point") != std::string::npos, mean_nll == "1");
  }
  expect_bad_input("score --model " + model("dup.json", R"(, "weights": [0.9, 0.1])") + " " + data,
                   {"dup.json", "the key \"weights\" appears twice"});
  expect_bad_input("score --model " + write("a.json", "[1, 2]") + " " + data,
                   {"a.json", "expected a JSON object"});
  EXPECT_EQ(betamix("score -q --model " + model("k2.json", R"(, "k": 2)") + " " + data).code, 0);
  // A count written as 2.0 is still 2; 2.5 is no count.
  EXPECT_EQ(betamix("score -q --model " + model("k2f.json", R"(, "k": 2.0)") + " " + data).code, 0);
  expect_bad_input("score --model " + model("k25.json", R"(, "k": 2.5)") + " " + data,
                   {"k25.json", "field \"k\" is 2.5"});
  const std::string sel = path("sel.json");
  ASSERT_EQ(betamix("fit " + data + " -k 1:2 --no-se -q -o " + sel).code, 0);
  EXPECT_EQ(betamix("score -q --model " + sel + " " + data).code, 0);
}

// Options that another option makes meaningless are refused, not dropped: --init beside
// --init-from, --criterion with one K, --lr with EM or SQUAREM; the plot and the JSON result
// cannot share standard output. --restarts says its real range, -k takes digits (blanks around
// them aside), and demo, which fits K = 2, does not suggest a -k it lacks.
TEST_F(CliTest, ConflictingOptionsAreRefused) {
  const std::string data = write("d.txt", "0.2\n0.4\n0.5\n0.9\n0.35\n0.6\n");
  const std::string start =
      write("s.json", R"({"weights": [0.5, 0.5], "alpha": [2, 5], "beta": [5, 2]})");
  const std::string fit = "fit " + data + " --device cpu ";
  expect_bad_input(fit + "-k 2 --init random --init-from " + start,
                   {"--init excludes --init-from"});
  expect_bad_input(fit + "-k 2 --criterion aic", {"--criterion chooses among several K"});
  expect_bad_input(fit + "-k 2 --method em --lr 0.1", {"--lr is Adam's step size", "em"});
  expect_bad_input(fit + "-k 2 --method squarem --lr 0.1", {"--lr is Adam's step size"});
  EXPECT_EQ(betamix(fit + "-k 2 --lr 0.1 -q").code, 0);
  EXPECT_EQ(betamix(fit + "-k 1:2 --criterion aic -q").code, 0);
  expect_bad_input(fit + "-k 2 --plot /dev/stdout",
                   {"--plot /dev/stdout writes to standard output"});
  expect_bad_input(fit + "-k 2 -o - --plot /dev/stdout", {"both write to standard output"});
  expect_bad_input(fit + "-k 2 --restarts 1000001", {"from 1 to 1000000"});
  EXPECT_NE(betamix("fit --help").out.find("INT in [1 to 1000000]"), std::string::npos);
  expect_bad_input(fit + "-k +2", {"-k \"+2\": expected a number"});
  for (const char* k : {"' 2'", "'2 '", "'1, 2'", "'1 : 2'"}) {
    EXPECT_EQ(betamix(fit + "-k " + k + " -q").code, 0) << k;
  }
  const std::string three =
      write("t.json", R"({"weights": [0.25, 0.25, 0.5], "alpha": [2, 2, 5], "beta": [3, 3, 1]})");
  expect_bad_input("demo --device cpu --init-from " + three,
                   {"the model has 3 components, but this command fits 2"});
  const CliRun demo = betamix("demo --device cpu --init-from " + three);
  EXPECT_EQ(demo.err.find("give -k"), std::string::npos) << demo.err;
}

// A result that cannot be delivered is an error: standard output on a full device (the
// result lost) is exit 1, as is a file on one (a write that fails midway, unlike an output
// refused before the work, is not bad input); a file name that is not UTF-8 does not stop the
// JSON.
TEST_F(CliTest, LostOutputIsAnError) {
  const std::string data = write("d.txt", "0.2\n0.4\n0.5\n0.9\n0.35\n");
  if (fs::exists("/dev/full")) {
    // Standard output to /dev/full (betamix() would send it to a file).
    const auto to_full = [&](const std::string& args) {
      const std::string err = path("full_stderr");
      const int status = std::system(
          (std::string(BETAMIX_CLI_PATH) + " " + args + " >/dev/full 2>" + err + " </dev/null")
              .c_str());
      CliRun r;
      r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      r.err = slurp(err);
      return r;
    };
    const std::string model = write("m.json", R"({"weights": [1], "alpha": [2], "beta": [3]})");
    for (const std::string& args :
         {"fit " + data + " -k 1 -q", "pdf --model " + model, "score --model " + model + " " + data,
          std::string("demo -n 1000")}) {
      const CliRun r = to_full(args);
      EXPECT_EQ(r.code, 1) << args << ": " << r.err;
      EXPECT_NE(r.err.find("stdout: write failed"), std::string::npos) << args << ": " << r.err;
    }
    const CliRun file = betamix("fit " + data + " -k 1 -q -o /dev/full");
    EXPECT_EQ(file.code, 1) << file.err;
    EXPECT_NE(file.err.find("/dev/full"), std::string::npos) << file.err;
  }
  const std::string odd = path("odd\xff.txt");
  fs::copy_file(data, odd);
  const CliRun r = betamix("fit '" + odd + "' -k 1 -q");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(nlohmann::json::parse(r.out)["source"].get<std::string>().find("\xEF\xBF\xBD"),
            std::string::npos);
}

// A model file whose weights do not sum to 1 (up to a hand-written file's rounding) is refused
// by every command that reads one, not silently rescaled.
TEST_F(CliTest, ModelWeightsMustSumToOne) {
  const std::string data = write("d.txt", "0.2\n0.4\n0.5\n0.9\n");
  const std::string bad =
      write("bad.json", R"({"weights": [0.5, 0.6], "alpha": [2, 7], "beta": [9, 3]})");
  for (const std::string& cmd :
       {"sample --model " + bad + " -n 5 -o " + path("x.txt"), "pdf --model " + bad,
        "score --model " + bad + " " + data, "predict --model " + bad + " " + data,
        "plot --model " + bad + " " + data + " -o " + path("p.svg"),
        "fit " + data + " -k 2 --init-from " + bad}) {
    expect_bad_input(cmd, {"bad.json", "the weights sum to 1.1, not 1"});
  }
  const std::string thirds =
      write("thirds.json", R"({"weights": [0.33333, 0.33333, 0.33333], "alpha": [2, 5, 9],
                         "beta": [9, 5, 2]})");
  const CliRun pdf = betamix("pdf --model " + thirds + " --grid 3");
  EXPECT_EQ(pdf.code, 0) << pdf.err;
}

// Data on a single value have no Beta fit: fit and crosscheck say so, naming the file.
TEST_F(CliTest, DataOnOneValue) {
  const std::string f = write("same.txt", "0.37\n0.37\n0.37\n0.37\n");
  expect_bad_input("fit " + f + " -k 1", {"same.txt", "every sample equals 0.37", "single value"});
  expect_bad_input("crosscheck " + f + " -k 1", {"same.txt", "every sample equals 0.37"});
}

// Adam stopped by its iteration limit points to the alternatives, or to --lr where the fit
// stood still; EM stopped so does not.
TEST_F(CliTest, UnconvergedAdamGetsAHint) {
  const std::string f = path("d.f64");
  ASSERT_EQ(betamix("sample --weights 0.5,0.5 --alpha 10,1.5 --beta 1.5,10 -n 2000 -o " + f).code,
            0);
  const CliRun adam = betamix("fit " + f + " -k 2 --device cpu --max-iter 5");
  ASSERT_EQ(adam.code, 0) << adam.err;
  EXPECT_NE(adam.err.find("max_iterations"), std::string::npos) << adam.err;
  EXPECT_NE(adam.err.find("hint: Adam did not converge"), std::string::npos) << adam.err;
  const CliRun em = betamix("fit " + f + " -k 2 --device cpu --max-iter 1 --method em");
  ASSERT_EQ(em.code, 0) << em.err;
  EXPECT_NE(em.err.find("max_iterations"), std::string::npos) << em.err;
  EXPECT_EQ(em.err.find("hint:"), std::string::npos) << em.err;
  // A step size too small to move the parameters is named as the cause instead.
  const CliRun still = betamix("fit " + f + " -k 2 --device cpu --max-iter 50 --lr 1e-300");
  ASSERT_EQ(still.code, 0) << still.err;
  EXPECT_NE(still.err.find("max_iterations"), std::string::npos) << still.err;
  EXPECT_NE(still.err.find("step size (--lr) may be too small"), std::string::npos) << still.err;
  EXPECT_EQ(adam.err.find("--lr"), std::string::npos) << adam.err;
  // A narrow component pushed off its samples (RestartsTest's data) points to the remedies.
  const std::string narrow = path("n.f64");
  ASSERT_EQ(betamix("sample --weights 0.7,0.3 --alpha 5000,1000 --beta 5000,4000 -n 2000 --seed 3 "
                    "-o " +
                    narrow)
                .code,
            0);
  const CliRun lost = betamix("fit " + narrow + " -k 2 --device cpu --no-se");
  ASSERT_EQ(lost.code, 0) << lost.err;
  EXPECT_NE(lost.err.find("component_collapsed"), std::string::npos) << lost.err;
  EXPECT_NE(lost.err.find("--restarts 2 adds"), std::string::npos) << lost.err;
  const CliRun two = betamix("fit " + narrow + " -k 2 --device cpu --no-se --restarts 2");
  EXPECT_EQ(two.err.find("component_collapsed"), std::string::npos) << two.err;
  // A start that itself leaves a component without samples is named as the cause; no step
  // did it, so there is no hint about Adam's steps.
  const std::string far =
      write("far.json", R"({"weights": [0.5, 0.5], "alpha": [1, 100000], "beta": [1, 1]})");
  const CliRun dead = betamix("fit " + f + " -k 2 --device cpu --no-se --init-from " + far);
  ASSERT_EQ(dead.code, 0) << dead.err;
  EXPECT_NE(dead.err.find("component_collapsed after 0 iterations"), std::string::npos) << dead.err;
  EXPECT_NE(dead.err.find("the start puts it where the data are not"), std::string::npos)
      << dead.err;
  EXPECT_EQ(dead.err.find("hint:"), std::string::npos) << dead.err;
  // A start that gives a component weight 0 says so instead.
  const std::string zero =
      write("zero.json", R"({"weights": [1, 0], "alpha": [10, 1.5], "beta": [1.5, 10]})");
  const CliRun none = betamix("fit " + f + " -k 2 --device cpu --no-se --init-from " + zero);
  ASSERT_EQ(none.code, 0) << none.err;
  EXPECT_NE(none.err.find("the start gives it weight 0"), std::string::npos) << none.err;
}

TEST_F(CliTest, CudaRequestWithoutDevice) {
  if (betamix::cuda_available()) GTEST_SKIP() << "a CUDA device is visible";
  const std::string f = write("d.txt", "0.2\n0.5\n0.7\n");
  const CliRun r = betamix("fit " + f + " -k 1 --device cuda");
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_NE(r.err.find("cuda"), std::string::npos) << r.err;
  const CliRun a = betamix("fit " + f + " -k 1 --device auto");
  EXPECT_EQ(a.code, 0) << a.err;
  EXPECT_NE(a.err.find("running on the CPU"), std::string::npos) << a.err;
  // sample refuses before it creates the output, also where it would draw nothing.
  for (const char* n : {"0", "5"}) {
    const CliRun s =
        betamix(std::string("sample --weights 1 --alpha 2 --beta 3 --device cuda -n ") + n +
                " -o " + path("s.txt"));
    EXPECT_EQ(s.code, 3) << n << ": " << s.err;
    EXPECT_NE(s.err.find("device cuda"), std::string::npos) << s.err;
    EXPECT_FALSE(std::filesystem::exists(path("s.txt")));
  }
}

// The closing line says which device drew the values: auto resolves to the GPU only when one
// is visible, and cpu is the CPU.
TEST_F(CliTest, SampleSaysWhichDeviceDrew) {
  const std::string gen = "sample --weights 0.5,0.5 --alpha 10,1.5 --beta 1.5,10 -n 1000 -o ";
  const CliRun cpu = betamix(gen + path("cpu.f64") + " --device cpu");
  ASSERT_EQ(cpu.code, 0) << cpu.err;
  EXPECT_NE(cpu.err.find("drawn on the CPU"), std::string::npos) << cpu.err;
  const CliRun any = betamix(gen + path("auto.f64") + " --device auto");
  ASSERT_EQ(any.code, 0) << any.err;
  const std::string want = betamix::cuda_available() ? "drawn on the GPU" : "drawn on the CPU";
  EXPECT_NE(any.err.find(want), std::string::npos) << any.err;
}

TEST_F(CliTest, SampleThenFitEveryFormat) {
  for (const std::string ext : {"npy", "txt", "f32", "f64"}) {
    const std::string f = path("demo." + ext);
    const CliRun s =
        betamix("sample --weights 0.5,0.5 --alpha 10,1.5 --beta 1.5,10 -n 20000 --seed 3 -o " + f);
    ASSERT_EQ(s.code, 0) << s.err;
    const CliRun r = betamix("fit " + f + " -k 2 -q");
    ASSERT_EQ(r.code, 0) << ext << ": " << r.err;
    EXPECT_TRUE(r.err.empty()) << "--quiet printed: " << r.err;
    const auto j = nlohmann::json::parse(r.out);
    for (const char* key : {"k", "n", "weights", "alpha", "beta", "log_likelihood", "mean_nll",
                            "iterations", "converged", "status", "method", "device", "seed",
                            "seconds", "n_clamped", "aic", "bic", "icl", "history"}) {
      EXPECT_TRUE(j.contains(key)) << key;
    }
    EXPECT_EQ(j["n"], 20000);
    EXPECT_EQ(j["status"], "converged");
    // Sorted by mean: the first component is Beta(1.5, 10). Tolerance: 20000 samples give
    // standard errors of a few percent on the shapes; 15 % is far outside that.
    EXPECT_NEAR(j["alpha"][0].get<double>(), 1.5, 0.15 * 1.5) << ext;
    EXPECT_NEAR(j["beta"][1].get<double>(), 1.5, 0.15 * 1.5) << ext;
    EXPECT_NEAR(j["weights"][0].get<double>(), 0.5, 0.02) << ext;
  }
}

TEST_F(CliTest, SameSeedSameBytes) {
  const std::string a = path("a.f32"), b = path("b.f32");
  const std::string args =
      "sample --weights 0.3,0.7 --alpha 0.5,4 --beta 2,3 -n 100003 --seed 9 -o ";
  ASSERT_EQ(betamix(args + a).code, 0);
  ASSERT_EQ(betamix(args + b).code, 0);
  EXPECT_EQ(slurp(a), slurp(b));
  EXPECT_EQ(slurp(a).size(), 100003u * 4);
}

// `sample` draws and writes 2^22 values at a time: a file of more than one piece holds the
// values of one draw (the library's, for the same seed), in each binary format.
TEST_F(CliTest, SampleWrittenInPiecesIsOneDraw) {
  const std::size_t n = (std::size_t{1} << 22) + 5;
  const betamix::MixtureParams p{{0.3, 0.7}, {0.5, 4.0}, {2.0, 3.0}};
  std::vector<float> want(n);
  betamix::sample(p, n, 9, want.data(), betamix::Device::Cpu);
  const std::string args = "sample --weights 0.3,0.7 --alpha 0.5,4 --beta 2,3 -n " +
                           std::to_string(n) + " --seed 9 --device cpu -o ";
  ASSERT_EQ(betamix(args + path("x.f32")).code, 0);
  const std::string bytes = slurp(path("x.f32"));
  ASSERT_EQ(bytes.size(), n * sizeof(float));
  EXPECT_EQ(std::memcmp(bytes.data(), want.data(), bytes.size()), 0);
  ASSERT_EQ(betamix(args + path("x.npy") + " --dtype float32").code, 0);
  const std::string npy = slurp(path("x.npy"));
  ASSERT_EQ(npy.size(), 128 + n * sizeof(float));
  EXPECT_EQ(npy.substr(128), bytes);
  EXPECT_NE(npy.find("'shape': (" + std::to_string(n) + ",)"), std::string::npos);
}

TEST_F(CliTest, OutputFileAndStdin) {
  const std::string data = path("d.txt");
  ASSERT_EQ(betamix("sample --weights 1 --alpha 2 --beta 5 -n 5000 -o " + data).code, 0);
  const std::string out = path("result.json");
  CliRun r = betamix("fit " + data + " -k 1 -q -o " + out);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(r.out.empty());
  const auto j = nlohmann::json::parse(slurp(out));
  EXPECT_EQ(j["k"], 1);
  const std::string cmd =
      std::string(BETAMIX_CLI_PATH) + " fit - -k 1 -q < " + data + " > " + path("stdin.json");
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  const auto js = nlohmann::json::parse(slurp(path("stdin.json")));
  EXPECT_EQ(js["log_likelihood"], j["log_likelihood"]);
}

TEST_F(CliTest, DemoPrintsTruthAndFit) {
  const CliRun r = betamix("demo --device cpu");
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* f :
       {"converged", "log-likelihood", "( 10.0000)", "(  1.5000)", "(0.5000)", "cpu"}) {
    EXPECT_NE(r.out.find(f), std::string::npos) << f << " missing in:\n" << r.out;
  }
}

TEST_F(CliTest, HelpExplainsEveryCommand) {
  for (const std::string cmd : {"fit", "sample", "demo", "crosscheck"}) {
    const CliRun r = betamix(cmd + " --help");
    EXPECT_EQ(r.code, 0) << cmd;
    EXPECT_NE(r.out.find("Example"), std::string::npos) << cmd << ":\n" << r.out;
  }
  const CliRun fit = betamix("fit --help");
  for (const char* opt :
       {"--method", "--lr", "--max-iter", "--tol", "--seed", "--init", "--device", "--on-boundary",
        "--eps", "--format", "--column", "--output", "--quiet"}) {
    EXPECT_NE(fit.out.find(opt), std::string::npos) << opt;
  }
  EXPECT_EQ(betamix("").code, 2);
  EXPECT_EQ(betamix("fit").code, 2);
  expect_bad_input("bogus", {"unknown command \"bogus\"", "fit, sample"});
  expect_bad_input("--bogus", {"--bogus before the command", "fit, sample"});
  expect_bad_input("-n 5 sample", {"-n before the command"});
  // A newline in the first word stays escaped there too.
  expect_bad_input("'bo\ngus' x", {"unknown command \"bo\\x0agus\""});
  expect_bad_input("'--bo\ngus' x", {"--bo\\x0agus before the command"});
  // Whole-number options say so, and the hint names the command's own help.
  expect_bad_input("pdf --model m.json --grid 1.5",
                   {"--grid", "whole number", "\"1.5\"", "see betamix pdf --help"});
  expect_bad_input("fit x.txt -k 1 --threads 1.0", {"--threads", "whole number"});
  expect_bad_input("fit x.txt -k 1 --max-iter 1.5", {"--max-iter", "whole number"});
  expect_bad_input("fit x.txt -k 1 --restarts 0", {"--restarts", "from 1"});
}

// A held-out log-likelihood beyond the doubles (300000 samples of 1e-300 under Beta(1e300, 1):
// about -2e308) is null in the JSON, which has no infinity, with a note saying why.
TEST_F(CliTest, ScoreExplainsALikelihoodBeyondTheDoubles) {
  const std::vector<double> x(300000, 1e-300);
  const std::string data = write(
      "tiny.f64", std::string(reinterpret_cast<const char*>(x.data()), x.size() * sizeof(double)));
  write("m.json", R"({"weights": [1], "alpha": [1e300], "beta": [1]})");
  const CliRun r = betamix("score --model " + path("m.json") + " " + data);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_TRUE(j["log_likelihood"].is_null());
  EXPECT_TRUE(j["mean_nll"].is_null());
  EXPECT_NE(j.value("note", "").find("-inf"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("note: the log-likelihood is -inf"), std::string::npos) << r.err;
}

// Help on a full disk fails like any output; a model is not read from standard input; weights
// that sum beyond the doubles say so rather than "inf".
TEST_F(CliTest, HelpModelAndWeightSumEdges) {
  if (std::filesystem::exists("/dev/full")) {
    const std::string cmd =
        std::string(BETAMIX_CLI_PATH) + " sample --help >/dev/full 2>" + path("help.err");
    const int status = std::system(cmd.c_str());
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 1);
    EXPECT_NE(slurp(path("help.err")).find("stdout: write failed"), std::string::npos);
  }
  expect_bad_input("sample --model - -n 1 -o " + path("x.txt"), {"not from standard input"});
  const CliRun big =
      betamix("sample --weights 1e308,1e308 --alpha 1,2 --beta 2,1 -n 2 -o " + path("y.txt"));
  EXPECT_EQ(big.code, 0) << big.err;
  EXPECT_NE(big.err.find("sum to more than a double holds"), std::string::npos) << big.err;
}

// The summary table shows a shape too small for four decimals in scientific notation, not as
// 0.0000 beside a JSON value of 5e-324.
TEST_F(CliTest, SummaryShowsTinyValues) {
  const std::string x = write("x.txt", "0.2\n0.5\n0.7\n");
  write("s.json", R"({"weights": [1], "alpha": [5e-324], "beta": [1]})");
  const CliRun r = betamix("fit " + x + " -k 1 --max-iter 0 --no-se --init-from " + path("s.json"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("  1            1.0000  4.94e-324     1.0000  4.94e-324\n"),
            std::string::npos)
      << r.err;
}

TEST_F(CliTest, CrosscheckPassesAndCatchesAPerturbedRun) {
  const std::string data = path("d.f64");
  ASSERT_EQ(
      betamix("sample --weights 0.5,0.5 --alpha 10,1.5 --beta 1.5,10 -n 20000 -o " + data).code, 0);
  const CliRun ok = betamix("crosscheck " + data + " -k 2 --against cpu");
  EXPECT_EQ(ok.code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("PASS"), std::string::npos) << ok.out;
  const CliRun bad = betamix("crosscheck " + data + " -k 2 --against cpu --perturb 0.01");
  EXPECT_EQ(bad.code, 1) << bad.out << bad.err;
  EXPECT_NE(bad.out.find("FAIL"), std::string::npos) << bad.out;
  // The mean NLL is compared relative to max(1, |mean NLL|): on three overlapping components
  // it is -0.046, and a start moved by 1e-5 changes it by 6e-7 nats per sample, within the
  // tolerance (relative to |mean NLL| it would be 1.3e-5); moved by 1e-4, it is beyond it.
  const std::string overlap = path("o.f64");
  ASSERT_EQ(betamix("sample --weights 0.3,0.4,0.3 --alpha 2,7,12 --beta 12,7,2 -n 20000 --seed 8 "
                    "-o " +
                    overlap)
                .code,
            0);
  const CliRun near = betamix("crosscheck " + overlap + " -k 3 --against cpu --perturb 1e-5");
  EXPECT_EQ(near.code, 0) << near.out << near.err;
  const CliRun far = betamix("crosscheck " + overlap + " -k 3 --against cpu --perturb 1e-4");
  EXPECT_EQ(far.code, 1) << far.out << far.err;
  EXPECT_NE(far.out.find("FAIL"), std::string::npos) << far.out;
  if (!betamix::cuda_available()) {
    // Without a GPU the default comparison cannot run: a device error that points to the
    // option crosscheck has (not fit's --device).
    const CliRun none = betamix("crosscheck " + data + " -k 2");
    EXPECT_EQ(none.code, 3) << none.err;
    EXPECT_NE(none.err.find("--against cpu"), std::string::npos) << none.err;
    EXPECT_EQ(none.err.find("--device"), std::string::npos) << none.err;
  }
}

TEST_F(CliTest, KSelectionTable) {
  const std::string data = path("d.f64");
  ASSERT_EQ(
      betamix("sample --weights 0.5,0.5 --alpha 10,1.5 --beta 1.5,10 -n 20000 -o " + data).code, 0);
  const CliRun r = betamix("fit " + data + " -k 1:3 --method em");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["selection"].size(), 3u);
  EXPECT_EQ(j["criterion"], "bic");
  EXPECT_EQ(j["k"], 2);
  EXPECT_NE(r.err.find("<- selected"), std::string::npos) << r.err;
  EXPECT_EQ(j["selection_notes"], nlohmann::json::array());
  // A K whose fit ends below a smaller K's starts again from that fit, and is noted under the
  // table and in the result (the case of SelectKTest.AFitBelowASmallerKStartsAgainFromIt).
  const std::string u = path("u.f64");
  ASSERT_EQ(betamix("sample --weights 0.3,0.35,0.35 --alpha 0.4,10,2 --beta 0.4,2,10 -n 5000 "
                    "--seed 1 -o " +
                    u)
                .code,
            0);
  const CliRun below = betamix("fit " + u + " -k 1:4 --no-se --device cpu");
  ASSERT_EQ(below.code, 0) << below.err;
  const auto b = nlohmann::json::parse(below.out);
  ASSERT_EQ(b["selection_notes"].size(), 1u);
  const std::string note = b["selection_notes"][0].get<std::string>();
  EXPECT_EQ(note.rfind("K = 4 (status converged) ended ", 0), 0u) << note;
  EXPECT_GE(b["selection"][3]["log_likelihood"].get<double>(),
            b["selection"][2]["log_likelihood"].get<double>());
  EXPECT_NE(below.err.find("  note: " + note + "\n"), std::string::npos) << below.err;
}

// --method squarem reaches EM's optimum from the command line (LL to 1e-9 relative: both stop
// within ~1e-10 of it) and says so in the result; an unknown method is bad input.
TEST_F(CliTest, SquaremMethod) {
  const std::string data = path("d.f64");
  ASSERT_EQ(
      betamix("sample --weights 0.3,0.4,0.3 --alpha 2,7,12 --beta 12,7,2 -n 20000 -o " + data).code,
      0);
  const CliRun em = betamix("fit " + data + " -k 3 --method em --no-se --device cpu");
  const CliRun sq = betamix("fit " + data + " -k 3 --method squarem --no-se --device cpu");
  ASSERT_EQ(em.code, 0) << em.err;
  ASSERT_EQ(sq.code, 0) << sq.err;
  const auto e = nlohmann::json::parse(em.out), q = nlohmann::json::parse(sq.out);
  EXPECT_EQ(q["method"], "squarem");
  EXPECT_EQ(q["status"], "converged");
  const double ll = e["log_likelihood"].get<double>();
  EXPECT_NEAR(q["log_likelihood"].get<double>(), ll, 1e-9 * std::abs(ll));
  EXPECT_LT(q["iterations"].get<int>(), e["iterations"].get<int>());
  expect_bad_input("fit " + data + " -k 3 --method newton", {"--method", "newton"});
}

// Case weights through the CLI: a weights file and a CSV weight column give the fit of the
// rows repeated weight-many times: the same maximum, LL (and AIC/BIC, n = sum of the weights)
// to 1e-12 relative. The two runs sum the same terms in different orders, and at a flat
// maximum a rounding-level change of LL moves the parameters by ~sqrt(1e-16): they agree to
// ~5e-8 here, checked at 1e-6 (tests/weights_test.cpp checks the pass itself to 1e-13).
TEST_F(CliTest, CaseWeightsEqualRepeatedRows) {
  const std::vector<double> x = betamix::sample({{0.4, 0.6}, {2.0, 9.0}, {7.0, 3.0}}, 501, 8);
  std::string csv = "w,x\n", values, weights, repeated;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const int copies = static_cast<int>(i % 4);
    const std::string v = std::to_string(x[i]);  // the same text everywhere
    csv += std::to_string(copies) + "," + v + "\n";
    values += v + "\n";
    weights += std::to_string(copies) + "\n";
    for (int c = 0; c < copies; ++c) repeated += v + "\n";
  }
  write("start.json", R"({"weights": [0.5, 0.5], "alpha": [1.5, 8.0], "beta": [6.0, 2.5]})");
  const std::string common =
      " -k 2 --init-from " + path("start.json") + " --tol 1e-14 --device cpu -q";
  const CliRun rep = betamix("fit " + write("rep.txt", repeated) + common);
  const CliRun file = betamix("fit " + write("x.txt", values) + " --weights-file " +
                              write("w.txt", weights) + common);
  const CliRun column =
      betamix("fit " + write("xw.csv", csv) + " --column x --weight-column w" + common);
  // Both columns from standard input: read from a copy in TMPDIR, removed afterwards.
  const std::string tmp = path("tmp");
  std::filesystem::create_directory(tmp);
  std::optional<betamix::test::ScopedEnv> tmpdir(std::in_place, "TMPDIR", tmp.c_str());
  const CliRun piped =
      betamix("fit - --format csv --column x --weight-column w" + common, path("xw.csv"));
  tmpdir->set(path("missing").c_str());
  const CliRun nowhere =
      betamix("fit - --format csv --column x --weight-column w" + common, path("xw.csv"));
  EXPECT_EQ(nowhere.code, 1);
  EXPECT_NE(nowhere.err.find("missing: cannot create a temporary file"), std::string::npos)
      << nowhere.err;
  EXPECT_NE(nowhere.err.find("TMPDIR"), std::string::npos) << nowhere.err;
  tmpdir->set("");  // empty counts as unset: /tmp
  const CliRun empty_tmpdir =
      betamix("fit - --format csv --column x --weight-column w" + common, path("xw.csv"));
  EXPECT_EQ(empty_tmpdir.code, 0) << empty_tmpdir.err;
  tmpdir.reset();
  EXPECT_TRUE(std::filesystem::is_empty(tmp));
  // A standard input that cannot be read is bad input (exit 2), as it is without the copy.
  const CliRun unreadable =
      betamix("fit - --format csv --column x --weight-column w" + common, tmp);
  EXPECT_EQ(unreadable.code, 2) << unreadable.err;
  EXPECT_NE(unreadable.err.find("stdin: read error"), std::string::npos) << unreadable.err;

  ASSERT_EQ(rep.code, 0) << rep.err;
  ASSERT_EQ(piped.code, 0) << piped.err;
  EXPECT_EQ(nlohmann::json::parse(piped.out)["source"], "stdin");
  for (const CliRun* r : {&file, &column, &piped}) {
    ASSERT_EQ(r->code, 0) << r->err;
    const auto a = nlohmann::json::parse(r->out), b = nlohmann::json::parse(rep.out);
    for (const char* key : {"log_likelihood", "aic", "bic"}) {
      EXPECT_NEAR(a[key].get<double>(), b[key].get<double>(),
                  1e-12 * std::abs(b[key].get<double>()))
          << key;
    }
    for (const char* key : {"weights", "alpha", "beta"}) {
      for (int j = 0; j < 2; ++j) {
        EXPECT_NEAR(a[key][j].get<double>(), b[key][j].get<double>(),
                    1e-6 * std::abs(b[key][j].get<double>()))
            << key << j;
      }
    }
    EXPECT_EQ(a["n"], 501);
    EXPECT_DOUBLE_EQ(a["total_weight"].get<double>(), b["n"].get<double>());
  }
}

TEST_F(CliTest, BadCaseWeights) {
  const std::string x = write("x.txt", "0.2\n0.5\n0.7\n");
  expect_bad_input("fit " + x + " -k 1 --weights-file " + write("neg.txt", "1\n-2\n1\n"),
                   {"neg.txt", "line 2", "negative"});
  expect_bad_input("fit " + x + " -k 1 --weights-file " + write("nan.txt", "1\n1\nnan\n"),
                   {"nan.txt", "line 3", "NaN"});
  expect_bad_input("fit " + x + " -k 1 --weights-file " + write("short.txt", "1\n1\n"),
                   {"short.txt", "2 case weights for 3 samples", "x.txt"});
  expect_bad_input("fit " + x + " -k 1 --weights-file " + write("zero.txt", "0\n0\n0\n"),
                   {"zero.txt", "sum to 0"});
  const std::string csv = write("xw.csv", "x,w\n0.2,1\n0.5,\n0.7,1\n");
  expect_bad_input("fit " + csv + " -k 1 --column x --weight-column w",
                   {"xw.csv (weight column w): line 3, column 2", "empty"});
  expect_bad_input("fit " + csv + " -k 1 --column x --weight-column v", {"xw.csv", "\"v\""});
  expect_bad_input("fit - -k 1 --weights-file -", {"standard input", "one CSV"});
  expect_bad_input("fit - -k 1 --weight-column w", {"stdin", "--format csv"});
}

// predict, score and pdf on a fitted model: posteriors against the library, the held-out
// log-likelihood against the library, the density grid's shape, and the same input checks
// as fit.
TEST_F(CliTest, PredictScorePdf) {
  const betamix::MixtureParams truth{{0.5, 0.5}, {10.0, 1.5}, {1.5, 10.0}};
  const std::string data = path("d.f64"), model = path("model.json");
  ASSERT_EQ(
      betamix("sample --weights 0.5,0.5 --alpha 10,1.5 --beta 1.5,10 -n 257 --seed 4 -o " + data)
          .code,
      0);
  ASSERT_EQ(betamix("fit " + data + " -k 2 -q --device cpu -o " + model).code, 0);
  const auto fitted = nlohmann::json::parse(slurp(model));
  const betamix::MixtureParams p{fitted["weights"].get<std::vector<double>>(),
                                 fitted["alpha"].get<std::vector<double>>(),
                                 fitted["beta"].get<std::vector<double>>()};
  const std::vector<double> x = betamix::sample(truth, 257, 4);
  const std::vector<double> post = betamix::responsibilities(p, x);

  const CliRun csv = betamix("predict --model " + model + " " + data);
  ASSERT_EQ(csv.code, 0) << csv.err;
  std::istringstream lines(csv.out);
  std::string line;
  std::getline(lines, line);
  EXPECT_EQ(line, "p1,p2,component");
  for (std::size_t i = 0; std::getline(lines, line); ++i) {
    ASSERT_LT(i, x.size());
    double p1 = 0, p2 = 0;
    int c = 0;
    ASSERT_EQ(std::sscanf(line.c_str(), "%lf,%lf,%d", &p1, &p2, &c), 3) << line;
    EXPECT_EQ(p1, post[2 * i]) << i;  // shortest round-trip text: exact
    EXPECT_EQ(p2, post[2 * i + 1]) << i;
    EXPECT_EQ(c, p1 >= p2 ? 1 : 2) << i;
  }
  const CliRun npy = betamix("predict --model " + model + " " + data + " -o " + path("p.npy"));
  ASSERT_EQ(npy.code, 0) << npy.err;
  const std::string bytes = slurp(path("p.npy"));
  EXPECT_NE(bytes.find("'shape': (257, 3)"), std::string::npos);
  EXPECT_EQ(bytes.size() % 64, (257 * 3 * 8) % 64);
  double first[3];
  std::memcpy(first, bytes.data() + bytes.size() - 257 * 3 * 8, sizeof first);
  EXPECT_EQ(first[0], post[0]);
  EXPECT_EQ(first[1], post[1]);

  const CliRun score = betamix("score --model " + model + " " + data + " --device cpu");
  ASSERT_EQ(score.code, 0) << score.err;
  const auto s = nlohmann::json::parse(score.out);
  const double ll = betamix::log_likelihood(p, x);
  EXPECT_NEAR(s["log_likelihood"].get<double>(), ll, 1e-10 * std::abs(ll));
  EXPECT_NEAR(s["mean_nll"].get<double>(), -ll / 257, 1e-10 * std::abs(ll));
  EXPECT_EQ(s["n"], 257);
  EXPECT_NE(score.err.find("mean NLL"), std::string::npos) << score.err;

  const CliRun pdf = betamix("pdf --model " + model + " --grid 7");
  ASSERT_EQ(pdf.code, 0) << pdf.err;
  EXPECT_EQ(std::count(pdf.out.begin(), pdf.out.end(), '\n'), 8);
  EXPECT_EQ(pdf.out.rfind("x,mixture,component_1,component_2\n", 0), 0u) << pdf.out;

  const std::string bad = write("bad.txt", "0.5\n1.5\n");
  expect_bad_input("predict --model " + model + " " + bad, {"bad.txt", "line 2", "outside"});
  EXPECT_EQ(betamix("predict --model " + model + " " + bad).out, "")
      << "a bad first chunk leaves nothing on standard output, not even the header";
  expect_bad_input("score --model " + model + " " + bad, {"bad.txt", "line 2", "outside"});
  expect_bad_input("score --model " + path("none.json") + " " + data, {"none.json"});
  expect_bad_input("predict --model " + model + " " + data + " -o " + path("p.xlsx"), {"p.xlsx"});
}

// predict and score read, compute and write in chunks of 2^20 samples: over more than one
// chunk, every row and the log-likelihood are those of the library on the whole data (the same
// double math on the CPU: exact for the posteriors; the chunked LL sums in another order), the
// .npy header names the final row count, and a weights file one short is an error naming both
// totals once both inputs have been read to their ends.
TEST_F(CliTest, PredictAndScoreStreamOverChunks) {
  const std::size_t n = (std::size_t{1} << 20) + 7;
  const std::string data = path("d.f64"), model = path("model.json");
  ASSERT_EQ(betamix("sample --weights 0.4,0.6 --alpha 2,6 --beta 7,2 -n " + std::to_string(n) +
                    " --seed 8 -o " + data)
                .code,
            0);
  write("model.json", R"({"weights": [0.45, 0.55], "alpha": [2.2, 5.5], "beta": [6.5, 2.1]})");
  const betamix::MixtureParams p{{0.45, 0.55}, {2.2, 5.5}, {6.5, 2.1}};
  const std::vector<double> x = betamix::sample({{0.4, 0.6}, {2, 6}, {7, 2}}, n, 8);
  const std::vector<double> post = betamix::responsibilities(p, x);

  const CliRun npy =
      betamix("predict --model " + model + " " + data + " --device cpu -o " + path("p.npy"));
  ASSERT_EQ(npy.code, 0) << npy.err;
  EXPECT_NE(npy.err.find(std::to_string(n) + " samples"), std::string::npos) << npy.err;
  const std::string bytes = slurp(path("p.npy"));
  EXPECT_NE(bytes.find("'shape': (" + std::to_string(n) + ", 3)"), std::string::npos);
  ASSERT_EQ((bytes.size() - n * 3 * 8) % 64, 0u) << "the data start at a multiple of 64 bytes";
  const double* rows = reinterpret_cast<const double*>(bytes.data() + bytes.size() - n * 3 * 8);
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const int best = post[2 * i] >= post[2 * i + 1] ? 1 : 2;
    if (rows[3 * i] != post[2 * i] || rows[3 * i + 1] != post[2 * i + 1] || rows[3 * i + 2] != best)
      ++wrong;
  }
  EXPECT_EQ(wrong, 0u);

  const CliRun score = betamix("score --model " + model + " " + data + " --device cpu");
  ASSERT_EQ(score.code, 0) << score.err;
  const auto j = nlohmann::json::parse(score.out);
  const double ll = betamix::log_likelihood(p, x);
  // Each sample's log-density to ~1e-16 relative, |L_i| ~ 1: the sums agree to ~1e-13 n.
  EXPECT_NEAR(j["log_likelihood"].get<double>(), ll, 1e-12 * static_cast<double>(n));
  EXPECT_EQ(j["n"], n);

  std::string halves;  // valid as weights and as samples
  for (std::size_t i = 0; i + 1 < n; ++i) halves += "0.5\n";
  const std::string w = write("w.txt", halves);
  expect_bad_input(
      "score --model " + model + " " + data + " --weights-file " + w,
      {"w.txt", std::to_string(n - 1) + " case weights for " + std::to_string(n) + " samples"});
  expect_bad_input(
      "score --model " + model + " " + w + " --weights-file " + data,
      {"d.f64", std::to_string(n) + " case weights for " + std::to_string(n - 1) + " samples"});
}

// An empty value (an unset shell variable) is an error, never "not given": an empty
// --weights-file would otherwise fit without the weights.
TEST_F(CliTest, EmptyValuesAreRefused) {
  const std::string x = write("x.txt", "0.2\n0.5\n0.7\n");
  // --eps out of its range is refused also where nothing is clamped.
  expect_bad_input("fit " + x + " -k 1 --eps 1e-20", {"--eps", "2^-53"});
  expect_bad_input("demo -n 100 --eps 0.6", {"--eps", "0.5"});
  expect_bad_input("fit " + x + " -k 1 --weights-file ''", {"fit --weights-file", "empty"});
  expect_bad_input("fit " + x + " -k 1 -o ''", {"fit --output", "empty"});
  expect_bad_input("fit '' -k 1", {"fit FILE", "empty"});
  expect_bad_input("pdf --model ''", {"pdf --model", "empty"});
  expect_bad_input("sample --weights 1 --alpha 1 --beta '' -n 1 -o " + path("y.txt"),
                   {"sample --beta", "empty"});
  EXPECT_FALSE(std::filesystem::exists(path("y.txt")));
  const CliRun version = betamix("--version");
  EXPECT_EQ(version.code, 0);
  EXPECT_EQ(version.out.rfind("betamix 0.", 0), 0u) << version.out;
  EXPECT_NE(version.out.find("CUDA backend"), std::string::npos) << version.out;
}

// Devices take the text format whatever their name: /dev/stdout (here sent to a file by the
// shell, whose contents must be appended to, not replaced) and /dev/null.
TEST_F(CliTest, DevicesAreWrittenInPlace) {
  write("m.json", R"({"weights": [0.5, 0.5], "alpha": [2, 5], "beta": [5, 2]})");
  const CliRun pdf = betamix("pdf --model " + path("m.json") + " --grid 4 -o /dev/stdout");
  EXPECT_EQ(pdf.code, 0) << pdf.err;
  EXPECT_EQ(std::count(pdf.out.begin(), pdf.out.end(), '\n'), 5) << pdf.out;  // header + 4
  const std::string x = write("x.txt", "0.2\n0.7\n");
  const CliRun predict =
      betamix("predict -q --model " + path("m.json") + " " + x + " -o /dev/stdout");
  EXPECT_EQ(predict.code, 0) << predict.err;
  EXPECT_EQ(predict.out.rfind("p1,p2,component\n", 0), 0u) << predict.out;
  const CliRun both = betamix("sample -q --weights 1 --alpha 2 --beta 3 -n 3 -o /dev/stdout");
  EXPECT_EQ(both.code, 0) << both.err;
  EXPECT_EQ(std::count(both.out.begin(), both.out.end(), '\n'), 3) << both.out;
  EXPECT_EQ(betamix("sample -q --weights 1 --alpha 2 --beta 3 -n 3 -o /dev/null").code, 0);
  const CliRun plot = betamix("plot --model " + path("m.json") + " " + x + " -o /dev/stdout");
  EXPECT_EQ(plot.code, 0) << plot.err;
  EXPECT_NE(plot.out.find("</svg>"), std::string::npos);
}

// Option checks made before any work: two outputs naming one file, a --plot that is not .svg,
// more than 1000 values of K, a warm start of the wrong K, crosscheck tolerances that cannot
// be met, an output under a regular file, one where no file can be created.
TEST_F(CliTest, ConflictingOutputsAndImpossibleOptions) {
  const std::string data = path("d.f64"), model = path("m.json");
  ASSERT_EQ(betamix("sample --weights 1 --alpha 2 --beta 5 -n 300 -o " + data).code, 0);
  ASSERT_EQ(betamix("fit " + data + " -k 1 -q --no-se -o " + model).code, 0);
  const std::string before = slurp(model);
  expect_bad_input("fit " + data + " -k 1 -o " + model + " --plot " + model, {"are the same file"});
  EXPECT_EQ(slurp(model), before);
  expect_bad_input("fit " + data + " -k 1 --plot " + path("fit.png"), {"ending in .svg"});
  if (std::filesystem::exists("/proc/self")) {
    // access() says /proc is writable; creating a file there fails, and so must the check,
    // before the fit (no summary on stderr).
    expect_bad_input("fit " + data + " -k 1 -o /proc/x.json", {"-o /proc/x.json: cannot write"});
  }
  expect_bad_input("fit " + data + " -k 1:2147483647", {"at most 1000 values of K"});
  expect_bad_input("fit " + data + " -k 2,3,", {"expected a number"});
  expect_bad_input("fit " + data + " -k 2 --init-from " + model,
                   {"--init-from " + model, "has 1 components, but -k is 2"});
  expect_bad_input("fit " + data + " -k 1:2 --init-from " + model, {"starts one K"});
  expect_bad_input("crosscheck " + data + " -k 1 --against cpu --ll-rtol nan", {"--ll-rtol"});
  expect_bad_input("crosscheck " + data + " -k 1 --against cpu --param-rtol -1", {"--param-rtol"});
  expect_bad_input("crosscheck " + data + " -k 1 --against cpu --perturb -1",
                   {"--perturb", "above -1"});
  expect_bad_input("fit " + data + " -k 1 -o " + data + "/x.json", {"is not a directory"});
}

// Standard errors in the JSON result (and --no-se), and the SVG from --plot and `plot`.
TEST_F(CliTest, StandardErrorsAndPlot) {
  const std::string data = path("d.f64"), model = path("model.json");
  ASSERT_EQ(
      betamix("sample --weights 0.5,0.5 --alpha 10,1.5 --beta 1.5,10 -n 2000 -o " + data).code, 0);
  const CliRun r =
      betamix("fit " + data + " -k 2 --device cpu -o " + model + " --plot " + path("fit.svg"));
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(slurp(model));
  ASSERT_TRUE(j["se"].is_object()) << j.dump();
  for (const char* key : {"weights", "alpha", "beta"}) {
    ASSERT_EQ(j["se"][key].size(), 2u);
    ASSERT_EQ(j["ci95"][key].size(), 2u);
    for (int c = 0; c < 2; ++c) {
      EXPECT_GT(j["se"][key][c].get<double>(), 0.0);
      EXPECT_LT(j["ci95"][key][c][0].get<double>(), j[key][c].get<double>());
      EXPECT_GT(j["ci95"][key][c][1].get<double>(), j[key][c].get<double>());
    }
  }
  EXPECT_NE(r.err.find("standard errors"), std::string::npos) << r.err;
  // A converged fit is at its maximum: no caution. Five Adam iterations are not.
  EXPECT_LT(j["se_distance_to_maximum"].get<double>(), 1e-3);
  EXPECT_FALSE(j.contains("se_note")) << j.dump();
  EXPECT_EQ(r.err.find("caution"), std::string::npos) << r.err;
  const CliRun early = betamix("fit " + data + " -k 2 --device cpu --max-iter 5");
  ASSERT_EQ(early.code, 0) << early.err;
  const auto je = nlohmann::json::parse(early.out);
  EXPECT_GT(je["se_distance_to_maximum"].get<double>(), 0.1);
  EXPECT_NE(je["se_note"].get<std::string>().find("max_iterations"), std::string::npos);
  EXPECT_NE(early.err.find("caution: the fit ended with status max_iterations"), std::string::npos)
      << early.err;
  const CliRun none = betamix("fit " + data + " -k 2 --device cpu -q --no-se");
  ASSERT_EQ(none.code, 0) << none.err;
  EXPECT_TRUE(nlohmann::json::parse(none.out)["se"].is_null());

  const std::string svg = slurp(path("fit.svg"));
  EXPECT_EQ(svg.rfind("<?xml", 0), 0u);
  EXPECT_NE(svg.find("data-series=\"component-2\""), std::string::npos);
  const CliRun plot = betamix("plot --model " + model + " " + data + " -o " + path("again.svg"));
  ASSERT_EQ(plot.code, 0) << plot.err;
  EXPECT_EQ(slurp(path("again.svg")), svg);
  expect_bad_input("plot --model " + model + " " + data + " -o " + path("fit.png"), {"fit.png"});
}

TEST_F(CliTest, HelpExplainsModelCommands) {
  for (const std::string cmd : {"predict", "score", "pdf", "plot"}) {
    const CliRun r = betamix(cmd + " --help");
    EXPECT_EQ(r.code, 0) << cmd;
    EXPECT_NE(r.out.find("Example"), std::string::npos) << cmd << ":\n" << r.out;
    EXPECT_NE(r.out.find("--model"), std::string::npos) << cmd;
  }
  const CliRun fit = betamix("fit --help");
  for (const char* opt : {"--weights-file", "--weight-column", "--plot", "--no-se"}) {
    EXPECT_NE(fit.out.find(opt), std::string::npos) << opt;
  }
}

}  // namespace
