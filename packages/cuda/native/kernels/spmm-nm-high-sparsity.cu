// High-sparsity variant (ρ ≤ ¼, memory-bound): several windows merged per stage (4 at 4:32) and only the union of
// A rows the block's vectors use staged (lists built on the host at prepare time, about 41 % of the rows at 4:32);
// each stage is larger, so 3 (or 2) stages keep two blocks per SM. Instantiates spmm-nm-tiled.cuh.
#include "tiled-launch.cuh"

namespace nmkit {

/// The shallow instances of the long stages (KS = 24 or 32 kept rows; planner.ts `longStages`).
template <int KS>
cudaError_t launchLongShallow(const TiledConfig& c, const TiledArgs& args, int splitK, cudaStream_t stream) {
  if (c.stages == 2 && c.bm == 128 && c.wm == 64) return launchTiledInstance<128, 64, 2, KS>(args, splitK, stream);
  if (c.stages == 3 && c.bm == 64 && c.wm == 32) return launchTiledInstance<64, 32, 3, KS>(args, splitK, stream);
  if (c.stages == 2 && c.bm == 32 && c.wm == 32) return launchTiledInstance<32, 32, 2, KS>(args, splitK, stream);
  return cudaErrorInvalidValue;
}

/// The 32-row block with two K slices (8 warps): small grids (M ≤ 256, decode) with twice the warps per SM.
cudaError_t launchSliced(const TiledConfig& c, const TiledArgs& args, int splitK, cudaStream_t stream) {
  if (c.bm != 32 || c.wm != 32) return cudaErrorInvalidValue;
  if (args.ks == kWideStageKept && c.stages == 2) return launchTiledInstance<32, 32, 2, kWideStageKept, 2>(args, splitK, stream);
  if (args.ks == kStageKept && c.stages == 3) return launchTiledInstance<32, 32, 3, kStageKept, 2>(args, splitK, stream);
  return cudaErrorInvalidValue;
}

cudaError_t launchTiledShallow(const TiledConfig& c, const TiledArgs& args, int splitK, cudaStream_t stream) {
  if (c.slices == 2) return launchSliced(c, args, splitK, stream);
  if (c.slices != 1) return cudaErrorInvalidValue;
  if (args.ks == kWideStageKept) return launchLongShallow<kWideStageKept>(c, args, splitK, stream);  // density ≥ ½
  if (args.ks == kMidStageKept) return launchLongShallow<kMidStageKept>(c, args, splitK, stream);    // 12:32
  if (c.stages == 3 && c.bm == 128 && c.wm == 64) return launchTiledInstance<128, 64, 3>(args, splitK, stream);
  if (c.stages == 2 && c.bm == 128 && c.wm == 64) return launchTiledInstance<128, 64, 2>(args, splitK, stream);
  if (c.stages == 3 && c.bm == 64 && c.wm == 32) return launchTiledInstance<64, 32, 3>(args, splitK, stream);
  if (c.stages == 3 && c.bm == 32 && c.wm == 32) return launchTiledInstance<32, 32, 3>(args, splitK, stream);
  return cudaErrorInvalidValue;
}

}  // namespace nmkit
