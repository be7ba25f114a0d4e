// High-sparsity variant (ρ ≤ ¼, memory-bound): several windows merged per stage and only the union of A rows the
// block's vectors use staged (lists built on the host at prepare time); 3 stages, since each stage is larger.
// Instantiates spmm-nm-tiled.cuh.
#include "tiled-launch.cuh"

namespace nmkit {

cudaError_t launchTiledHighSparsity(const TiledConfig& c, const TiledArgs& args, int splitK, cudaStream_t stream) {
  if (c.stages == 3 && c.bm == 128 && c.wm == 64) return launchTiledInstance<128, 64, 3>(args, splitK, stream);
  if (c.stages == 3 && c.bm == 64 && c.wm == 64) return launchTiledInstance<64, 64, 3>(args, splitK, stream);
  if (c.stages == 3 && c.bm == 64 && c.wm == 32) return launchTiledInstance<64, 32, 3>(args, splitK, stream);
  if (c.stages == 3 && c.bm == 32 && c.wm == 32) return launchTiledInstance<32, 32, 3>(args, splitK, stream);
  return cudaErrorInvalidValue;
}

}  // namespace nmkit
