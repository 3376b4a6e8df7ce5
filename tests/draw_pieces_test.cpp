// `betamix sample`'s piecewise draw (host/cli/draw_pieces.hpp) when the GPU fails part-way
// under --device auto: a file is drawn again on the CPU, so it holds one device's values; an
// output that cannot be rewound (a pipe) keeps the GPU's values and gets the rest from the CPU.
// The GPU is a stand-in here, which writes a marker value and fails from a chosen sample on, so
// the test runs without one.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "betamix/betamix.hpp"
#include "cli/draw_pieces.hpp"
#include "support/temp_dir.hpp"

namespace betamix {
namespace {

namespace fs = std::filesystem;

const MixtureParams kMixture{{0.3, 0.7}, {2.0, 9.0}, {5.0, 1.5}};
constexpr std::uint64_t kSeed = 99;
constexpr std::size_t kN = 10, kPiece = 4;
constexpr double kGpuMarker = 0.125;  // what the stand-in GPU writes

// Draws on the CPU as sample_range() does; on "the GPU" writes kGpuMarker, and throws a
// DeviceError for every piece from sample `fail_from` on.
struct StandInDraw {
  std::size_t fail_from;
  int* gpu_failures;
  void operator()(std::uint64_t first, std::size_t len, Device device, double* out) const {
    if (device == Device::Cuda) {
      if (first >= fail_from) {
        ++*gpu_failures;
        throw DeviceError("stand-in GPU failure");
      }
      for (std::size_t i = 0; i < len; ++i) out[i] = kGpuMarker;
      return;
    }
    ASSERT_EQ(device, Device::Cpu);
    sample_range(kMixture, first, len, kSeed, out, Device::Cpu);
  }
};

struct FallBackLog {
  int calls = 0;
  std::size_t first = 0;
  bool restarted = false;
};

class DrawPieces : public betamix::test::TempDirTest {
 protected:
  // draw_pieces into `out` with the stand-in; records the fall-back and the progress.
  cli::DrawnPieces draw(const std::string& out, Device device, bool fall_back,
                        std::size_t fail_from) {
    return cli::draw_pieces<double>(
        out, io::Dtype::Float64, kN, kPiece, device, fall_back,
        StandInDraw{fail_from, &gpu_failures_},
        [this](const DeviceError&, std::size_t first, bool restarted) {
          ++log_.calls;
          log_.first = first;
          log_.restarted = restarted;
        },
        [this](std::size_t done) { progress_.push_back(done); });
  }

  static std::vector<double> read_f64(const std::string& file) {
    std::ifstream in(file, std::ios::binary);
    const std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    std::vector<double> v(bytes.size() / sizeof(double));
    std::memcpy(v.data(), bytes.data(), v.size() * sizeof(double));
    return v;
  }

  static std::vector<double> cpu_draw() { return sample(kMixture, kN, kSeed, Device::Cpu); }

  int gpu_failures_ = 0;
  FallBackLog log_;
  std::vector<std::size_t> progress_;
};

TEST_F(DrawPieces, OnTheCpuWritesTheDrawOfSampleRange) {
  const std::string out = path("cpu.f64");
  EXPECT_EQ(draw(out, Device::Cpu, true, 0).gpu_values, 0u);
  EXPECT_EQ(read_f64(out), cpu_draw());
  EXPECT_EQ(progress_, (std::vector<std::size_t>{4, 8, 10}));
  EXPECT_EQ(log_.calls, 0);
}

TEST_F(DrawPieces, OnAWorkingGpuEveryValueIsTheGpus) {
  const std::string out = path("gpu.f64");
  EXPECT_EQ(draw(out, Device::Cuda, true, kN).gpu_values, kN);
  EXPECT_EQ(read_f64(out), std::vector<double>(kN, kGpuMarker));
  EXPECT_EQ(log_.calls, 0);
}

// The GPU fails at the third piece: the file is written again, all on the CPU.
TEST_F(DrawPieces, AFileIsDrawnAgainOnTheCpuWhenTheGpuFails) {
  const std::string out = path("restart.f64");
  EXPECT_EQ(draw(out, Device::Cuda, true, 8).gpu_values, 0u);
  EXPECT_EQ(read_f64(out), cpu_draw());
  EXPECT_EQ(gpu_failures_, 1);
  EXPECT_EQ(log_.calls, 1);
  EXPECT_EQ(log_.first, 8u);
  EXPECT_TRUE(log_.restarted);
  EXPECT_EQ(progress_, (std::vector<std::size_t>{4, 8, 0, 4, 8, 10}));
}

// A pipe cannot be rewound: the GPU's first 8 values stay, the CPU draws samples 8 and 9.
TEST_F(DrawPieces, APipeKeepsTheGpuValuesAndGetsTheRestFromTheCpu) {
  const std::string fifo = path("pipe.f64");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0) << std::strerror(errno);
  std::vector<double> got;
  std::thread reader([&] { got = read_f64(fifo); });
  struct Join {
    std::thread& t;
    ~Join() { t.join(); }  // also when draw() throws
  };
  cli::DrawnPieces drawn;
  {
    Join join{reader};
    drawn = draw(fifo, Device::Cuda, true, 8);
  }
  EXPECT_EQ(drawn.gpu_values, 8u);
  EXPECT_EQ(log_.calls, 1);
  EXPECT_FALSE(log_.restarted);
  std::vector<double> want(8, kGpuMarker);
  const std::vector<double> cpu = cpu_draw();
  want.insert(want.end(), cpu.begin() + 8, cpu.end());
  EXPECT_EQ(got, want);
}

// Failing on the first piece, a file is simply drawn on the CPU.
TEST_F(DrawPieces, AFailureAtTheStartDrawsEverythingOnTheCpu) {
  const std::string out = path("first.f64");
  EXPECT_EQ(draw(out, Device::Cuda, true, 0).gpu_values, 0u);
  EXPECT_EQ(read_f64(out), cpu_draw());
  EXPECT_EQ(log_.calls, 1);
  EXPECT_EQ(log_.first, 0u);
}

// A symbolic link to a file is rewound like the file: the file it names ends up with the CPU's
// draw alone, and the link stays a link.
TEST_F(DrawPieces, ASymbolicLinkToAFileIsRewoundAndStays) {
  const std::string target = path("target.f64"), link = path("link.f64");
  std::ofstream(target).put('x');
  fs::create_symlink(target, link);
  const cli::DrawnPieces drawn = draw(link, Device::Cuda, true, 8);
  EXPECT_EQ(drawn.gpu_values, 0u);
  EXPECT_TRUE(log_.restarted);
  EXPECT_TRUE(fs::is_symlink(link));
  EXPECT_EQ(read_f64(target), cpu_draw());
}

TEST_F(DrawPieces, APieceOfZeroIsAnError) {
  EXPECT_THROW(cli::draw_pieces<double>(
                   path("zero.f64"), io::Dtype::Float64, kN, 0, Device::Cpu, false,
                   StandInDraw{kN, &gpu_failures_}, [](const DeviceError&, std::size_t, bool) {},
                   [](std::size_t) {}),
               Error);
}

// Without the fall-back (--device cuda) the error reaches the caller and no partial file is
// left.
TEST_F(DrawPieces, WithoutFallBackTheErrorPropagatesAndNoFileIsLeft) {
  const std::string out = path("cuda.f64");
  EXPECT_THROW(draw(out, Device::Cuda, false, 4), DeviceError);
  EXPECT_FALSE(fs::exists(out));
  EXPECT_EQ(log_.calls, 0);
}

TEST_F(DrawPieces, SampleDeviceResolvesAuto) {
  EXPECT_EQ(sample_device(kMixture, Device::Cpu), Device::Cpu);
  EXPECT_EQ(sample_device(kMixture, Device::Cuda), Device::Cuda);
  EXPECT_EQ(sample_device(kMixture, Device::Auto), cuda_available() ? Device::Cuda : Device::Cpu);
}

}  // namespace
}  // namespace betamix
