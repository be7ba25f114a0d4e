// cuBLAS loaded at run time with dlopen and a handful of declared prototypes: the addon builds where cuBLAS is not
// installed (no header, no library) and only the dense baseline needs it.
#pragma once
#include <cuda_runtime.h>
#include <string>

namespace nmkit {

/// The slice of the cuBLAS v2 API the dense baseline uses (status codes are ints; 0 = success).
struct CublasApi {
  using Handle = void*;
  int (*create)(Handle*) = nullptr;
  int (*destroy)(Handle) = nullptr;
  int (*setStream)(Handle, cudaStream_t) = nullptr;
  int (*setMathMode)(Handle, int) = nullptr;
  int (*sgemm)(Handle, int, int, int, int, int, const float*, const float*, int, const float*, int, const float*,
               float*, int) = nullptr;
  /// Path that loaded, or empty.
  std::string loadedFrom;
  /// Why loading failed (every attempt), or empty.
  std::string error;

  /// Tries NMKIT_CUBLAS_PATH, libcublas.so.13, /usr/local/cuda/lib64/libcublas.so.13, then the .so.12 pair.
  bool load();
};

constexpr int kCublasOpN = 0;
/// CUBLAS_DEFAULT_MATH: plain FP32 SGEMM (TF32 tensor cores stay off unless CUBLAS_TF32_TENSOR_OP_MATH is set).
constexpr int kCublasDefaultMath = 0;

}  // namespace nmkit
