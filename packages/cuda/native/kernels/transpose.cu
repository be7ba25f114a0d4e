// At = Aᵀ through shared-memory tiles. The tiled kernels read A column-wise (one "row of At" per staged index), so A
// is transposed once per call; columns M..lda-1 are zeroed so every 16-byte chunk the tiled kernel copies is
// initialised, and one more row K of zeros is written: the tiled kernels stage it for K padding like any other row.
//
// Two kernels: with K a multiple of 4 (rows of A 16-byte aligned) each thread moves float4s both ways, two loads in
// flight before the tile is written; otherwise a scalar 32×32 tile. The transpose is pure memory traffic (read A,
// write Aᵀ), so what matters is how many bytes each SM has in flight.
#include <algorithm>

#include "launch.h"

namespace nmkit {

// Both kernels step over column tiles of Aᵀ (rows of A) by gridDim.y: the grid's y dimension holds at most 65535
// blocks, fewer than the tiles of a tall A.
__global__ void transposeKernel(const float* __restrict__ a, int m, int k, float* __restrict__ at, int lda) {
  __shared__ float tile[32][33];
  const int k0 = blockIdx.x * 32;
  const int tiles = (lda + 31) / 32;
  for (int tileM = blockIdx.y; tileM < tiles; tileM += gridDim.y) {
    const int m0 = tileM * 32;
#pragma unroll
    for (int r = threadIdx.y; r < 32; r += 8) {
      const int row = m0 + r, col = k0 + threadIdx.x;
      tile[r][threadIdx.x] = (row < m && col < k) ? a[static_cast<size_t>(row) * k + col] : 0.f;
    }
    __syncthreads();
#pragma unroll
    for (int r = threadIdx.y; r < 32; r += 8) {
      const int row = k0 + r, col = m0 + threadIdx.x;  // At[row][col] = A[col][row]
      if (row <= k && col < lda) at[static_cast<size_t>(row) * lda + col] = tile[threadIdx.x][r];
    }
    __syncthreads();  // the tile is rewritten by the next step
  }
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

// The way back: A (M × K row-major) from its column form At ((K + 1) × lda), for a device matrix made in the column
// form (a tiled product's C) that is read or fed to a kernel that reads A row-major. A 32×32 tile per step.
__global__ void fromColumnsKernel(const float* __restrict__ at, int lda, int m, int k, float* __restrict__ a) {
  __shared__ float tile[32][33];
  const int m0 = blockIdx.x * 32;
  const int tiles = (k + 31) / 32;
  for (int tileK = blockIdx.y; tileK < tiles; tileK += gridDim.y) {
    const int k0 = tileK * 32;
#pragma unroll
    for (int r = threadIdx.y; r < 32; r += 8) {
      const int row = k0 + r, col = m0 + threadIdx.x;  // At[row][col]
      if (row < k && col < m) tile[r][threadIdx.x] = at[static_cast<size_t>(row) * lda + col];
    }
    __syncthreads();
#pragma unroll
    for (int r = threadIdx.y; r < 32; r += 8) {
      const int row = m0 + r, col = k0 + threadIdx.x;  // A[row][col] = At[col][row]
      if (row < m && col < k) a[static_cast<size_t>(row) * k + col] = tile[threadIdx.x][r];
    }
    __syncthreads();
  }
}

cudaError_t launchFromColumns(const float* at, int lda, int m, int k, float* a, cudaStream_t stream) {
  const dim3 grid((m + 31) / 32, std::min((k + 31) / 32, kMaxGridYZ));
  fromColumnsKernel<<<grid, dim3(32, 8), 0, stream>>>(at, lda, m, k, a);
  return cudaGetLastError();
}

cudaError_t launchTranspose(const float* a, int m, int k, float* at, int lda, cudaStream_t stream) {
  if (k % 4 == 0 && lda % 4 == 0) {
    const dim3 grid((k + 1 + kVecTileK - 1) / kVecTileK, std::min((lda + kVecTileM - 1) / kVecTileM, kMaxGridYZ));
    transposeVec4Kernel<<<grid, kVecThreads, 0, stream>>>(a, m, k, at, lda);
    return cudaGetLastError();
  }
  const dim3 grid((k + 1 + 31) / 32, std::min((lda + 31) / 32, kMaxGridYZ));  // k + 1 rows of At: row k is the zero row
  transposeKernel<<<grid, dim3(32, 8), 0, stream>>>(a, m, k, at, lda);
  return cudaGetLastError();
}

}  // namespace nmkit
