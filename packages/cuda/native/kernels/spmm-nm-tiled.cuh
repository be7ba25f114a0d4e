// Hierarchical-blocking N:M SpMM (FP32 on CUDA cores), the fast path for V a multiple of 32.
//
//   block  : BM × kTileN (128) tile of C, stepping along K one stage (ks kept rows) at a time; with SLICES = 2
//            (32-row blocks, small grids) two warp groups each multiply half of every stage's kept rows and add
//            their tiles at the end
//   warp   : WM × 32 tile of C; the 32 columns are one warp-column, so every lane uses the same index
//            (a broadcast read of sA) — this is why V must be a multiple of 32
//   thread : TM × 8 register tile (TM = WM / 8), rows {laneM·4 + i} (+ WM/2), columns laneN·8 + j
//
// Each stage stages, with cp.async into STAGES rotating shared-memory buffers:
//   sA[srows][BM]  : the A rows (columns of A = rows of At) named by the stage's row list. The host built that list
//                    at prepare time as the union of the rows any warp-column of this block uses in this stage, so
//                    at high sparsity only the used rows travel; -1 entries (K padding) copy row K of At, which
//                    the transpose writes as zeros, so every copy is an ordinary one.
//   sB[KS][128]    : the compressed values of the stage's KS kept rows (16; 24 or 32 where a stage of that many
//                    kept rows spans at most 64 rows of A: 12:32, and density ≥ ½).
//   sSlot[4][KS]   : for each warp-column and kept row, which row of sA it multiplies (re-tiled indices); a warp
//                    reads 16 (8) slots with one 16-byte (8-byte) load and keeps them in registers for those rows.
// The same kernel is the low-sparsity variant (deep pipeline, whole windows contiguous) and the high-sparsity
// variant (merged windows, union row lists); only the prepare-time staging, KS and STAGES differ.
#pragma once
#include <cooperative_groups.h>

#include "cp-async.cuh"
#include "kernel-args.h"

namespace nmkit {

template <int BM, int WM, int SLICES = 1>
struct TiledShape {
  static constexpr int kWarpsM = BM / WM;
  static constexpr int kWarpsN = kTileN / kWarpN;  // 4
  static constexpr int kTileThreads = kWarpsM * kWarpsN * 32;  // threads that cover the C tile once
  static constexpr int kThreads = kTileThreads * SLICES;       // SLICES warp groups split each stage's kept rows
  static constexpr int TM = WM / 8;                // 8 or 4 rows per thread
  static constexpr int TN = 8;                     // columns per thread
  static_assert(WM == 64 || WM == 32, "warp tile is 64×32 or 32×32");
  static_assert(BM % WM == 0, "block rows must be whole warps");
  /// Blocks per SM the register budget is capped for (≤ 128 registers per thread).
  static constexpr int kMinBlocks = kThreads >= 256 ? 2 : 4;
};

/// Shared bytes one stage takes: sA + sB + sSlot (all 16-byte aligned).
__host__ __device__ inline int tiledStageBytes(int bm, int srows, int ks, int slotStride) {
  return srows * bm * 4 + ks * kTileN * 4 + slotStride;
}

/// Issues one stage's cp.async copies. The dense-row numbers of the A rows a warp copies are fetched one stage ahead
/// (fetchRows: one row number per lane, latency hidden behind the current stage's FMAs) and handed to the copying
/// lanes with warp shuffles at issue time, so the copies never wait on the row list after a barrier. Everything that
/// does not change between stages (this thread's column of A and B, its shared offsets, the ragged-edge masks) is
/// computed once, and zero rows are a real row of At (row K), so a copy costs a shuffle, a test for an unused slot,
/// one address multiply-add and the copy itself.
template <int BM, int WM, int KS, int SLICES>
struct TiledLoader {
  using S = TiledShape<BM, WM, SLICES>;
  static constexpr int kChunksA = BM / 4;                       // 16-byte chunks per staged row
  static constexpr int kRowsPerWarp = 32 / kChunksA;            // staged rows one warp covers per pass
  static constexpr int kRowsPerPass = S::kThreads / kChunksA;   // staged rows the block covers per pass
  static constexpr int kPerThread = kMaxStageRows / kRowsPerPass;  // passes at most
  static constexpr int kChunksB = kTileN / 4;
  static constexpr int kRowsPerPassB = S::kThreads / kChunksB;
  static constexpr int kPassesB = KS / kRowsPerPassB;
  static_assert(kMaxStageRows % kRowsPerPass == 0 && KS % kRowsPerPassB == 0, "whole passes");
  static_assert(kPerThread * kRowsPerWarp <= 32, "one row number per lane");
  int rowOfLane;           // row list entry for pass lane / kRowsPerWarp, row lane % kRowsPerWarp of this warp (-2: none)
  const float* aColumn;    // At + this thread's 16-byte column (clamped inside At; aBytes masks it)
  uint32_t aBytes;         // 16, or 0 past lda (ragged M: zero fill)
  uint32_t aShared;        // byte offset of this thread's first chunk in a stage's sA
  uint32_t bOffset;        // this thread's first chunk in a stage's B rows, in floats from the stage's first row
  uint32_t bBytes;         // 16, or 0 past ldb (ragged N)
  uint32_t bShared;        // byte offset of this thread's first chunk in a stage's sB (after sA)

  __device__ __forceinline__ TiledLoader(const TiledArgs& p, int m0, int n0) {
    const int tid = threadIdx.x;
    const int m = m0 + (tid % kChunksA) * 4;
    aColumn = p.At + min(m, p.lda - 4);
    aBytes = m < p.lda ? 16 : 0;
    aShared = ((tid / kChunksA) * BM + (tid % kChunksA) * 4) * 4;
    const int n = n0 + (tid % kChunksB) * 4;
    bOffset = (tid / kChunksB) * p.ldb + min(n, p.ldb - 4);
    bBytes = n < p.ldb ? 16 : 0;
    bShared = p.srows * BM * 4 + ((tid / kChunksB) * kTileN + (tid % kChunksB) * 4) * 4;
  }

  __device__ __forceinline__ void fetchRows(const TiledArgs& p, int tileN, int stage, bool valid) {
    const int lane = threadIdx.x % 32;
    const int pass = lane / kRowsPerWarp;
    const int r = ((threadIdx.x / 32) * 32 + pass * S::kThreads) / kChunksA + lane % kRowsPerWarp;
    const int32_t* rows = p.rows + (static_cast<size_t>(tileN) * p.stages + stage) * p.srows;
    const int row = (valid && pass < kPerThread && r < p.srows) ? __ldg(rows + r) : -2;
    rowOfLane = row;  // read at the next issue(): the load's latency hides behind this stage's FMAs
  }

  /// `stage` is the shared-memory address of the stage's buffer.
  __device__ __forceinline__ void issue(const TiledArgs& p, uint32_t stage, int tileN, int s) const {
    // -1 (K padding) copies the zero row: one select per stage, so the copies need no zero-fill select. Done here,
    // not in fetchRows, so that nothing waits on the row list's load until the next stage.
    const int rowNumber = rowOfLane == -1 ? p.zeroRow : rowOfLane;
#pragma unroll
    for (int u = 0; u < kPerThread; ++u) {
      const int k = __shfl_sync(0xffffffffu, rowNumber, u * kRowsPerWarp + (threadIdx.x % 32) / kChunksA);
      if (k < 0) continue;  // unused slot or past the list: nothing reads it
      const char* row = reinterpret_cast<const char*>(aColumn) + static_cast<uint64_t>(static_cast<uint32_t>(k)) * p.ldaBytes;
      cpAsync16Shared(stage + aShared + u * kRowsPerPass * BM * 4, row, aBytes);
    }
    const float* gB = p.B + static_cast<size_t>(s) * KS * p.ldb + bOffset;
#pragma unroll
    for (int v = 0; v < kPassesB; ++v) {
      cpAsync16Shared(stage + bShared + v * kRowsPerPassB * kTileN * 4, gB + static_cast<size_t>(v) * kRowsPerPassB * p.ldb, bBytes);
    }
    const int tid = threadIdx.x;
    if (tid < p.slotStride / 16) {
      const uint8_t* gSlot = p.slots + (static_cast<size_t>(tileN) * p.stages + s) * p.slotStride;
      cpAsync16Shared(stage + p.srows * BM * 4 + KS * kTileN * 4 + tid * 16, gSlot + tid * 16, 16);
    }
  }
};

/// Order of a thread's TM × 8 FMAs per kept row (step t → row, column). It changes only which operands consecutive
/// FFMAs share, and with it ptxas's register allocation and the register-read conflicts Nsight Compute reports as
/// dispatch stalls (results/experiments-2026-11-24/fma-order/ and fma-order-pairs/ have nine orders measured).
/// kColumnPairs: two columns at a time, their rows zig-zagging down and up (each A value used twice in a row).
enum FmaOrder { kRowsOuter, kRowsZigZag, kColumnPairs };
template <FmaOrder ORDER, int TM>
__device__ __forceinline__ constexpr int fmaRow(int t) {
  if (ORDER == kColumnPairs) return (t / (2 * TM)) % 2 ? TM - 1 - (t % (2 * TM)) / 2 : (t % (2 * TM)) / 2;
  return t / 8;
}
template <FmaOrder ORDER, int TM>
__device__ __forceinline__ constexpr int fmaColumn(int t) {
  if (ORDER == kColumnPairs) return (t / (2 * TM)) * 2 + t % 2;
  if (ORDER == kRowsZigZag) return (t / 8) % 2 ? 7 - t % 8 : t % 8;
  return t % 8;
}

/// Offset of register row i of a thread tile from the thread's first row (laneM·4 of its warp tile): i, and the
/// second half (i ≥ 4, TM = 8) WM/2 further down. (Written as an offset from the thread's first row on purpose: the
/// epilogue adds it to aOff, which the main loop keeps live; recomputing the row from laneM made the compiler
/// recompute an index inside the stage loop, 2 % slower at 4096³ on the H100.)
template <int WM>
__device__ __forceinline__ int quadRow(int i) { return i < 4 ? i : WM / 2 + i - 4; }

/// Float4 v of a thread's TM × 8 tile: row v / 2, columns (v % 2)·4 … +3.
template <int TM>
__device__ __forceinline__ float4 rowQuad(const float (&rC)[TM][8], int v) {
  return make_float4(rC[v / 2][(v % 2) * 4], rC[v / 2][(v % 2) * 4 + 1], rC[v / 2][(v % 2) * 4 + 2], rC[v / 2][(v % 2) * 4 + 3]);
}

/// Value of C row m to store in the column form: rows past M (pad rows up to mPadded) are written as zeros, so the
/// next layer's copies and finite checks of its At see zeros there.
__device__ __forceinline__ float padZero(const TiledArgs& p, int m, float value) { return m < p.M ? value : 0.f; }

/// Stores float4 `value` of C at row m, columns n … n+3 (ragged edges: rows ≥ M skipped, columns ≥ N dropped).
__device__ __forceinline__ void storeQuad(const TiledArgs& p, int m, int n, float4 value) {
  if (p.columnsC) {  // the cluster reduction's share: four scalars down a column of Cᵀ
    if (m >= p.mPadded) return;
    const float v[4] = {value.x, value.y, value.z, value.w};
#pragma unroll
    for (int j = 0; j < 4; ++j)
      if (n + j < p.N) p.C[static_cast<size_t>(n + j) * p.ldc + m] = padZero(p, m, v[j]);
    return;
  }
  if (m >= p.M || n >= p.N) return;
  float* gC = p.C + static_cast<size_t>(m) * p.N + n;
  if (p.N % 4 == 0) {
    *reinterpret_cast<float4*>(gC) = value;
    return;
  }
  const float v[4] = {value.x, value.y, value.z, value.w};
#pragma unroll
  for (int j = 0; j < 4; ++j)
    if (n + j < p.N) gC[j] = v[j];
}

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
/// Split-K through a thread-block cluster (sm_90): the p.cluster blocks of one C tile (blockIdx.z = their split) each
/// put their partial tile in their own shared memory; after a cluster barrier, block r sums float4s
/// [r, r+1) · ⌈n/cluster⌉ of the tile over every block of the cluster (distributed shared memory, always in rank
/// order, so the result is deterministic) and stores them (the last share may be shorter). No memset of C and no
/// global atomics. `holder`: this thread holds the block's tile (slice 0 of a K-sliced block).
template <int BM, int WM, int SLICES>
__device__ __forceinline__ void clusterReduceStore(const TiledArgs& p, const float (&rC)[WM / 8][8], char* smem, int m0, int n0, bool holder) {
  using S = TiledShape<BM, WM, SLICES>;
  constexpr int TM = S::TM;
  constexpr int kQuads = TM * 2 * S::kTileThreads;  // float4s of the tile: BM · 128 / 4
  namespace cg = cooperative_groups;
  cg::cluster_group cluster = cg::this_cluster();
  float4* sTile = reinterpret_cast<float4*>(smem);
  const int t = threadIdx.x % S::kTileThreads;
  __syncthreads();  // every warp is done with the stage buffers (and, sliced, with the slices' hand-over)
  if (holder) {
#pragma unroll
    for (int v = 0; v < TM * 2; ++v) sTile[v * S::kTileThreads + t] = rowQuad(rC, v);
  }
  cluster.sync();  // every block's tile is in place
  const int blocks = p.cluster;
  const int per = (kQuads + blocks - 1) / blocks;
  const int first = static_cast<int>(cluster.block_rank()) * per;
  const int last = min(kQuads, first + per);
  for (int idx = first + threadIdx.x; idx < last; idx += S::kThreads) {
    float4 sum = make_float4(0.f, 0.f, 0.f, 0.f);
    for (int q = 0; q < blocks; ++q) {
      const float4 r = cluster.map_shared_rank(sTile, q)[idx];
      sum.x += r.x; sum.y += r.y; sum.z += r.z; sum.w += r.w;
    }
    // Float4 v of tile thread u: the same (row, column) mapping as the thread tiles (see the kernel's epilogue).
    const int v = idx / S::kTileThreads;
    const int u = idx % S::kTileThreads;
    const int warp = u / 32, lane = u % 32;
    const int i = v / 2;
    const int m = m0 + (warp / S::kWarpsN) * WM + (lane / 4) * 4 + quadRow<WM>(i);
    const int n = n0 + (warp % S::kWarpsN) * kWarpN + (lane % 4) * 8 + (v % 2) * 4;
    storeQuad(p, m, n, sum);
  }
  cluster.sync();  // no block leaves while another still reads its shared memory
}
#endif

/// PER_VECTOR: the stage's row list is each warp-column's own KS rows in kept order (staged row c·KS + r is kept row r
/// of warp-column c, duplicates included; retile.ts `per-vector` staging), so the A fragment of a kept row sits at a
/// fixed offset and the FMA loop reads no slots. Otherwise the list is the block's union and the slots say where.
template <int BM, int WM, int STAGES, int KS, int SLICES = 1, bool PER_VECTOR = false>
__global__ void __launch_bounds__(TiledShape<BM, WM, SLICES>::kThreads, TiledShape<BM, WM, SLICES>::kMinBlocks) spmmNmTiled(TiledArgs p) {
  using S = TiledShape<BM, WM, SLICES>;
  constexpr int TM = S::TM;
  // Sliced K: warp group `slice` multiplies kept rows [slice·kSliceKept, (slice+1)·kSliceKept) of every stage, so a
  // small grid (M ≤ 256) runs SLICES× the warps per SM without split-K's memset and global atomics; the groups'
  // tiles meet in shared memory at the end.
  constexpr int kSliceKept = KS / SLICES;
  static_assert(SLICES == 1 || kSliceKept % 8 == 0, "a slice holds whole groups of 8 kept rows");
  constexpr int kRowShift = BM == 128 ? 9 : BM == 64 ? 8 : 7;  // log2 of a staged row's bytes (BM · 4)
  // FMA order (fmaRow / fmaColumn): column pairs for the 128-row blocks at 16 and 32 kept rows, rows zig-zag at 24.
  // Measured on the H100 (results/experiments-2026-11-24/fma-order/, then fma-order-pairs/): against rows outer,
  // columns zig-zag took 4096³ 16:32 −3.9 %, 8:32 −5.1 %, 4:32 −4.7 % (dispatch stalls per issued instruction
  // 0.44 → 0.30 and 0.59 → 0.34) and rows zig-zag 12:32 −1.4 %; column pairs then −0.7 / −1.2 / −0.7 % more (and 7 %
  // slower at 24 kept rows). The 32-row blocks (M = 16) ran the same either way; they and the 64-row blocks (not
  // compared) keep rows outer.
  constexpr FmaOrder kFmaOrder = BM == 128 ? (KS == kMidStageKept ? kRowsZigZag : kColumnPairs) : kRowsOuter;
  static_assert((1 << kRowShift) == BM * 4, "BM is 32, 64 or 128");
  extern __shared__ __align__(16) char smem[];
  const int stageBytes = tiledStageBytes(BM, p.srows, p.ks, p.slotStride);
  const int tileN = blockIdx.x;
  const int n0 = tileN * kTileN;
  const int m0 = blockIdx.y * BM;
  const int s0 = blockIdx.z * p.stagesPerSplit;
  const int s1 = min(p.stages, s0 + p.stagesPerSplit);
  const int count = max(0, s1 - s0);

  const int slice = threadIdx.x / S::kTileThreads;
  const int warp = (threadIdx.x % S::kTileThreads) / 32;
  const int lane = threadIdx.x % 32;
  const int warpM = warp / S::kWarpsN;
  const int warpN = warp % S::kWarpsN;
  const int laneM = lane / 4;  // 8 lanes along M
  const int laneN = lane % 4;  // 4 lanes along N, 8 columns each = the warp's 32 columns
  const int aOff = warpM * WM + laneM * 4;
  const int bOff = warpN * kWarpN + laneN * 8;

  float rC[TM][8];
#pragma unroll
  for (int i = 0; i < TM; ++i)
#pragma unroll
    for (int j = 0; j < 8; ++j) rC[i][j] = 0.f;

  TiledLoader<BM, WM, KS, SLICES> loader(p, m0, n0);
  const uint32_t smemAddress = static_cast<uint32_t>(__cvta_generic_to_shared(smem));
#pragma unroll
  for (int s = 0; s < STAGES - 1; ++s) {
    if (s < count) {
      loader.fetchRows(p, tileN, s0 + s, true);
      loader.issue(p, smemAddress + s * stageBytes, tileN, s0 + s);
    }
    cpAsyncCommit();
  }
  loader.fetchRows(p, tileN, s0 + STAGES - 1, STAGES - 1 < count);

  for (int s = 0; s < count; ++s) {
    cpAsyncWait<STAGES - 2>();
    __syncthreads();  // stage s landed for every thread; stage s-1's buffer is free to refill
    const int next = s + STAGES - 1;
    if (next < count) loader.issue(p, smemAddress + (next % STAGES) * stageBytes, tileN, s0 + next);
    cpAsyncCommit();
    // Prefetch the row list of the stage after `next`: its latency hides behind this stage's FMAs.
    loader.fetchRows(p, tileN, s0 + next + 1, next + 1 < count);

    const float* sA = reinterpret_cast<const float*>(smem + (s % STAGES) * stageBytes);
    const float* sB = sA + p.srows * BM;
    // This thread's A fragment of staged row `slot` is at aThread + slot · BM · 4 (shared-memory address).
    const uint32_t aThread = smemAddress + (s % STAGES) * stageBytes + aOff * 4;
    const uint8_t* sSlot = reinterpret_cast<const uint8_t*>(sB + KS * kTileN) + warpN * KS + slice * kSliceKept;
    // Per-vector staging: this thread's fragment of the slice's first kept row (the rest follow every BM floats).
    const float* sAMine = sA + (warpN * KS + slice * kSliceKept) * BM + aOff;
    // Register double buffering: fragments of kept row ks+1 load while row ks multiplies.
    float rA[2][TM];
    float rB[2][8];
    // Groups of kGroup kept rows (16, or 8 when KS = 24 keeps the warp's slots only 8-byte aligned): the warp's
    // slots of a group in registers (one broadcast 16- or 8-byte load).
    constexpr int kGroup = kSliceKept % 16 == 0 ? 16 : 8;
    auto multiplyGroup = [&](int g) {
      unsigned words[4];  // union staging only (per-vector staging reads no slots)
      if constexpr (!PER_VECTOR && kGroup == 16) {
        const uint4 w4 = *reinterpret_cast<const uint4*>(sSlot + g * 16);
        words[0] = w4.x; words[1] = w4.y; words[2] = w4.z; words[3] = w4.w;
      } else if constexpr (!PER_VECTOR) {
        const uint2 w2 = *reinterpret_cast<const uint2*>(sSlot + g * 8);
        words[0] = w2.x; words[1] = w2.y; words[2] = 0; words[3] = 0;
      }
      const float* sBg = sB + (slice * kSliceKept + g * kGroup) * kTileN;
      auto loadFragments = [&](int buffer, int ks) {
        float4 a0, a1;
        if constexpr (PER_VECTOR) {
          const float* rowA = sAMine + (g * kGroup + ks) * BM;
          a0 = *reinterpret_cast<const float4*>(rowA);
          if constexpr (TM == 8) a1 = *reinterpret_cast<const float4*>(rowA + WM / 2);
        } else {
          // Byte ks % 4 of the word, zero-extended by one byte permute.
          const int slot = static_cast<int>(__byte_perm(words[ks / 4], 0u, 0x4440u | (ks % 4)));
          if constexpr (KS > kStageKept) {
            // Explicit shared addresses: one shift-add per kept row (the compiler's own form takes two). Measured on
            // the H100: +5 % at 32 kept rows per stage, +1.5 % at 24, −1 % at 16 (so 16 keeps the compiler's form).
            const uint32_t rowA = aThread + (static_cast<uint32_t>(slot) << kRowShift);
            a0 = loadShared16(rowA);
            if constexpr (TM == 8) a1 = loadShared16(rowA + WM / 2 * 4);
          } else {
            const float* rowA = sA + slot * BM + aOff;
            a0 = *reinterpret_cast<const float4*>(rowA);
            if constexpr (TM == 8) a1 = *reinterpret_cast<const float4*>(rowA + WM / 2);
          }
        }
        rA[buffer][0] = a0.x; rA[buffer][1] = a0.y; rA[buffer][2] = a0.z; rA[buffer][3] = a0.w;
        if constexpr (TM == 8) {
          rA[buffer][4] = a1.x; rA[buffer][5] = a1.y; rA[buffer][6] = a1.z; rA[buffer][7] = a1.w;
        }
        const float4 b0 = *reinterpret_cast<const float4*>(sBg + ks * kTileN + bOff);
        const float4 b1 = *reinterpret_cast<const float4*>(sBg + ks * kTileN + bOff + 4);
        rB[buffer][0] = b0.x; rB[buffer][1] = b0.y; rB[buffer][2] = b0.z; rB[buffer][3] = b0.w;
        rB[buffer][4] = b1.x; rB[buffer][5] = b1.y; rB[buffer][6] = b1.z; rB[buffer][7] = b1.w;
      };
      loadFragments(0, 0);
#pragma unroll
      for (int ks = 0; ks < kGroup; ++ks) {
        if (ks + 1 < kGroup) loadFragments((ks + 1) & 1, ks + 1);
#pragma unroll
        for (int t = 0; t < TM * 8; ++t) {
          const int i = fmaRow<kFmaOrder, TM>(t), j = fmaColumn<kFmaOrder, TM>(t);
          rC[i][j] = fmaf(rA[ks & 1][i], rB[ks & 1][j], rC[i][j]);
        }
      }
    };
    if constexpr (kGroup == 8 && BM == 128) {
      // 128-row blocks with 24 kept rows: three groups of 8 as a loop. Unrolled, the stage's FMA block outgrows the
      // instruction cache (Nsight Compute: "no instruction" stalls at each 128-byte line); looped, 12:32 ran 1–4 %
      // faster on the H100 (results/experiments-2026-11-24/group-loop/), while two groups of 16 (32 kept rows) ran
      // 3 % slower looped, and so did the 32-row block at 24 kept rows (5–10 %: 16×11008 decode, M = 256 and 512
      // paper rows on 32-row tiles, confirm-0395b63), whose smaller FMA block fits unrolled.
#pragma unroll 1
      for (int g = 0; g < kSliceKept / kGroup; ++g) multiplyGroup(g);
    } else {
#pragma unroll
      for (int g = 0; g < kSliceKept / kGroup; ++g) multiplyGroup(g);
    }
  }
  cpAsyncWait<0>();
  // Which thread of the C tile this is (slice 0 holds the block's tile once the slices have met).
  const int t = threadIdx.x % S::kTileThreads;
  if constexpr (SLICES > 1) {
    // Slices 1.. hand their tiles to slice 0 through the (now idle) stage buffers: thread t of a slice writes float4 v
    // of its tile at [slice-1][v][t], so the writes and reads of a warp are consecutive 16-byte words.
    __syncthreads();  // every warp is done with the last stage
    float4* sRed = reinterpret_cast<float4*>(smem);
    if (slice > 0) {
#pragma unroll
      for (int v = 0; v < TM * 2; ++v) sRed[((slice - 1) * TM * 2 + v) * S::kTileThreads + t] = rowQuad(rC, v);
    }
    __syncthreads();
    if (slice == 0) {
#pragma unroll
      for (int q = 1; q < SLICES; ++q) {
#pragma unroll
        for (int v = 0; v < TM * 2; ++v) {
          const float4 r = sRed[((q - 1) * TM * 2 + v) * S::kTileThreads + t];
          rC[v / 2][(v % 2) * 4] += r.x; rC[v / 2][(v % 2) * 4 + 1] += r.y; rC[v / 2][(v % 2) * 4 + 2] += r.z; rC[v / 2][(v % 2) * 4 + 3] += r.w;
        }
      }
    }
  }
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  if (p.cluster > 1) {
    clusterReduceStore<BM, WM, SLICES>(p, rC, smem, m0, n0, slice == 0);
    return;
  }
#endif
  if (slice > 0) return;

  // Epilogue: rows aOff + quadRow(i) of the block tile, columns bOff + j.
  const int nBase = n0 + bOff;
  if (p.columnsC) {
    // Cᵀ: each of the thread's row quads (4 consecutive rows) is one float4 of a row of Cᵀ; a warp's 8 row lanes
    // write 128 contiguous bytes of each of its 4 column lanes' rows of Cᵀ, as coalesced as the row-major stores.
#pragma unroll
    for (int h = 0; h < TM / 4; ++h) {
      const int m = m0 + aOff + quadRow<WM>(h * 4);
      if (m >= p.mPadded) continue;  // mPadded and m are multiples of 4: a quad is wholly in or out
#pragma unroll
      for (int j = 0; j < 8; ++j) {
        const int n = nBase + j;
        if (n >= p.N) break;
        float* gC = p.C + static_cast<size_t>(n) * p.ldc + m;
        if (p.atomic) {  // the zeroed pad rows stay zero
#pragma unroll
          for (int q = 0; q < 4; ++q)
            if (m + q < p.M) atomicAdd(gC + q, rC[h * 4 + q][j]);
          continue;
        }
        *reinterpret_cast<float4*>(gC) = make_float4(padZero(p, m, rC[h * 4][j]), padZero(p, m + 1, rC[h * 4 + 1][j]),
                                                     padZero(p, m + 2, rC[h * 4 + 2][j]), padZero(p, m + 3, rC[h * 4 + 3][j]));
      }
    }
    return;
  }
  const bool vectorStore = !p.atomic && (p.N % 4 == 0);
#pragma unroll
  for (int i = 0; i < TM; ++i) {
    const int m = m0 + aOff + quadRow<WM>(i);
    if (m >= p.M) continue;
    float* gC = p.C + static_cast<size_t>(m) * p.N;
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const int n = nBase + h * 4;
      if (vectorStore && n + 4 <= p.N) {
        *reinterpret_cast<float4*>(gC + n) = rowQuad(rC, i * 2 + h);
        continue;
      }
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        if (n + j >= p.N) break;
        if (p.atomic) atomicAdd(gC + n + j, rC[i][h * 4 + j]);
        else gC[n + j] = rC[i][h * 4 + j];
      }
    }
  }
}

}  // namespace nmkit
