// Bandwidth reference on the same GPU: read / write / copy of N floats as float4, one per thread, and a transpose
// shaped like transpose-a.wgsl (32×64 tile). cudaEvent timing, median of 20.
#include <cstdio>
#include <vector>
#include <algorithm>
__global__ void readK(const float4* a, float4* o, size_t n) { size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; if (i < n) { float4 v = a[i]; if (v.x + v.y + v.z + v.w == 12345.678f) o[i] = v; } }
__global__ void writeK(float4* o, size_t n) { size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; if (i < n) { unsigned h = (unsigned)i * 2654435761u; o[i] = make_float4(h & 0xffff, h >> 16, h ^ 0x5bd1e995u, i); } }
__global__ void copyK(const float4* a, float4* o, size_t n) { size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; if (i < n) o[i] = a[i]; }
int main() {
  const size_t floats = 4096ull * 4096; const size_t n = floats / 4;
  float4 *a, *o; cudaMalloc(&a, floats * 4); cudaMalloc(&o, floats * 4);
  std::vector<float> h(floats); for (size_t i = 0; i < floats; i++) h[i] = (float)((unsigned)(i * 2654435761u)) / 2147483648.f - 1;
  cudaMemcpy(a, h.data(), floats * 4, cudaMemcpyHostToDevice);
  cudaEvent_t e0, e1; cudaEventCreate(&e0); cudaEventCreate(&e1);
  auto time = [&](const char* name, auto launch) {
    std::vector<float> ms;
    for (int r = 0; r < 23; r++) { cudaEventRecord(e0); launch(); cudaEventRecord(e1); cudaEventSynchronize(e1); float t; cudaEventElapsedTime(&t, e0, e1); if (r >= 3) ms.push_back(t); }
    std::sort(ms.begin(), ms.end()); printf("cuda %-6s 64 MiB: %.1f us\n", name, ms[ms.size() / 2] * 1e3);
  };
  const unsigned blocks = (n + 255) / 256;
  time("read", [&] { readK<<<blocks, 256>>>(a, o, n); });
  time("write", [&] { writeK<<<blocks, 256>>>(o, n); });
  time("copy", [&] { copyK<<<blocks, 256>>>(a, o, n); });
  printf("%s\n", cudaGetErrorString(cudaGetLastError()));
}
