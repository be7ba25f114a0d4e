// The tiled kernel's Hopper form (sm_90+): the same block / warp / thread tiling and the same prepare-time row lists
// and slots as spmm-nm-tiled.cuh, but the stages travel by bulk copy (cp.async.bulk, one instruction per staged row)
// and complete on shared-memory barriers instead of block-wide barriers:
//   - warp 0 is also the producer: after each stage's FMAs it issues the stage STAGES-1 ahead (its lanes copy one A
//     row, one B row or the slots each) once every warp has released that buffer (the "empty" barrier);
//   - every warp waits only for its next stage's "full" barrier, whose transaction count covers the stage's bytes.
// This removes the per-thread copy and address code of the cp.async loader (about a fifth of all instructions) and the
// __syncthreads that kept the warps in lockstep. On older GPUs the launcher refuses (the planner never asks there).
#include "mbarrier.cuh"
#include "spmm-nm-tiled.cuh"
#include "tiled-launch.cuh"

namespace nmkit {

/// Rows of the largest block tile (a zero row of A is copied from here).
constexpr int kMaxBlockRows = 128;
__device__ __align__(16) float gZeroRow[kMaxBlockRows];  // zero-initialised static storage

/// Warp 0's producer state: this lane's two entries of the next stage's row list (srows ≤ 64), fetched one stage early.
template <int BM>
struct BulkProducer {
  int row0 = kUnusedRow;
  int row1 = kUnusedRow;
  static constexpr int kUnusedRow = -2;

  __device__ __forceinline__ void fetch(const TiledArgs& p, int tileN, int stage, bool valid) {
    const int lane = threadIdx.x % 32;
    const int32_t* rows = p.rows + (static_cast<size_t>(tileN) * p.stages + stage) * p.srows;
    row0 = valid && lane < p.srows ? __ldg(rows + lane) : kUnusedRow;
    row1 = valid && lane + 32 < p.srows ? __ldg(rows + lane + 32) : kUnusedRow;
  }

  __device__ __forceinline__ const float* source(const TiledArgs& p, int row, int m0) const {
    return row >= 0 ? p.At + static_cast<size_t>(row) * p.lda + m0 : gZeroRow;  // -1: zero row (K padding)
  }

  /// Issues one stage into `stage` (shared) and announces its bytes on `full`.
  __device__ __forceinline__ void issue(const TiledArgs& p, char* stage, uint64_t* full, int tileN, int s, int m0,
                                        int n0) const {
    const int lane = threadIdx.x % 32;
    // Ragged edges copy short rows; the stale tail of a row only meets rows / columns of C that are never stored.
    const uint32_t bytesA = static_cast<uint32_t>(min(BM, p.lda - m0)) * 4;
    const uint32_t bytesB = static_cast<uint32_t>(min(kTileN, p.ldb - n0)) * 4;
    const int rowsA = __popc(__ballot_sync(0xffffffffu, row0 != kUnusedRow)) + __popc(__ballot_sync(0xffffffffu, row1 != kUnusedRow));
    if (lane == 0) mbarrierArriveExpectBytes(full, rowsA * bytesA + kStageKept * bytesB + p.slotStride);
    __syncwarp();
    float* sA = reinterpret_cast<float*>(stage);
    float* sB = sA + p.srows * BM;
    uint8_t* sSlot = reinterpret_cast<uint8_t*>(sB + kStageKept * kTileN);
    if (row0 != kUnusedRow) bulkCopyToShared(sA + lane * BM, source(p, row0, m0), bytesA, full);
    if (row1 != kUnusedRow) bulkCopyToShared(sA + (lane + 32) * BM, source(p, row1, m0), bytesA, full);
    if (lane < kStageKept) {
      const float* gB = p.B + (static_cast<size_t>(s) * kStageKept + lane) * p.ldb + n0;
      bulkCopyToShared(sB + lane * kTileN, gB, bytesB, full);
    } else if (lane == kStageKept) {
      bulkCopyToShared(sSlot, p.slots + (static_cast<size_t>(tileN) * p.stages + s) * p.slotStride, p.slotStride, full);
    }
  }
};

template <int BM, int WM, int STAGES>
__global__ void __launch_bounds__(TiledShape<BM, WM>::kThreads, TiledShape<BM, WM>::kMinBlocks)
    spmmNmTiledBulk(TiledArgs p) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  using S = TiledShape<BM, WM>;
  extern __shared__ __align__(128) char smem[];
  __shared__ uint64_t full[STAGES];   // stage landed (1 arrival + its bytes)
  __shared__ uint64_t empty[STAGES];  // every warp finished reading the buffer
  const int stageBytes = tiledStageBytes(BM, p.srows, p.ks, p.slotStride);
  const int tileN = blockIdx.x;
  const int n0 = tileN * kTileN;
  const int m0 = blockIdx.y * BM;
  const StageRange range(p);
  const int warp = threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  const TiledThread<BM, WM> thread;

  if (threadIdx.x == 0) {
#pragma unroll
    for (int b = 0; b < STAGES; ++b) {
      mbarrierInit(&full[b], 1);
      mbarrierInit(&empty[b], S::kThreads / 32);
    }
    mbarrierInitFence();
  }
  __syncthreads();

  BulkProducer<BM> producer;
  if (warp == 0) {
    producer.fetch(p, tileN, range.s0, range.count > 0);
    for (int s = 0; s < STAGES - 1 && s < range.count; ++s) {
      producer.issue(p, smem + s * stageBytes, &full[s], tileN, range.s0 + s, m0, n0);
      producer.fetch(p, tileN, range.s0 + s + 1, s + 1 < range.count);
    }
  }

  float rC[S::TM][8];
#pragma unroll
  for (int i = 0; i < S::TM; ++i)
#pragma unroll
    for (int j = 0; j < 8; ++j) rC[i][j] = 0.f;

  for (int s = 0; s < range.count; ++s) {
    const int buffer = s % STAGES;
    mbarrierWait(&full[buffer], (s / STAGES) & 1);
    multiplyStage<BM, WM>(smem + buffer * stageBytes, p.srows, thread, rC);
    __syncwarp();
    if (lane == 0) mbarrierArrive(&empty[buffer]);
    const int next = s + STAGES - 1;
    if (warp == 0 && next < range.count) {
      const int nextBuffer = next % STAGES;
      // The buffer last held stage next - STAGES (= s - 1): wait until every warp has released it.
      if (next >= STAGES) mbarrierWait(&empty[nextBuffer], (next / STAGES - 1) & 1);
      producer.issue(p, smem + nextBuffer * stageBytes, &full[nextBuffer], tileN, range.s0 + next, m0, n0);
      producer.fetch(p, tileN, range.s0 + next + 1, next + 1 < range.count);
    }
  }
  storeTile<BM, WM>(p, m0, n0, thread, rC);
#endif
}

template <int BM, int WM, int STAGES>
cudaError_t launchBulkInstance(const TiledArgs& args, int splitK, cudaStream_t stream) {
  return launchTiledKernel<spmmNmTiledBulk<BM, WM, STAGES>>(TiledShape<BM, WM>::kThreads, BM, STAGES, args, splitK, stream);
}

cudaError_t launchTiledBulk(const TiledConfig& c, const TiledArgs& args, int splitK, cudaStream_t stream) {
  int device = 0, major = 0;
  cudaGetDevice(&device);
  cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device);
  if (major < 9 || args.srows > 64) return cudaErrorInvalidValue;  // bulk copies are sm_90+; two row-list entries per lane
  if (c.bm == 128 && c.wm == 64) {
    if (c.stages == 4) return launchBulkInstance<128, 64, 4>(args, splitK, stream);
    if (c.stages == 3) return launchBulkInstance<128, 64, 3>(args, splitK, stream);
    if (c.stages == 2) return launchBulkInstance<128, 64, 2>(args, splitK, stream);
  }
  if (c.bm == 64 && c.wm == 32) {
    if (c.stages == 4) return launchBulkInstance<64, 32, 4>(args, splitK, stream);
    if (c.stages == 3) return launchBulkInstance<64, 32, 3>(args, splitK, stream);
  }
  if (c.bm == 32 && c.wm == 32) {
    if (c.stages == 4) return launchBulkInstance<32, 32, 4>(args, splitK, stream);
    if (c.stages == 3) return launchBulkInstance<32, 32, 3>(args, splitK, stream);
  }
  return cudaErrorInvalidValue;
}

}  // namespace nmkit
