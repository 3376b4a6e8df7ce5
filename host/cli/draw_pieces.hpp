#pragma once
// Writing one draw into a file piece by piece, for `betamix sample`: the output never has to fit
// in memory, and every value of a file comes from one device even when the GPU fails part-way.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "betamix/error.hpp"
#include "betamix/options.hpp"
#include "io/writer.hpp"

namespace betamix::cli {

/// What draw_pieces() wrote.
struct DrawnPieces {
  std::size_t gpu_values = 0;  ///< values of the output drawn on the GPU (the first ones)
};

/// Writes values 0 .. n - 1 of one draw to `path` (as io::SampleWriter takes it: "-" is standard
/// output) in pieces of at most `piece` values: draw(first, len, device, out) fills
/// out[0 .. len) with values first .. first + len - 1 on `device` (Cpu or Cuda; sample_range()).
/// With `fall_back`, a DeviceError from the GPU hands the draw to the CPU: a file (or a link to
/// one), written under a temporary name until the end (io::OutputFile), is then written again
/// from its start, so that it holds one device's values; an output that cannot be taken back
/// (standard output, a pipe, a device) keeps what it got and receives the rest from the CPU.
/// on_fall_back(error, first, restarted) is told before the CPU goes on; progress(done) after
/// each piece. Without `fall_back` the error propagates (and the writer drops its temporary
/// file).
template <class Real, class Draw, class FallBack, class Progress>
DrawnPieces draw_pieces(const std::string& path, io::Dtype dtype, std::size_t n, std::size_t piece,
                        Device device, bool fall_back, Draw draw, FallBack on_fall_back,
                        Progress progress) {
  if (piece == 0) throw Error("draw_pieces: the piece size must be at least 1");
  std::optional<io::SampleWriter> out;
  out.emplace(path, dtype, n);
  std::vector<Real> values(std::min(n, piece));
  DrawnPieces drawn;
  std::size_t first = 0;
  while (first < n) {
    const std::size_t len = std::min(values.size(), n - first);
    try {
      draw(static_cast<std::uint64_t>(first), len, device, values.data());
    } catch (const DeviceError& e) {
      if (!fall_back || device != Device::Cuda) throw;
      const bool restart = out->staged();
      on_fall_back(e, first, restart);
      device = Device::Cpu;
      if (restart) {
        out.reset();  // drops the temporary file
        out.emplace(path, dtype, n);
        first = 0;
        drawn.gpu_values = 0;
        progress(first);
      }
      continue;
    }
    out->write(values.data(), len);
    first += len;
    if (device == Device::Cuda) drawn.gpu_values = first;
    progress(first);
  }
  out->finish();
  return drawn;
}

}  // namespace betamix::cli
