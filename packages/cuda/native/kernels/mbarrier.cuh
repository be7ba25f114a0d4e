// Hopper (sm_90) bulk copies that complete on shared-memory barriers: one instruction moves a whole contiguous row
// (up to 512 bytes here) from global to shared memory, and the barrier's transaction count tells the waiting warps
// when every byte of a stage has landed. Only compiled into sm_90+ code (callers guard with __CUDA_ARCH__).
#pragma once
#include <cstdint>

namespace nmkit {

__device__ __forceinline__ uint32_t sharedAddress(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

/// Initialises a barrier that completes a phase after `arrivals` arrivals (and all expected bytes).
__device__ __forceinline__ void mbarrierInit(uint64_t* bar, int arrivals) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(sharedAddress(bar)), "r"(arrivals) : "memory");
}

/// Makes initialised barriers visible to the copy engine (the async proxy) before any copy names them.
__device__ __forceinline__ void mbarrierInitFence() {
  asm volatile("fence.mbarrier_init.release.cluster;\nfence.proxy.async.shared::cta;\n" ::: "memory");
}

/// One arrival that also announces `bytes` more bytes of copies completing on this phase.
__device__ __forceinline__ void mbarrierArriveExpectBytes(uint64_t* bar, uint32_t bytes) {
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(sharedAddress(bar)), "r"(bytes) : "memory");
}

/// One plain arrival (release: this thread's earlier shared-memory reads happen before the phase completes).
__device__ __forceinline__ void mbarrierArrive(uint64_t* bar) {
  asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];\n" ::"r"(sharedAddress(bar)) : "memory");
}

/// Waits (acquire) until the phase with the given parity has completed.
__device__ __forceinline__ void mbarrierWait(uint64_t* bar, uint32_t parity) {
  const uint32_t address = sharedAddress(bar);
  uint32_t done = 0;
  do {
    asm volatile(
        "{\n .reg .pred p;\n mbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\n selp.u32 %0, 1, 0, p;\n}\n"
        : "=r"(done)
        : "r"(address), "r"(parity)
        : "memory");
  } while (!done);
}

/// Copies `bytes` (a multiple of 16, both addresses 16-byte aligned) from global to shared memory; completion is
/// counted on `bar`'s current phase.
__device__ __forceinline__ void bulkCopyToShared(void* smem, const void* gmem, uint32_t bytes, uint64_t* bar) {
  asm volatile("cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];\n" ::"r"(
                   sharedAddress(smem)),
               "l"(gmem), "r"(bytes), "r"(sharedAddress(bar))
               : "memory");
}

}  // namespace nmkit
