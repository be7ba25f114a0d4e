// At = Aᵀ through 32×32 shared-memory tiles (padded by one column against bank conflicts). The tiled kernels read
// A column-wise (one "row of At" per staged index), so A is transposed once per call; columns M..lda-1 are zeroed
// so every 16-byte chunk the tiled kernel copies is initialised, and one more row K of zeros is written: the tiled
// kernels stage it for K padding like any other row.
#include "launch.h"

namespace nmkit {

__global__ void transposeKernel(const float* __restrict__ a, int m, int k, float* __restrict__ at, int lda) {
  __shared__ float tile[32][33];
  const int k0 = blockIdx.x * 32;
  const int m0 = blockIdx.y * 32;
  for (int r = threadIdx.y; r < 32; r += blockDim.y) {
    const int row = m0 + r, col = k0 + threadIdx.x;
    tile[r][threadIdx.x] = (row < m && col < k) ? a[static_cast<size_t>(row) * k + col] : 0.f;
  }
  __syncthreads();
  for (int r = threadIdx.y; r < 32; r += blockDim.y) {
    const int row = k0 + r, col = m0 + threadIdx.x;  // At[row][col] = A[col][row]
    if (row <= k && col < lda) at[static_cast<size_t>(row) * lda + col] = tile[threadIdx.x][r];
  }
}

cudaError_t launchTranspose(const float* a, int m, int k, float* at, int lda, cudaStream_t stream) {
  const dim3 grid((k + 1 + 31) / 32, (lda + 31) / 32);  // k + 1 rows of At: row k is the zero row
  transposeKernel<<<grid, dim3(32, 8), 0, stream>>>(a, m, k, at, lda);
  return cudaGetLastError();
}

}  // namespace nmkit
