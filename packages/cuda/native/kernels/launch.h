// Host-side entry points of the kernels (each .cu file defines its own). No CUDA headers needed to include this
// except for cudaStream_t / cudaError_t.
#pragma once
#include <cuda_runtime.h>
#include "kernel-args.h"

namespace nmkit {

/// One configuration of the tiled kernel: block rows, warp rows, pipeline depth and K slices (warp groups that
/// split each stage's kept rows; 2 only for the 32-row block).
struct TiledConfig {
  int bm;
  int wm;
  int stages;
  int slices;
};

/// Launches the tiled kernel; returns cudaErrorInvalidValue for a configuration that was not compiled.
/// Deep (4 stages, spmm-nm-low-sparsity.cu) and shallow (3 or 2 stages, spmm-nm-high-sparsity.cu) pipelines.
cudaError_t launchTiledDeep(const TiledConfig& config, const TiledArgs& args, int splitK, cudaStream_t stream);
cudaError_t launchTiledShallow(const TiledConfig& config, const TiledArgs& args, int splitK, cudaStream_t stream);
inline cudaError_t launchTiled(const TiledConfig& config, const TiledArgs& args, int splitK, cudaStream_t stream) {
  return config.stages >= 4 ? launchTiledDeep(config, args, splitK, stream) : launchTiledShallow(config, args, splitK, stream);
}
/// Threads per block of a tiled configuration.
int tiledThreads(const TiledConfig& config);

/// Streaming kernel: the general path (any group, any V; decode when V is not a multiple of 32). `rowsPerBlock` ∈
/// {1,2,4,8,16}.
cudaError_t launchStream(int rowsPerBlock, const StreamArgs& args, int splits, cudaStream_t stream);
/// Columns of C per streaming block.
constexpr int kStreamColumns = 128;
/// Shared bytes of the A slice the streaming kernel stages for a given split (plus MT·128 floats for sC).
inline int streamSharedBytes(int rowsPerBlock, int windowsPerSplit, int group) {
  return rowsPerBlock * windowsPerSplit * group * 4;
}

/// Narrow decode kernel (spmm-nm-narrow.cu; M ≤ 16 per block row, V a multiple of 32): 32 columns per block, the
/// compressed weights streamed once, A gathered by index. `rowsPerBlock` ∈ {1,2,4,8,16}; split-K over blockIdx.y
/// (atomic adds into a zeroed C) only when `splits` > 1. `transposed` (rowsPerBlock ≥ 8): gather from Aᵀ
/// (StreamArgs::At, rows padded to a multiple of rowsPerBlock), where a kept row's values of A are one contiguous run
/// instead of rowsPerBlock scattered 32-byte sectors; it costs a transpose launch first. `warps` ∈ {4, 8} per block.
cudaError_t launchNarrow(int rowsPerBlock, bool transposed, int warps, const StreamArgs& args, int splits, cudaStream_t stream);
/// Columns of C per narrow block: one warp-column.
constexpr int kNarrowColumns = 32;

/// Most blocks along a grid's y or z dimension (x takes 2³¹ − 1): launches over more row tiles (cuda-context.cc) or
/// split-K slices ({@link forEachSplitRange}) than this are split, and the transpose steps over the rest.
constexpr int kMaxGridYZ = 65535;

/// Launches `launch(args, splitsInGrid)` over consecutive ranges of at most kMaxGridYZ split-K slices (a grid's y),
/// each with `args.firstSplit` set to its first slice; returns the first launch error.
template <class Launch>
cudaError_t forEachSplitRange(const StreamArgs& args, int splits, Launch launch) {
  for (int first = 0; first < splits; first += kMaxGridYZ) {
    StreamArgs part = args;
    part.firstSplit = first;
    launch(part, splits - first < kMaxGridYZ ? splits - first : kMaxGridYZ);
    const cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess) return e;
  }
  return cudaSuccess;
}

/// At = Aᵀ (K × lda), zero in columns M..lda-1.
cudaError_t launchTranspose(const float* a, int m, int k, float* at, int lda, cudaStream_t stream);
/// A (M × K row-major) = the first K rows and M columns of At, transposed: launchTranspose's way back.
cudaError_t launchFromColumns(const float* at, int lda, int m, int k, float* a, cudaStream_t stream);
/// Sets *flag to 1 (it is never cleared here) when any of `count` floats at `data` is a NaN or ±Inf.
cudaError_t launchFiniteCheck(const float* data, size_t count, int* flag, cudaStream_t stream);
/// Keeps the GPU busy for `microseconds` so that the launches enqueued behind it run back to back when timed.
cudaError_t launchSpin(int microseconds, cudaStream_t stream);

}  // namespace nmkit
