// Streaming N:M SpMM: the general kernel for every pattern the format allows (any group ≤ 256, any V ≥ 1, ragged
// M, N, K), and the decode path where the narrow kernel does not apply (V not a multiple of 32). A block owns 128 columns of C and one K slice (split-K over blockIdx.y):
//   - it stages the rows of A it needs for its slice in shared memory (sA, zero past M and K),
//   - its 8 warps ("K groups") take interleaved kept rows of the slice; each lane streams the 16-byte values of its
//     4 columns once (read-once cache hint) and gathers rA from sA by index, accumulating rC[MT][4] in registers,
//   - the groups' partial sums meet in shared memory (sC, shared atomics), and the block adds its tile to C once
//     (global atomics into a zeroed C when K is split, plain stores otherwise).
// For M > MT, blockIdx.z walks over row chunks of A.
#include "launch.h"

namespace nmkit {

constexpr int kStreamThreads = 256;
constexpr int kStreamGroups = kStreamThreads / 32;  // K groups per block
static_assert(kStreamColumns == 32 * 4, "one warp spans the block's columns, 4 per lane");

template <int MT, bool OneVector>
__global__ void __launch_bounds__(kStreamThreads) spmmNmStream(StreamArgs p) {
  extern __shared__ float smem[];
  const int windows = p.keptRows / p.keep;
  const int win0 = (p.firstSplit + blockIdx.y) * p.windowsPerSplit;
  const int win1 = min(windows, win0 + p.windowsPerSplit);
  const int sliceRows = p.windowsPerSplit * p.group;
  float* sA = smem;                    // [MT][sliceRows]
  float* sC = smem + MT * sliceRows;   // [MT][128]
  const int k0 = win0 * p.group;
  const int m0 = blockIdx.z * MT;
  for (int i = threadIdx.x; i < MT * sliceRows; i += kStreamThreads) {
    const int mm = i / sliceRows;
    const int kk = i % sliceRows;
    const int m = m0 + mm;
    const int k = k0 + kk;
    // Zero past M and past K: an index into K padding meets a zero value and a zero A.
    sA[i] = (m < p.M && k < p.K) ? p.A[static_cast<size_t>(m) * p.K + k] : 0.f;
  }
  for (int i = threadIdx.x; i < MT * kStreamColumns; i += kStreamThreads) sC[i] = 0.f;
  __syncthreads();

  const int lane = threadIdx.x % 32;
  const int group = threadIdx.x / 32;
  const int nLocal = lane * 4;
  const int n = blockIdx.x * kStreamColumns + nLocal;
  const bool active = n < p.ldb;
  int vec[4];
#pragma unroll
  for (int j = 0; j < 4; ++j) vec[j] = min(n + j, p.N - 1) / p.vectorLength;  // padded columns: any vector, value 0

  float rC[MT][4];
#pragma unroll
  for (int i = 0; i < MT; ++i) rC[i][0] = rC[i][1] = rC[i][2] = rC[i][3] = 0.f;

  if (active) {
    const int w1 = win1 * p.keep;
#pragma unroll 4
    for (int w = win0 * p.keep + group; w < w1; w += kStreamGroups) {
      const int base = (w / p.keep - win0) * p.group;
      const float4 b = __ldcs(reinterpret_cast<const float4*>(p.B + static_cast<size_t>(w) * p.ldb + n));
      const uint8_t* gIdx = p.indices + static_cast<size_t>(w) * p.vectors;
      if constexpr (OneVector) {
        const float* sRow = sA + base + __ldg(gIdx + vec[0]);
#pragma unroll
        for (int i = 0; i < MT; ++i) {
          const float a = sRow[i * sliceRows];
          rC[i][0] = fmaf(a, b.x, rC[i][0]);
          rC[i][1] = fmaf(a, b.y, rC[i][1]);
          rC[i][2] = fmaf(a, b.z, rC[i][2]);
          rC[i][3] = fmaf(a, b.w, rC[i][3]);
        }
      } else {
        const int kl0 = base + __ldg(gIdx + vec[0]);
        const int kl1 = base + __ldg(gIdx + vec[1]);
        const int kl2 = base + __ldg(gIdx + vec[2]);
        const int kl3 = base + __ldg(gIdx + vec[3]);
#pragma unroll
        for (int i = 0; i < MT; ++i) {
          rC[i][0] = fmaf(sA[i * sliceRows + kl0], b.x, rC[i][0]);
          rC[i][1] = fmaf(sA[i * sliceRows + kl1], b.y, rC[i][1]);
          rC[i][2] = fmaf(sA[i * sliceRows + kl2], b.z, rC[i][2]);
          rC[i][3] = fmaf(sA[i * sliceRows + kl3], b.w, rC[i][3]);
        }
      }
    }
    // The K groups' partial sums meet in shared memory.
#pragma unroll
    for (int i = 0; i < MT; ++i)
#pragma unroll
      for (int j = 0; j < 4; ++j) atomicAdd(sC + i * kStreamColumns + nLocal + j, rC[i][j]);
  }
  __syncthreads();

  for (int i = threadIdx.x; i < MT * kStreamColumns; i += kStreamThreads) {
    const int m = m0 + i / kStreamColumns;
    const int col = blockIdx.x * kStreamColumns + i % kStreamColumns;
    if (m >= p.M || col >= p.N) continue;
    float* gC = p.C + static_cast<size_t>(m) * p.N + col;
    if (p.atomic) atomicAdd(gC, sC[i]);
    else *gC = sC[i];
  }
}

template <int MT>
cudaError_t launchStreamInstance(const StreamArgs& args, int splits, cudaStream_t stream) {
  const int bytes = streamSharedBytes(MT, args.windowsPerSplit, args.group) + MT * kStreamColumns * 4;
  static int configured[2] = {0, 0};
  const bool one = args.vectorLength % 4 == 0;
  auto kernel = one ? spmmNmStream<MT, true> : spmmNmStream<MT, false>;
  if (bytes > 48 * 1024 && bytes > configured[one]) {
    int device = 0, optin = 0;
    cudaGetDevice(&device);
    cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device);
    if (bytes > optin) return cudaErrorInvalidConfiguration;
    const cudaError_t e = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, optin);
    if (e != cudaSuccess) return e;
    configured[one] = optin;
  }
  return forEachSplitRange(args, splits, [&](const StreamArgs& part, int gridSplits) {
    const dim3 grid((args.ldb + kStreamColumns - 1) / kStreamColumns, gridSplits, (args.M + MT - 1) / MT);
    kernel<<<grid, kStreamThreads, bytes, stream>>>(part);
  });
}

cudaError_t launchStream(int rowsPerBlock, const StreamArgs& args, int splits, cudaStream_t stream) {
  switch (rowsPerBlock) {
    case 1: return launchStreamInstance<1>(args, splits, stream);
    case 2: return launchStreamInstance<2>(args, splits, stream);
    case 4: return launchStreamInstance<4>(args, splits, stream);
    case 8: return launchStreamInstance<8>(args, splits, stream);
    case 16: return launchStreamInstance<16>(args, splits, stream);
    default: return cudaErrorInvalidValue;
  }
}

}  // namespace nmkit
