// Narrow decode kernel (M ≤ 16, V a multiple of 32): one launch, no memset, no global atomics when K is not split.
// A block owns 32 columns of C (one warp-column, so one vector and one index per kept row) and a K slice; N = 4096
// already gives 128 blocks, so K is normally whole and each column of C is written once.
//   - its 8 (or 4: WARPS) warps take interleaved chunks of 32 kept rows; for a chunk, lane l loads its column's 32 values (one
//     coalesced 128-byte row per kept row, read-once hint) and gathers A[m][k] of kept row l (k from the format's own
//     indices), so only the A entries some kept row uses are read;
//   - the next chunk's values, gathered A and the index after it are in flight while the current chunk multiplies:
//     every warp keeps 64 kept rows (8 KB) of weights in flight, which is what streams them at memory speed;
//   - the gathered A of a chunk goes through shared memory (one broadcast read per kept row and 4 rows of A);
//   - the warps' partial sums meet in shared memory and the block stores its 32 × MT tile once.
#include "launch.h"

namespace nmkit {

constexpr int kChunkRows = 32;  // kept rows per warp step: one per lane
static_assert(kNarrowColumns == 32, "one lane per column");

/// Blocks of WARPS warps: 8 (256 threads, 1–2 blocks per SM) or 4 (128 threads, twice the blocks per SM: a grid of
/// a few blocks per SM runs in one wave instead of one and a fraction).
template <int MT, bool Transposed, int WARPS>
__global__ void __launch_bounds__(WARPS * 32, (MT >= 16 ? 1 : 2) * (8 / WARPS)) spmmNmNarrow(StreamArgs p) {
  constexpr int kNarrowWarps = WARPS;
  constexpr int kNarrowThreads = WARPS * 32;
  __shared__ __align__(16) float sRows[kNarrowWarps][kChunkRows][MT];  // gathered A of each warp's chunk
  // The warps' partial tiles; rows padded to 33 floats so that the column-form epilogue, whose consecutive threads
  // take consecutive rows of one column, reads them without bank conflicts.
  __shared__ float sC[kNarrowWarps][MT][kNarrowColumns + 1];
  const int lane = threadIdx.x % 32;
  const int warp = threadIdx.x / 32;
  const int n0 = blockIdx.x * kNarrowColumns;
  const int n = n0 + lane;
  const bool active = n < p.ldb;  // columns N..ldb-1 hold zeros
  const int vector = min(n0, p.N - 1) / p.vectorLength;
  const int windows = p.keptRows / p.keep;
  const int win0 = (p.firstSplit + blockIdx.y) * p.windowsPerSplit;
  const int row0 = win0 * p.keep;
  const int row1 = min(windows, win0 + p.windowsPerSplit) * p.keep;
  const int chunks = max(0, (row1 - row0 + kChunkRows - 1) / kChunkRows);
  const int m0 = blockIdx.z * MT;
  const float* gB = p.B + (active ? n : 0);

  // Row of A (k) that kept row `row0 + c·32 + lane` multiplies, or -1 past the slice.
  auto keptRowK = [&](int c) {
    const int row = row0 + c * kChunkRows + lane;
    if (c >= chunks || row >= row1) return -1;
    return (row / p.keep) * p.group + __ldg(p.indices + static_cast<size_t>(row) * p.vectors + vector);
  };
  auto fetch = [&](int c, int k, float (&b)[kChunkRows], float (&a)[MT]) {
    const int r = row0 + c * kChunkRows;
    const float* rowB = gB + static_cast<size_t>(r) * p.ldb;
    if (active && r + kChunkRows <= row1) {  // a whole chunk: no per-row tests
#pragma unroll
      for (int j = 0; j < kChunkRows; ++j, rowB += p.ldb) b[j] = __ldcs(rowB);
    } else {
#pragma unroll
      for (int j = 0; j < kChunkRows; ++j, rowB += p.ldb) b[j] = (active && r + j < row1) ? __ldcs(rowB) : 0.f;
    }
    // K padding (k ≥ K) and rows past M gather zeros, so a padded kept row adds 0 · 0.
    if constexpr (Transposed) {
      // Row K of Aᵀ is zero and columns M..lda-1 are zero padding: MT / 4 aligned 16-byte loads, no tests.
      const float4* at = reinterpret_cast<const float4*>(p.At + static_cast<size_t>(k >= 0 && k < p.K ? k : p.K) * p.lda + m0);
#pragma unroll
      for (int q = 0; q < MT / 4; ++q) {
        const float4 v = __ldg(at + q);
        a[q * 4] = v.x; a[q * 4 + 1] = v.y; a[q * 4 + 2] = v.z; a[q * 4 + 3] = v.w;
      }
    } else {
#pragma unroll
      for (int m = 0; m < MT; ++m) a[m] = (k >= 0 && k < p.K && m0 + m < p.M) ? __ldg(p.A + static_cast<size_t>(m0 + m) * p.K + k) : 0.f;
    }
  };

  float acc[MT];
#pragma unroll
  for (int m = 0; m < MT; ++m) acc[m] = 0.f;
  float* sMine = &sRows[warp][0][0];
  auto multiply = [&](const float (&b)[kChunkRows], const float (&a)[MT]) {
#pragma unroll
    for (int m = 0; m < MT; ++m) sMine[lane * MT + m] = a[m];
    __syncwarp();
#pragma unroll
    for (int j = 0; j < kChunkRows; ++j) {
#pragma unroll
      for (int m = 0; m < MT; ++m) acc[m] = fmaf(sMine[j * MT + m], b[j], acc[m]);
    }
    __syncwarp();  // the chunk's gathered A is read before the next chunk overwrites it
  };

  // Two register sets, used alternately (no copies between chunks).
  float b0[kChunkRows], b1[kChunkRows], a0[MT], a1[MT];
  int c = warp;
  fetch(c, keptRowK(c), b0, a0);
  int kNext = keptRowK(c + kNarrowWarps);
  while (c < chunks) {
    int cn = c + kNarrowWarps;
    if (cn < chunks) fetch(cn, kNext, b1, a1);
    kNext = keptRowK(cn + kNarrowWarps);
    multiply(b0, a0);
    c = cn;
    if (c >= chunks) break;
    cn = c + kNarrowWarps;
    if (cn < chunks) fetch(cn, kNext, b0, a0);
    kNext = keptRowK(cn + kNarrowWarps);
    multiply(b1, a1);
    c = cn;
  }

#pragma unroll
  for (int m = 0; m < MT; ++m) sC[warp][m][lane] = acc[m];
  __syncthreads();
  if (Transposed && p.columnsC) {
    // Cᵀ: consecutive threads take consecutive rows of one column (a contiguous run of a row of Cᵀ).
#pragma unroll
    for (int i = threadIdx.x; i < MT * kNarrowColumns; i += kNarrowThreads) {
      const int m = i % MT;
      const int col = n0 + i / MT;
      if (col >= p.N) continue;
      float sum = 0.f;
      if (m0 + m < p.M) {
#pragma unroll
        for (int w = 0; w < kNarrowWarps; ++w) sum += sC[w][m][col - n0];
      } else if (p.atomic) {
        continue;  // a zeroed pad row stays zero
      }
      float* gC = p.C + static_cast<size_t>(col) * p.ldc + m0 + m;
      if (p.atomic) atomicAdd(gC, sum);
      else *gC = sum;
    }
    // The pad rows past the last row block, up to ldc: zeros (with atomics, the memset wrote them).
    const int pad = p.ldc - (m0 + MT);
    if (blockIdx.z + 1 == gridDim.z && pad > 0 && !p.atomic) {
      for (int i = threadIdx.x; i < pad * kNarrowColumns; i += kNarrowThreads) {
        const int col = n0 + i / pad;
        if (col < p.N) p.C[static_cast<size_t>(col) * p.ldc + m0 + MT + i % pad] = 0.f;
      }
    }
    return;
  }
  for (int i = threadIdx.x; i < MT * kNarrowColumns; i += kNarrowThreads) {
    const int m = i / kNarrowColumns;
    const int col = n0 + i % kNarrowColumns;
    if (m0 + m >= p.M || col >= p.N) continue;
    float sum = 0.f;
#pragma unroll
    for (int w = 0; w < kNarrowWarps; ++w) sum += sC[w][m][i % kNarrowColumns];
    float* gC = p.C + static_cast<size_t>(m0 + m) * p.N + col;
    if (p.atomic) atomicAdd(gC, sum);
    else *gC = sum;
  }
}

template <int MT, bool Transposed, int WARPS>
cudaError_t launchNarrowInstance(const StreamArgs& args, int splits, cudaStream_t stream) {
  if (args.vectorLength % kNarrowColumns != 0) return cudaErrorInvalidValue;  // one vector per block
  if (Transposed && (args.At == nullptr || args.lda % MT != 0)) return cudaErrorInvalidValue;
  return forEachSplitRange(args, splits, [&](const StreamArgs& part, int gridSplits) {
    const dim3 grid((args.ldb + kNarrowColumns - 1) / kNarrowColumns, gridSplits, (args.M + MT - 1) / MT);
    spmmNmNarrow<MT, Transposed, WARPS><<<grid, WARPS * 32, 0, stream>>>(part);
  });
}

template <int WARPS>
cudaError_t launchNarrowWarps(int rowsPerBlock, bool transposed, const StreamArgs& args, int splits, cudaStream_t stream) {
  if (transposed) {
    switch (rowsPerBlock) {  // MT / 4 whole 16-byte runs per kept row
      case 8: return launchNarrowInstance<8, true, WARPS>(args, splits, stream);
      case 16: return launchNarrowInstance<16, true, WARPS>(args, splits, stream);
      default: return cudaErrorInvalidValue;
    }
  }
  switch (rowsPerBlock) {
    case 1: return launchNarrowInstance<1, false, WARPS>(args, splits, stream);
    case 2: return launchNarrowInstance<2, false, WARPS>(args, splits, stream);
    case 4: return launchNarrowInstance<4, false, WARPS>(args, splits, stream);
    case 8: return launchNarrowInstance<8, false, WARPS>(args, splits, stream);
    case 16: return launchNarrowInstance<16, false, WARPS>(args, splits, stream);
    default: return cudaErrorInvalidValue;
  }
}

cudaError_t launchNarrow(int rowsPerBlock, bool transposed, int warps, const StreamArgs& args, int splits, cudaStream_t stream) {
  if (warps == 8) return launchNarrowWarps<8>(rowsPerBlock, transposed, args, splits, stream);
  if (warps == 4) return launchNarrowWarps<4>(rowsPerBlock, transposed, args, splits, stream);
  return cudaErrorInvalidValue;
}

}  // namespace nmkit
