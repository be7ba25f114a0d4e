#include "cublas-loader.h"

#include <dlfcn.h>

#include <cstdlib>
#include <vector>

namespace nmkit {

bool CublasApi::load() {
  if (sgemm) return true;
  std::vector<std::string> names;
  if (const char* own = std::getenv("NMKIT_CUBLAS_PATH")) names.emplace_back(own);
  for (const char* n : {"libcublas.so.13", "/usr/local/cuda/lib64/libcublas.so.13", "libcublas.so.12",
                        "/usr/local/cuda/lib64/libcublas.so.12"}) {
    names.emplace_back(n);
  }
  error.clear();
  for (const auto& name : names) {
    void* lib = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
      const char* why = dlerror();
      error += name + ": " + (why ? why : "not found") + "; ";
      continue;
    }
    create = reinterpret_cast<decltype(create)>(dlsym(lib, "cublasCreate_v2"));
    destroy = reinterpret_cast<decltype(destroy)>(dlsym(lib, "cublasDestroy_v2"));
    setStream = reinterpret_cast<decltype(setStream)>(dlsym(lib, "cublasSetStream_v2"));
    setMathMode = reinterpret_cast<decltype(setMathMode)>(dlsym(lib, "cublasSetMathMode"));
    sgemm = reinterpret_cast<decltype(sgemm)>(dlsym(lib, "cublasSgemm_v2"));
    if (create && destroy && setStream && setMathMode && sgemm) {
      loadedFrom = name;
      error.clear();
      return true;
    }
    error += name + ": missing cuBLAS v2 symbols; ";
    sgemm = nullptr;
    dlclose(lib);
  }
  return false;
}

}  // namespace nmkit
