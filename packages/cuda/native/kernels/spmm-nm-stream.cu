// Streaming N:M SpMM: the decode path (M ≤ 16) and the general kernel for every pattern the format allows (any
// group ≤ 256, any V ≥ 1, ragged M, N, K). Each thread owns 4 adjacent columns and streams their compressed values
// once (16-byte loads, read-once cache hint); a block stages the rows of A it needs for its K slice in shared memory
// (rA gathers from it by index), keeps a rowsPerBlock × 4 accumulator tile in registers, and split-K blocks
// (blockIdx.y) add into a zeroed C. For M > rowsPerBlock, blockIdx.z walks over row chunks of A.
#include "launch.h"

namespace nmkit {

constexpr int kStreamThreads = kStreamColumns / 4;

template <int MT, bool OneVector>
__global__ void __launch_bounds__(kStreamThreads) spmmNmStream(StreamArgs p) {
  extern __shared__ float sA[];  // [MT][windowsPerSplit · group]: A rows m0.., K slice of this split
  const int windows = p.keptRows / p.keep;
  const int win0 = blockIdx.y * p.windowsPerSplit;
  const int win1 = min(windows, win0 + p.windowsPerSplit);
  const int sliceRows = p.windowsPerSplit * p.group;
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
  __syncthreads();
  const int n = (blockIdx.x * kStreamThreads + threadIdx.x) * 4;
  if (n >= p.ldb) return;  // after the only barrier

  int vec[4];
#pragma unroll
  for (int j = 0; j < 4; ++j) vec[j] = min(n + j, p.N - 1) / p.vectorLength;  // padded columns: any vector, value 0

  float rC[MT][4];
#pragma unroll
  for (int i = 0; i < MT; ++i) rC[i][0] = rC[i][1] = rC[i][2] = rC[i][3] = 0.f;

  for (int win = win0; win < win1; ++win) {
    const int base = (win - win0) * p.group;
    const int w0 = win * p.keep;
#pragma unroll 8
    for (int j = 0; j < p.keep; ++j) {
      const int w = w0 + j;
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
  }

#pragma unroll
  for (int i = 0; i < MT; ++i) {
    const int m = m0 + i;
    if (m >= p.M) break;
    float* gC = p.C + static_cast<size_t>(m) * p.N;
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      if (n + j >= p.N) break;
      if (p.atomic) atomicAdd(gC + n + j, rC[i][j]);
      else gC[n + j] = rC[i][j];
    }
  }
}

template <int MT>
cudaError_t launchStreamInstance(const StreamArgs& args, int splits, cudaStream_t stream) {
  const int bytes = streamSharedBytes(MT, args.windowsPerSplit, args.group);
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
  const dim3 grid((args.ldb + kStreamColumns - 1) / kStreamColumns, splits, (args.M + MT - 1) / MT);
  kernel<<<grid, kStreamThreads, bytes, stream>>>(args);
  return cudaGetLastError();
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
