// The 4-warp 128-row block: each warp owns a 128 × 32 tile (one warp-column, all the block's rows), each thread
// 16 × 8 of C. Per kept row a thread loads 4 + 2 fragments and extracts one index for 128 FMAs, against 4 and one
// for 64 FMAs in the 8-warp block (64 × 32 warp tiles): fewer non-FMA instructions per FMA, at up to 255 registers
// (2 blocks × 4 warps per SM). Instantiates spmm-nm-tiled.cuh for 16-, 24- and 32-kept-row stages.
#include "tiled-launch.cuh"

namespace nmkit {

cudaError_t launchTiledTall(const TiledConfig& c, const TiledArgs& args, int splitK, cudaStream_t stream) {
  if (c.bm != 128 || c.wm != 128 || c.slices != 1) return cudaErrorInvalidValue;
  if (args.ks == kWideStageKept && c.stages == 2) return launchTiledInstance<128, 128, 2, kWideStageKept>(args, splitK, stream);
  if (args.ks == kMidStageKept && c.stages == 2) return launchTiledInstance<128, 128, 2, kMidStageKept>(args, splitK, stream);
  if (args.ks == kStageKept && c.stages == 2) return launchTiledInstance<128, 128, 2>(args, splitK, stream);
  if (args.ks == kStageKept && c.stages == 3) return launchTiledInstance<128, 128, 3>(args, splitK, stream);
  return cudaErrorInvalidValue;
}

}  // namespace nmkit
