// A one-thread kernel that waits on the GPU's global timer. Timing enqueues it first so the launches queued behind
// it run back to back, and per-launch CUDA events measure the kernels rather than the host's launch rate.
#include "launch.h"

namespace nmkit {

__global__ void spinKernel(unsigned long long nanoseconds) {
  unsigned long long start, now;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(start));
  do {
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(now));
  } while (now - start < nanoseconds);
}

cudaError_t launchSpin(int microseconds, cudaStream_t stream) {
  spinKernel<<<1, 1, 0, stream>>>(static_cast<unsigned long long>(microseconds) * 1000ull);
  return cudaGetLastError();
}

}  // namespace nmkit
