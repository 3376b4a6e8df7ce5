// The `betamix` tool end to end: every bad input named in the issue gets one line on stderr
// naming the file, the position and the problem, and exit code 2; good input gives the result.

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "betamix/betamix.hpp"

namespace fs = std::filesystem;

namespace {

struct CliRun {
  int code = -1;
  std::string out, err;
};

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("betamix_cli_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

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

  // Runs `betamix ARGS` through the shell, capturing stdout, stderr and the exit code.
  CliRun betamix(const std::string& args) const {
    const std::string out = path("stdout"), err = path("stderr");
    const std::string cmd =
        std::string(BETAMIX_CLI_PATH) + " " + args + " >" + out + " 2>" + err + " </dev/null";
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

  fs::path dir_;
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
  const CliRun r = betamix("sample --weights 1,3 --alpha 2,3 --beta 2,3 -n 10 -o " + path("x.txt"));
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("normalised"), std::string::npos) << r.err;
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
                            "seconds", "n_clamped", "aic", "bic", "history"}) {
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
}

}  // namespace
