// Shared launcher body for the files that instantiate spmm-nm-tiled.cuh.
#pragma once
#include "launch.h"
#include "spmm-nm-tiled.cuh"

namespace nmkit {

template <int BM, int WM, int STAGES, int KS = kStageKept, int SLICES = 1>
cudaError_t launchTiledInstance(const TiledArgs& args, int splitK, cudaStream_t stream) {
  if (args.ks != KS || args.srows > kMaxStageRows) return cudaErrorInvalidValue;  // host re-tiling contract
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
    const cudaError_t e = cudaFuncSetAttribute(spmmNmTiled<BM, WM, STAGES, KS, SLICES>, cudaFuncAttributeMaxDynamicSharedMemorySize, optin);
    if (e != cudaSuccess) return e;
    configuredBytes = optin;
  }
  const dim3 grid((args.ldb + kTileN - 1) / kTileN, (args.M + BM - 1) / BM, splitK);
  const int threads = TiledShape<BM, WM, SLICES>::kThreads;
  if (args.cluster <= 1 && !args.dependentLaunch) {
    spmmNmTiled<BM, WM, STAGES, KS, SLICES><<<grid, threads, bytes, stream>>>(args);
    return cudaGetLastError();
  }
  // Cluster split-K: the splits of a tile are one cluster (blockIdx.z is the split), so gridDim.z must equal it.
  if (args.cluster > 1 && (args.cluster != splitK || args.cluster > kMaxClusterSplits || args.atomic)) return cudaErrorInvalidValue;
  cudaLaunchConfig_t config = {};
  config.gridDim = grid;
  config.blockDim = dim3(threads);
  config.dynamicSmemBytes = bytes;
  config.stream = stream;
  cudaLaunchAttribute attributes[3] = {};
  int count = 0;
  if (args.dependentLaunch) {
    // Programmatic dependent launch: this grid may start while the transpose before it finishes (see transpose.cu).
    attributes[count].id = cudaLaunchAttributeProgrammaticStreamSerialization;
    attributes[count++].val.programmaticStreamSerializationAllowed = 1;
  }
  if (args.cluster > 1) {
    attributes[count].id = cudaLaunchAttributeClusterDimension;
    attributes[count].val.clusterDim.x = 1;
    attributes[count].val.clusterDim.y = 1;
    attributes[count++].val.clusterDim.z = args.cluster;
    // Load-balancing placement: with the default policy at most 62 clusters of four 128-row blocks (98.5 KB each) are
    // resident on the H100 at once, with this one 66, i.e. two blocks on every SM (cudaOccupancyMaxActiveClusters,
    // results/cluster-split-k-07de0fb/occupancy/); 256×4096×4096 at split 4 (64 clusters) then needs one wave, not two.
    attributes[count].id = cudaLaunchAttributeClusterSchedulingPolicyPreference;
    attributes[count++].val.clusterSchedulingPolicyPreference = cudaClusterSchedulingPolicyLoadBalancing;
  }
  config.attrs = attributes;
  config.numAttrs = count;
  return cudaLaunchKernelEx(&config, spmmNmTiled<BM, WM, STAGES, KS, SLICES>, args);
}

}  // namespace nmkit
