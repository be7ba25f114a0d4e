// Low-sparsity variant (ρ > ¼, compute-bound): a 4-deep cp.async pipeline so the FMAs of one stage cover the loads
// of the next three; at these densities each stage's row list is (nearly) every row of its windows.
// Instantiates spmm-nm-tiled.cuh.
#include "tiled-launch.cuh"

namespace nmkit {

int tiledThreads(const TiledConfig& c) { return (c.bm / c.wm) * (kTileN / kWarpN) * 32 * c.slices; }

cudaError_t launchTiledDeep(const TiledConfig& c, const TiledArgs& args, int splitK, cudaStream_t stream) {
  if (c.slices == 2) return c.bm == 32 && c.wm == 32 && args.ks == kStageKept ? launchTiledInstance<32, 32, 4, kStageKept, 2>(args, splitK, stream) : cudaErrorInvalidValue;
  if (c.slices != 1) return cudaErrorInvalidValue;
  if (args.ks != kStageKept) {  // long stages (24 or 32 kept rows): only the 32-row, 4-stage instance is deep
    if (c.stages != 4 || c.bm != 32 || c.wm != 32) return cudaErrorInvalidValue;
    if (args.ks == kWideStageKept) return launchTiledInstance<32, 32, 4, kWideStageKept>(args, splitK, stream);
    if (args.ks == kMidStageKept) return launchTiledInstance<32, 32, 4, kMidStageKept>(args, splitK, stream);
    return cudaErrorInvalidValue;
  }
  if (c.stages == 4 && c.bm == 128 && c.wm == 64) return launchTiledInstance<128, 64, 4>(args, splitK, stream);
  if (c.stages == 4 && c.bm == 64 && c.wm == 32) return launchTiledInstance<64, 32, 4>(args, splitK, stream);
  if (c.stages == 4 && c.bm == 32 && c.wm == 32) return launchTiledInstance<32, 32, 4>(args, splitK, stream);
  return cudaErrorInvalidValue;
}

}  // namespace nmkit
