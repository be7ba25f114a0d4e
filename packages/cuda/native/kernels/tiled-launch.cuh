// Shared launcher body for the files that instantiate the tiled kernels (spmm-nm-tiled.cuh, spmm-nm-bulk.cu).
#pragma once
#include "launch.h"
#include "spmm-nm-tiled.cuh"

namespace nmkit {

/// Launches one compiled tiled kernel over the (column tiles × row tiles × split-K) grid, raising its dynamic
/// shared-memory cap once per instance.
template <auto Kernel>
cudaError_t launchTiledKernel(int threads, int bm, int stages, const TiledArgs& args, int splitK, cudaStream_t stream) {
  if (args.ks != kStageKept || args.srows > kMaxStageRows) return cudaErrorInvalidValue;  // host re-tiling contract
  static int configuredBytes = 0;
  const int bytes = stages * tiledStageBytes(bm, args.srows, args.ks, args.slotStride);
  if (bytes > configuredBytes) {
    int device = 0, optin = 0;
    cudaGetDevice(&device);
    cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device);
    cudaFuncAttributes attributes{};
    cudaError_t e = cudaFuncGetAttributes(&attributes, Kernel);
    if (e != cudaSuccess) return e;
    // Static shared memory (the bulk kernel's barriers) counts against the same per-block limit.
    const int limit = optin - static_cast<int>(attributes.sharedSizeBytes);
    if (bytes > limit) return cudaErrorInvalidConfiguration;
    e = cudaFuncSetAttribute(Kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, limit);
    if (e != cudaSuccess) return e;
    configuredBytes = limit;
  }
  const dim3 grid((args.ldb + kTileN - 1) / kTileN, (args.M + bm - 1) / bm, splitK);
  Kernel<<<grid, threads, bytes, stream>>>(args);
  return cudaGetLastError();
}

template <int BM, int WM, int STAGES>
cudaError_t launchTiledInstance(const TiledArgs& args, int splitK, cudaStream_t stream) {
  return launchTiledKernel<spmmNmTiled<BM, WM, STAGES>>(TiledShape<BM, WM>::kThreads, BM, STAGES, args, splitK, stream);
}

}  // namespace nmkit
