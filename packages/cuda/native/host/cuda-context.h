// Device state of the addon, free of N-API: a context (device, stream, cuBLAS handle, a mutex that serialises
// work on the stream), weights resident on the device, and the operations the async workers run off the JS thread.
#pragma once
#include <cuda_runtime.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "../kernels/launch.h"
#include "cublas-loader.h"

namespace nmkit {

/// A CUDA (or cuBLAS) failure; `what()` carries the CUDA error name and string and the operation that failed.
class CudaFailure : public std::runtime_error {
 public:
  CudaFailure(const std::string& what, int code) : std::runtime_error(what), code(code) {}
  int code;
};

/// Throws CudaFailure unless `e` is cudaSuccess.
void check(cudaError_t e, const char* operation);

/// What the device reported, or why there is none (cudaGetDeviceCount's error, e.g. 35 without a driver).
struct Probe {
  bool ok = false;
  int errorCode = 0;
  std::string error;
  int deviceCount = 0;
  int driverVersion = 0;
  int runtimeVersion = 0;
  std::string name;
  int major = 0, minor = 0, multiprocessors = 0, sharedPerBlockOptin = 0, maxThreadsPerBlock = 0;
  size_t totalMemory = 0;
};
Probe probeDevice(int device);

/// Host arrays of one upload, copied into a plain struct on the JS thread (pointers stay valid: the worker holds
/// references to the typed arrays until it finishes).
struct UploadDesc {
  bool dense = false;
  int rows = 0, cols = 0;               // K, N
  int keep = 0, group = 0, vectorLength = 0, keptRows = 0, vectors = 0;
  int ldb = 0;                          // row stride of values (N rounded up to 4 for sparse)
  const float* values = nullptr;
  size_t valueCount = 0;
  const uint8_t* indices = nullptr;
  size_t indexCount = 0;
  bool tiled = false;                   // re-tiled metadata present (V a multiple of 32)
  int ks = 0, srows = 0, stages = 0, tilesN = 0, slotStride = 0;
  bool perVector = false;               // per-vector row lists (TiledArgs::perVector), else union lists with slots
  const int32_t* rowLists = nullptr;
  size_t rowListCount = 0;
  const uint8_t* slots = nullptr;
  size_t slotCount = 0;
};

/// Weights resident on the device. Freed when the last holder (JS wrapper or a running worker) lets go.
struct DeviceWeights {
  UploadDesc shape;  // sizes only; the host pointers are cleared after upload
  float* values = nullptr;
  uint8_t* indices = nullptr;
  int32_t* rowLists = nullptr;
  uint8_t* slots = nullptr;
  size_t bytes = 0;
  int device = 0;
  ~DeviceWeights();
};

/// Row stride of a device matrix's column form for M rows: M rounded up to 8 (M ≤ 8) or 16, a multiple of 4 (the tiled
/// kernels' 16-byte copies) and of the transposed narrow kernel's rows per block at that M (8 up to 8 rows, else 16),
/// so every kernel that reads Aᵀ reads the column form as it is, and an 8-row decode chain writes no pad rows.
inline int columnFormStride(int m) {
  const int pad = m <= 8 ? 8 : 16;
  return (m + pad - 1) / pad * pad;
}

/// A dense float matrix on the device: activations kept there between calls (NMBackend.matmulDevice). It holds one
/// or both of two layouts of the same values, made on first need and kept (the values never change):
///   - row-major `data` (rows × cols): what upload() copies in, what read() copies out, and what the streaming,
///     row-major narrow and cuBLAS kernels read;
///   - the column form `columns`: Aᵀ, (cols + 1) × lda with lda = columnFormStride(rows), zeros in the pad
///     columns and in row cols: what the tiled and transposed narrow kernels read, and what their products write
///     C as. A chain of such layers so passes activations from layer to layer with no transpose.
/// Only the context that made it touches it, under its lock. Freed when the last holder (JS wrapper or a running
/// worker) lets go.
struct DeviceMatrix {
  float* data = nullptr;     // row-major, or null while only the column form exists
  float* columns = nullptr;  // column form, or null until a kernel that reads Aᵀ needs it
  int lda = 0;               // row stride of the column form
  int rows = 0, cols = 0;    // M × K
  size_t count = 0;          // floats of the matrix: rows · cols
  std::atomic<size_t> bytes{0};  // device bytes held (both forms): read by JS while a worker may add a form
  int device = 0;
  ~DeviceMatrix();
};

/// How one multiplication runs (decided by the TypeScript planner, checked here).
struct Plan {
  enum Kernel { TiledLow = 0, TiledHigh = 1, Stream = 2, Dense = 3, Narrow = 4, NarrowTransposed = 5 } kernel = Stream;
  int bm = 0, wm = 0, stages = 0, splitK = 1, slices = 1;  // tiled (slices: also the narrow kernel's warps per block)
  int cluster = 0;  // tiled split-K: 1 = the splits of a tile add up in a thread-block cluster (sm_90), 0 = atomics
  int rowsPerBlock = 16, windowsPerSplit = 1;  // streaming and narrow
  // 1: the weights were widened (a column's pruned rows stored as zeros), which is exact only for finite A, so a
  // call whose A holds a NaN or ±Inf is refused with kNonFiniteA before anything reaches the device.
  int finiteA = 0;
};

/// CudaFailure code of a widened-weights call refused for a non-finite A (the caller reruns on the original weights).
constexpr int kNonFiniteA = -2;

/// Whether every one of the `count` floats is finite (no NaN, no ±Inf).
bool allFinite(const float* data, size_t count);

class Context {
 public:
  explicit Context(int device);
  ~Context();
  std::shared_ptr<DeviceWeights> upload(const UploadDesc& desc);
  // onlyIfIdle: run only if no other call holds the context (the addon's inline path on the JS thread, which must
  // never wait behind a long call): false / nullptr when it did not run.

  /// C (M × N) = A (M × K) · weights, into `c` (host, M·N floats).
  bool matmul(const DeviceWeights& w, const Plan& plan, const float* a, int m, int k, float* c, bool onlyIfIdle = false);
  /// A device copy of a rows × cols host matrix (row-major).
  std::shared_ptr<DeviceMatrix> uploadMatrix(const float* host, int rows, int cols, bool onlyIfIdle = false);
  /// Copies a device matrix into `host` (its `count` floats, row-major).
  bool readMatrix(const DeviceMatrix& matrix, float* host, bool onlyIfIdle = false);
  /// C (a new device matrix, M × N) = A (on the device, M × K) · weights. Nothing crosses to the host but, for
  /// widened weights (plan.finiteA), the flag of a device-side finite check. A tiled or transposed narrow plan reads
  /// A's column form (made once, then kept with A) and writes C in its column form; the other plans read and write
  /// row-major.
  std::shared_ptr<DeviceMatrix> matmulDevice(const DeviceWeights& w, const Plan& plan, DeviceMatrix& a, int m, int k,
                                             bool onlyIfIdle = false);
  /// Per-launch device times in ms of `repeats` launches after `warmup`, A and C resident. `deviceInput`: A and C in
  /// the layouts matmulDevice reads and writes in a chain (the Aᵀ of a plan that reads it made once before the
  /// warm-up, C in its column form), else as matmul lays them out (row-major A, transposed by every such launch).
  std::vector<double> time(const DeviceWeights& w, const Plan& plan, const float* a, int m, int k, int warmup, int repeats,
                           bool deviceInput = false);
  void memInfo(size_t* free, size_t* total);
  const std::string& cublasSource() const { return cublas_.loadedFrom; }

 private:
  struct Buffers {
    float* a = nullptr;
    float* at = nullptr;
    float* c = nullptr;
    int lda = 0;
    int ldc = 0;               // > 0: C is written in the column form (plans that read Aᵀ), with this row stride
    size_t cFloats = 0;        // floats of C's buffer (what split-K atomics zero first)
    bool ownsOperands = true;  // false: A and C belong to device matrices
    bool ownsAt = true;        // false: Aᵀ is a device matrix's column form (not freed with the call)
    bool atReady = false;      // Aᵀ already holds A (a column form, or made once before timed runs): no transpose
  };
  /// The buffers of a call on a host A: A and C allocated here, and Aᵀ when the plan reads it (the call transposes).
  Buffers allocate(const DeviceWeights& w, const Plan& plan, int m, int k);
  /// The buffers of a call on device matrix `a`, as matmulDevice runs it: A in the form the plan reads (made now if
  /// missing, then kept with A) and `c`, a new device matrix in the form the plan writes.
  Buffers chainBuffers(const DeviceWeights& w, const Plan& plan, DeviceMatrix& a, std::shared_ptr<DeviceMatrix>& c);
  /// A device copy of a host matrix (the caller holds the lock).
  std::shared_ptr<DeviceMatrix> copyIn(const float* host, int rows, int cols);
  /// The device matrix's column form (made from its row-major data on first need).
  void ensureColumns(DeviceMatrix& a);
  /// The device matrix's row-major data (made from its column form on first need).
  void ensureRowMajor(DeviceMatrix& a);
  /// A new row-major copy of a column-form matrix, stream-ordered; the caller frees it.
  float* rowMajorCopy(const DeviceMatrix& a);
  /// A new device matrix for C (M × N): its column form when `columns`, with the zero row N set, else row-major.
  std::shared_ptr<DeviceMatrix> allocateProduct(int m, int n, bool columns);
  /// Throws CudaFailure kNonFiniteA when any of `count` floats at `a` (device) is a NaN or ±Inf.
  void requireFiniteOnDevice(const float* a, size_t count);
  void release(Buffers& b);
  /// The context's lock: taken, or with onlyIfIdle only tried (then check owns_lock()).
  std::unique_lock<std::mutex> acquire(bool onlyIfIdle);
  /// Runs `enqueueWork` (work on the stream that uses `b`), waits for it, and releases b's buffers whatever happens.
  template <class Enqueue>
  void runAndRelease(Buffers& b, Enqueue enqueueWork);
  void enqueue(const DeviceWeights& w, const Plan& plan, const Buffers& b, int m, int k);
  void ensureCublas();

  int device_;
  int computeMajor_ = 0;  // clusters need 9 (Hopper)
  cudaStream_t stream_ = nullptr;
  std::mutex mutex_;
  CublasApi cublas_;
  CublasApi::Handle cublasHandle_ = nullptr;
};

}  // namespace nmkit
