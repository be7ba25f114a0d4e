// High-sparsity variant (ρ ≤ ¼, memory-bound): several windows merged per stage (4 at 4:32) and only the union of
// A rows the block's vectors use staged (lists built on the host at prepare time, about 41 % of the rows at 4:32);
// each stage is larger, so 3 (or 2) stages keep two blocks per SM. Instantiates spmm-nm-tiled.cuh.
#include "tiled-launch.cuh"

namespace nmkit {

cudaError_t launchTiledShallow(const TiledConfig& c, const TiledArgs& args, int splitK, cudaStream_t stream) {
  if (args.ks == kWideStageKept) {  // 32-kept-row stages (ρ = ½ weights)
    if (c.stages == 2 && c.bm == 128 && c.wm == 64) return launchTiledInstance<128, 64, 2, kWideStageKept>(args, splitK, stream);
    if (c.stages == 3 && c.bm == 64 && c.wm == 32) return launchTiledInstance<64, 32, 3, kWideStageKept>(args, splitK, stream);
    if (c.stages == 2 && c.bm == 32 && c.wm == 32) return launchTiledInstance<32, 32, 2, kWideStageKept>(args, splitK, stream);
    return cudaErrorInvalidValue;
  }
  if (args.ks == kMidStageKept) {  // 24-kept-row stages (12:32)
    if (c.stages == 2 && c.bm == 128 && c.wm == 64) return launchTiledInstance<128, 64, 2, kMidStageKept>(args, splitK, stream);
    if (c.stages == 3 && c.bm == 64 && c.wm == 32) return launchTiledInstance<64, 32, 3, kMidStageKept>(args, splitK, stream);
    if (c.stages == 2 && c.bm == 32 && c.wm == 32) return launchTiledInstance<32, 32, 2, kMidStageKept>(args, splitK, stream);
    return cudaErrorInvalidValue;
  }
  if (c.stages == 3 && c.bm == 128 && c.wm == 64) return launchTiledInstance<128, 64, 3>(args, splitK, stream);
  if (c.stages == 2 && c.bm == 128 && c.wm == 64) return launchTiledInstance<128, 64, 2>(args, splitK, stream);
  if (c.stages == 3 && c.bm == 64 && c.wm == 32) return launchTiledInstance<64, 32, 3>(args, splitK, stream);
  if (c.stages == 3 && c.bm == 32 && c.wm == 32) return launchTiledInstance<32, 32, 3>(args, splitK, stream);
  return cudaErrorInvalidValue;
}

}  // namespace nmkit
