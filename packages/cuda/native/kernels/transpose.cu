// At = Aᵀ through shared-memory tiles. The tiled kernels read A column-wise (one "row of At" per staged index), so A
// is transposed once per call; columns M..lda-1 are zeroed so every 16-byte chunk the tiled kernel copies is
// initialised, and one more row K of zeros is written: the tiled kernels stage it for K padding like any other row.
//
// Two kernels: with K a multiple of 4 (rows of A 16-byte aligned) each thread moves float4s both ways, two loads in
// flight before the tile is written; otherwise a scalar 32×32 tile, which also makes a column form row-major again. The transpose is pure memory traffic (read A,
// write Aᵀ), so what matters is how many bytes each SM has in flight.
#include <algorithm>

#include "launch.h"

namespace nmkit {

// dst = srcᵀ through 32×32 shared-memory tiles: dst (dstRows × dstCols, row stride ldDst) gets src (srcRows × srcCols,
// row stride ldSrc) transposed, and zeros where it reaches past src (dst's pad columns and rows). Blocks step over
// column tiles of dst by gridDim.y: the grid's y dimension holds at most 65535 blocks, fewer than a tall A has tiles.
// Both ways use it: A → At (the scalar path, K % 4 ≠ 0) and At → A (a column form made row-major).
__global__ void transposeKernel(const float* __restrict__ src, int srcRows, int srcCols, int ldSrc, float* __restrict__ dst,
                                int dstRows, int dstCols, int ldDst) {
  __shared__ float tile[32][33];
  const int r0 = blockIdx.x * 32;  // first row of dst = column of src
  const int tiles = (dstCols + 31) / 32;
  for (int tileC = blockIdx.y; tileC < tiles; tileC += gridDim.y) {
    const int c0 = tileC * 32;  // first column of dst = row of src
#pragma unroll
    for (int r = threadIdx.y; r < 32; r += 8) {
      const int row = c0 + r, col = r0 + threadIdx.x;
      tile[r][threadIdx.x] = (row < srcRows && col < srcCols) ? src[static_cast<size_t>(row) * ldSrc + col] : 0.f;
    }
    __syncthreads();
#pragma unroll
    for (int r = threadIdx.y; r < 32; r += 8) {
      const int row = r0 + r, col = c0 + threadIdx.x;  // dst[row][col] = src[col][row]
      if (row < dstRows && col < dstCols) dst[static_cast<size_t>(row) * ldDst + col] = tile[threadIdx.x][r];
    }
    __syncthreads();  // the tile is rewritten by the next step
  }
}

/// Launches transposeKernel over dst.
static cudaError_t launchScalarTranspose(const float* src, int srcRows, int srcCols, int ldSrc, float* dst, int dstRows, int dstCols,
                                         int ldDst, cudaStream_t stream) {
  const dim3 grid((dstRows + 31) / 32, std::min((dstCols + 31) / 32, kMaxGridYZ));
  transposeKernel<<<grid, dim3(32, 8), 0, stream>>>(src, srcRows, srcCols, ldSrc, dst, dstRows, dstCols, ldDst);
  return cudaGetLastError();
}

// Vector tile: 32 rows of At (k) × 64 columns (m), 256 threads, two float4 loads and two float4 stores each.
constexpr int kVecTileK = 32;
constexpr int kVecTileM = 64;
constexpr int kVecThreads = 256;

__global__ void __launch_bounds__(kVecThreads) transposeVec4Kernel(const float* __restrict__ a, int m, int k, float* __restrict__ at, int lda) {
  // Row stride 33: the scalar writes of a float4 (8 threads per row of A, 4 rows per warp) and the column reads
  // (16 float4 columns × 2 rows of At per warp) are at most two-way bank conflicts.
  __shared__ float tile[kVecTileM][kVecTileK + 1];
  constexpr int kPasses = kVecTileM * kVecTileK / 4 / kVecThreads;  // 2
  const int k0 = blockIdx.x * kVecTileK;
  const int t = threadIdx.x;
  const int tiles = (lda + kVecTileM - 1) / kVecTileM;
  for (int tileM = blockIdx.y; tileM < tiles; tileM += gridDim.y) {
    const int m0 = tileM * kVecTileM;
    float4 v[kPasses];
#pragma unroll
    for (int p = 0; p < kPasses; ++p) {  // both loads issue before either is used
      const int idx = t + p * kVecThreads;
      const int row = m0 + idx / (kVecTileK / 4), col = k0 + (idx % (kVecTileK / 4)) * 4;
      // K % 4 == 0: a float4 of a row is wholly inside or wholly past K (row K of At is the zero row).
      v[p] = (row < m && col < k) ? __ldg(reinterpret_cast<const float4*>(a + static_cast<size_t>(row) * k + col)) : make_float4(0.f, 0.f, 0.f, 0.f);
    }
#pragma unroll
    for (int p = 0; p < kPasses; ++p) {
      const int idx = t + p * kVecThreads;
      const int r = idx / (kVecTileK / 4), c = (idx % (kVecTileK / 4)) * 4;
      tile[r][c] = v[p].x; tile[r][c + 1] = v[p].y; tile[r][c + 2] = v[p].z; tile[r][c + 3] = v[p].w;
    }
    __syncthreads();
#pragma unroll
    for (int p = 0; p < kPasses; ++p) {
      const int idx = t + p * kVecThreads;
      const int r = idx / (kVecTileM / 4), c = (idx % (kVecTileM / 4)) * 4;  // row of At in the tile, first column
      const int row = k0 + r, col = m0 + c;
      // lda % 4 == 0: a float4 of At is wholly inside or wholly past lda.
      if (row <= k && col < lda) {
        *reinterpret_cast<float4*>(at + static_cast<size_t>(row) * lda + col) = make_float4(tile[c][r], tile[c + 1][r], tile[c + 2][r], tile[c + 3][r]);
      }
    }
    __syncthreads();  // the tile is rewritten by the next step
  }
}

// The way back, for a device matrix made in the column form (a tiled product's C) that is read or fed to a kernel that
// reads A row-major: A (M × K) from the first K rows and M columns of At.
cudaError_t launchFromColumns(const float* at, int lda, int m, int k, float* a, cudaStream_t stream) {
  return launchScalarTranspose(at, k, m, lda, a, m, k, k, stream);
}

cudaError_t launchTranspose(const float* a, int m, int k, float* at, int lda, cudaStream_t stream) {
  if (k % 4 == 0 && lda % 4 == 0) {
    const dim3 grid((k + 1 + kVecTileK - 1) / kVecTileK, std::min((lda + kVecTileM - 1) / kVecTileM, kMaxGridYZ));
    transposeVec4Kernel<<<grid, kVecThreads, 0, stream>>>(a, m, k, at, lda);
    return cudaGetLastError();
  }
  return launchScalarTranspose(a, m, k, k, at, k + 1, lda, lda, stream);  // k + 1 rows of At: row k is the zero row
}

}  // namespace nmkit
