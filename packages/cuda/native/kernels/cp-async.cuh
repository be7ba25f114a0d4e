// Asynchronous global→shared copies (sm_80+): the loads of stage s+1 fly while stage s computes.
#pragma once
#include <cstdint>

namespace nmkit {

/// Copies 16 bytes from global to shared memory (`smem`: a shared-memory address, from __cvta_generic_to_shared)
/// without going through registers. `srcBytes` = 0 zero-fills the destination (ragged M and N edges) without reading
/// `gmem`, which must still be a valid address.
__device__ __forceinline__ void cpAsync16Shared(uint32_t smem, const void* gmem, uint32_t srcBytes) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(smem), "l"(gmem), "r"(srcBytes));
}

/// One 16-byte shared-memory load from a shared-memory address: the caller controls the address arithmetic (a
/// per-thread base plus one shift-add per row), which the compiler otherwise re-associates into more instructions.
__device__ __forceinline__ float4 loadShared16(uint32_t smem) {
  float4 v;
  asm volatile("ld.shared.v4.f32 {%0, %1, %2, %3}, [%4];\n" : "=f"(v.x), "=f"(v.y), "=f"(v.z), "=f"(v.w) : "r"(smem));
  return v;
}

__device__ __forceinline__ void cpAsyncCommit() { asm volatile("cp.async.commit_group;\n" ::); }

/// Waits until at most `Pending` committed groups are still in flight.
template <int Pending>
__device__ __forceinline__ void cpAsyncWait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(Pending));
}

}  // namespace nmkit
