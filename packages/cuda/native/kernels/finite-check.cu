// Whether a device array holds a NaN or ±Inf, for widened weights run on an A that never visits the host
// (Context::matmulDevice): pruned rows stored as zeros are exact only for a finite A.
#include <algorithm>

#include "launch.h"

namespace nmkit {

__global__ void anyNonFiniteKernel(const float* data, size_t count, int* flag) {
  bool bad = false;
  for (size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x; i < count; i += static_cast<size_t>(gridDim.x) * blockDim.x) {
    bad |= !isfinite(data[i]);
  }
  // One store per warp that saw one: the flag only ever goes from 0 to 1.
  if (__any_sync(0xffffffffu, bad) && threadIdx.x % 32 == 0) *flag = 1;
}

cudaError_t launchFiniteCheck(const float* data, size_t count, int* flag, cudaStream_t stream) {
  // Grid-stride: at most 1024 blocks of 256 (enough to stream A at full speed), at least one.
  const size_t blocks = std::min<size_t>(1024, std::max<size_t>(1, (count + 255) / 256));
  anyNonFiniteKernel<<<static_cast<unsigned>(blocks), 256, 0, stream>>>(data, count, flag);
  return cudaGetLastError();
}

}  // namespace nmkit
