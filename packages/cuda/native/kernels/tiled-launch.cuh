// Shared launcher body for the files that instantiate spmm-nm-tiled.cuh.
#pragma once
#include "launch.h"
#include "spmm-nm-tiled.cuh"

namespace nmkit {

template <int BM, int WM, int STAGES, int KS = kStageKept, int SLICES = 1>
cudaError_t launchTiledInstance(const TiledArgs& args, int splitK, cudaStream_t stream) {
  if (args.ks != KS || args.srows > kMaxStageRows) return cudaErrorInvalidValue;  // host re-tiling contract
  static int configuredBytes = 0;  // raise the dynamic shared-memory cap once per instance
  // The sliced instances also pass tiles through the stage buffers at the end (BM · 128 floats per extra slice).
  const int bytes = max(STAGES * tiledStageBytes(BM, args.srows, args.ks, args.slotStride), (SLICES - 1) * BM * kTileN * 4);
  if (bytes > configuredBytes) {
    int device = 0, optin = 0;
    cudaGetDevice(&device);
    cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device);
    if (bytes > optin) return cudaErrorInvalidConfiguration;
    const cudaError_t e = cudaFuncSetAttribute(spmmNmTiled<BM, WM, STAGES, KS, SLICES>, cudaFuncAttributeMaxDynamicSharedMemorySize, optin);
    if (e != cudaSuccess) return e;
    configuredBytes = optin;
  }
  const dim3 grid((args.ldb + kTileN - 1) / kTileN, (args.M + BM - 1) / BM, splitK);
  spmmNmTiled<BM, WM, STAGES, KS, SLICES><<<grid, TiledShape<BM, WM, SLICES>::kThreads, bytes, stream>>>(args);
  return cudaGetLastError();
}

}  // namespace nmkit
