// Shared launcher body for the files that instantiate spmm-nm-tiled.cuh.
#pragma once
#include "launch.h"
#include "spmm-nm-tiled.cuh"

namespace nmkit {

template <int BM, int WM, int STAGES, int KS, int SLICES, bool PER_VECTOR>
cudaError_t launchTiledKernel(const TiledArgs& args, int splitK, cudaStream_t stream) {
  static int configuredBytes = 0;  // raise the dynamic shared-memory cap once per instance
  // The sliced instances also pass tiles through the stage buffers at the end (BM · 128 floats per extra slice), and
  // the cluster reduction puts the block's whole tile there.
  const int handOver = max(SLICES - 1, args.cluster > 1 ? 1 : 0) * BM * kTileN * 4;
  const int bytes = max(STAGES * tiledStageBytes(BM, args.srows, args.ks, args.slotStride), handOver);
  if (bytes > configuredBytes) {
    int device = 0, optin = 0;
    cudaGetDevice(&device);
    cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device);
    if (bytes > optin) return cudaErrorInvalidConfiguration;
    const cudaError_t e = cudaFuncSetAttribute(spmmNmTiled<BM, WM, STAGES, KS, SLICES, PER_VECTOR>, cudaFuncAttributeMaxDynamicSharedMemorySize, optin);
    if (e != cudaSuccess) return e;
    configuredBytes = optin;
  }
  const dim3 grid((args.ldb + kTileN - 1) / kTileN, (args.M + BM - 1) / BM, splitK);
  const int threads = TiledShape<BM, WM, SLICES>::kThreads;
  if (args.cluster <= 1) {
    spmmNmTiled<BM, WM, STAGES, KS, SLICES, PER_VECTOR><<<grid, threads, bytes, stream>>>(args);
    return cudaGetLastError();
  }
  // Cluster split-K: the splits of a tile are one cluster (blockIdx.z is the split), so gridDim.z must equal it.
  if (args.cluster != splitK || args.cluster > kMaxClusterSplits || args.atomic) return cudaErrorInvalidValue;
  cudaLaunchConfig_t config = {};
  config.gridDim = grid;
  config.blockDim = dim3(threads);
  config.dynamicSmemBytes = bytes;
  config.stream = stream;
  cudaLaunchAttribute attributes[2] = {};
  attributes[0].id = cudaLaunchAttributeClusterDimension;
  attributes[0].val.clusterDim.x = 1;
  attributes[0].val.clusterDim.y = 1;
  attributes[0].val.clusterDim.z = args.cluster;
  // Load-balancing placement: with the default policy at most 62 clusters of four 128-row blocks (98.5 KB each) are
  // resident on the H100 at once, with this one 66, i.e. two blocks on every SM (cudaOccupancyMaxActiveClusters,
  // results/cluster-split-k-07de0fb/occupancy/); 256×4096×4096 at split 4 (64 clusters) then needs
  // one wave instead of two.
  attributes[1].id = cudaLaunchAttributeClusterSchedulingPolicyPreference;
  attributes[1].val.clusterSchedulingPolicyPreference = cudaClusterSchedulingPolicyLoadBalancing;
  config.attrs = attributes;
  config.numAttrs = 2;
  return cudaLaunchKernelEx(&config, spmmNmTiled<BM, WM, STAGES, KS, SLICES, PER_VECTOR>, args);
}

/// Launches one compiled configuration, union or per-vector staging as the weights were re-tiled (per-vector only at
/// KS = kStageKept, where 4 warp-columns × 16 kept rows fill the 64-row lists).
template <int BM, int WM, int STAGES, int KS = kStageKept, int SLICES = 1>
cudaError_t launchTiledInstance(const TiledArgs& args, int splitK, cudaStream_t stream) {
  if (args.ks != KS || args.srows > kMaxStageRows) return cudaErrorInvalidValue;  // host re-tiling contract
  if (!args.perVector) return launchTiledKernel<BM, WM, STAGES, KS, SLICES, false>(args, splitK, stream);
  if constexpr (KS == kStageKept) {
    if (args.srows != KS * kTileN / kWarpN) return cudaErrorInvalidValue;
    return launchTiledKernel<BM, WM, STAGES, KS, SLICES, true>(args, splitK, stream);
  }
  return cudaErrorInvalidValue;
}

}  // namespace nmkit
