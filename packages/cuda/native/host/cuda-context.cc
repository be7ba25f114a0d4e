#include "cuda-context.h"

#include <algorithm>
#include <cstring>

namespace nmkit {

void check(cudaError_t e, const char* operation) {
  if (e == cudaSuccess) return;
  cudaGetLastError();  // a non-sticky error must not resurface in the next launch's check
  throw CudaFailure(std::string(operation) + " failed: " + cudaGetErrorName(e) + " (" + std::to_string(static_cast<int>(e)) +
                        "): " + cudaGetErrorString(e),
                    static_cast<int>(e));
}

bool allFinite(const float* data, size_t count) {
  // Bit test on the exponent (all ones: NaN or ±Inf), accumulated without branches so the loop vectorizes.
  uint32_t worst = 0;
  for (size_t i = 0; i < count; ++i) {
    uint32_t bits;
    std::memcpy(&bits, data + i, sizeof bits);
    worst |= static_cast<uint32_t>((bits & 0x7f800000u) == 0x7f800000u);
  }
  return worst == 0;
}

Probe probeDevice(int device) {
  Probe p;
  cudaDriverGetVersion(&p.driverVersion);
  cudaRuntimeGetVersion(&p.runtimeVersion);
  const cudaError_t e = cudaGetDeviceCount(&p.deviceCount);
  if (e != cudaSuccess) {
    p.errorCode = static_cast<int>(e);
    p.error = cudaGetErrorString(e);
    cudaGetLastError();  // clear the sticky-free error so a later probe starts clean
    return p;
  }
  if (p.deviceCount == 0 || device >= p.deviceCount) {
    p.error = "no CUDA device with index " + std::to_string(device);
    return p;
  }
  cudaDeviceProp prop{};
  const cudaError_t pe = cudaGetDeviceProperties(&prop, device);
  if (pe != cudaSuccess) {
    p.errorCode = static_cast<int>(pe);
    p.error = cudaGetErrorString(pe);
    return p;
  }
  p.ok = true;
  p.name = prop.name;
  p.major = prop.major;
  p.minor = prop.minor;
  p.multiprocessors = prop.multiProcessorCount;
  p.sharedPerBlockOptin = static_cast<int>(prop.sharedMemPerBlockOptin);
  p.maxThreadsPerBlock = prop.maxThreadsPerBlock;
  p.totalMemory = prop.totalGlobalMem;
  return p;
}

DeviceWeights::~DeviceWeights() {
  cudaSetDevice(device);
  cudaFree(values);
  cudaFree(indices);
  cudaFree(rowLists);
  cudaFree(slots);
}

DeviceMatrix::~DeviceMatrix() {
  // Stream-ordered, on the legacy stream, where nothing is queued: unlike cudaFree this does not wait for the whole
  // device, so disposing an activation on the JS thread never stalls behind a kernel another call runs. Every call
  // that used the matrix has finished (it held a reference until then).
  cudaSetDevice(device);
  if (data) cudaFreeAsync(data, 0);
  if (columns) cudaFreeAsync(columns, 0);
}

namespace {

bool isTiled(const Plan& plan) { return plan.kernel == Plan::TiledLow || plan.kernel == Plan::TiledHigh; }
/// Plans whose kernel reads Aᵀ (the column form) instead of row-major A.
bool readsColumns(const Plan& plan) { return isTiled(plan) || plan.kernel == Plan::NarrowTransposed; }

}  // namespace

Context::Context(int device) : device_(device) {
  check(cudaSetDevice(device), "cudaSetDevice");
  check(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");
  check(cudaDeviceGetAttribute(&computeMajor_, cudaDevAttrComputeCapabilityMajor, device), "cudaDeviceGetAttribute");
}

Context::~Context() {
  cudaSetDevice(device_);
  if (cublasHandle_) cublas_.destroy(cublasHandle_);
  if (stream_) cudaStreamDestroy(stream_);
}

template <typename T>
static T* copyToDevice(const T* host, size_t count, size_t* bytes, cudaStream_t stream) {
  if (!host || count == 0) return nullptr;
  T* device = nullptr;
  check(cudaMalloc(&device, count * sizeof(T)), "cudaMalloc (weights)");
  const cudaError_t e = cudaMemcpyAsync(device, host, count * sizeof(T), cudaMemcpyHostToDevice, stream);
  if (e != cudaSuccess) {
    cudaFree(device);
    check(e, "cudaMemcpy (weights)");
  }
  *bytes += count * sizeof(T);
  return device;
}

std::shared_ptr<DeviceWeights> Context::upload(const UploadDesc& desc) {
  std::lock_guard<std::mutex> lock(mutex_);
  check(cudaSetDevice(device_), "cudaSetDevice");
  auto w = std::make_shared<DeviceWeights>();
  w->device = device_;
  w->shape = desc;
  w->values = copyToDevice(desc.values, desc.valueCount, &w->bytes, stream_);
  w->indices = copyToDevice(desc.indices, desc.indexCount, &w->bytes, stream_);
  w->rowLists = copyToDevice(desc.rowLists, desc.rowListCount, &w->bytes, stream_);
  w->slots = copyToDevice(desc.slots, desc.slotCount, &w->bytes, stream_);
  check(cudaStreamSynchronize(stream_), "cudaStreamSynchronize (upload)");
  w->shape.values = nullptr;
  w->shape.indices = nullptr;
  w->shape.rowLists = nullptr;
  w->shape.slots = nullptr;
  return w;
}

void Context::ensureCublas() {
  if (cublasHandle_) return;
  if (!cublas_.load()) {
    throw CudaFailure("cuBLAS could not be loaded (" + cublas_.error + ")", -1);
  }
  int s = cublas_.create(&cublasHandle_);
  if (s != 0) throw CudaFailure("cublasCreate failed with status " + std::to_string(s), s);
  cublas_.setStream(cublasHandle_, stream_);
  cublas_.setMathMode(cublasHandle_, kCublasDefaultMath);
}

Context::Buffers Context::allocate(const DeviceWeights& w, const Plan& plan, int m, int k) {
  Buffers b;
  const int n = w.shape.cols;
  check(cudaMallocAsync(&b.a, static_cast<size_t>(m) * k * sizeof(float), stream_), "cudaMallocAsync (A)");
  const cudaError_t allocatedC = cudaMallocAsync(&b.c, static_cast<size_t>(m) * n * sizeof(float), stream_);
  if (allocatedC != cudaSuccess) {
    cudaFreeAsync(b.a, stream_);
    check(allocatedC, "cudaMallocAsync (C)");
  }
  b.cFloats = static_cast<size_t>(m) * n;
  if (readsColumns(plan)) {
    // The narrow kernel reads whole MT-row runs of each row of Aᵀ: pad its rows to a multiple of MT (zeros).
    const int pad = plan.kernel == Plan::NarrowTransposed ? std::max(4, plan.rowsPerBlock) : 4;
    b.lda = (m + pad - 1) / pad * pad;
    // k + 1 rows: row k stays zero, the staged "zero row" of K padding.
    const cudaError_t e = cudaMallocAsync(&b.at, static_cast<size_t>(k + 1) * b.lda * sizeof(float), stream_);
    if (e != cudaSuccess) {
      b.at = nullptr;
      release(b);
      check(e, "cudaMallocAsync (Aᵀ)");
    }
  }
  return b;
}

void Context::release(Buffers& b) {
  if (b.ownsOperands) {  // (null before allocate() ran: a call that failed first)
    if (b.a) cudaFreeAsync(b.a, stream_);
    if (b.c) cudaFreeAsync(b.c, stream_);
  }
  if (b.at && b.ownsAt) cudaFreeAsync(b.at, stream_);
  b = Buffers{};
}

void Context::ensureColumns(DeviceMatrix& a) {
  if (a.columns) return;
  const int lda = columnFormStride(a.rows);
  const size_t floats = static_cast<size_t>(a.cols + 1) * lda;
  float* at = nullptr;
  check(cudaMallocAsync(&at, floats * sizeof(float), stream_), "cudaMallocAsync (column form)");
  const cudaError_t e = launchTranspose(a.data, a.rows, a.cols, at, lda, stream_);
  if (e != cudaSuccess) {
    cudaFreeAsync(at, stream_);
    check(e, "transpose launch (column form)");
  }
  a.columns = at;
  a.lda = lda;
  a.bytes += floats * sizeof(float);
}

void Context::ensureRowMajor(DeviceMatrix& a) {
  if (a.data) return;
  a.data = rowMajorCopy(a);
  a.bytes += a.count * sizeof(float);
}

float* Context::rowMajorCopy(const DeviceMatrix& a) {
  float* data = nullptr;
  check(cudaMallocAsync(&data, a.count * sizeof(float), stream_), "cudaMallocAsync (row-major form)");
  const cudaError_t e = launchFromColumns(a.columns, a.lda, a.rows, a.cols, data, stream_);
  if (e != cudaSuccess) {
    cudaFreeAsync(data, stream_);
    check(e, "transpose launch (row-major form)");
  }
  return data;
}

Context::Buffers Context::chainBuffers(const DeviceWeights& w, const Plan& plan, DeviceMatrix& a, std::shared_ptr<DeviceMatrix>& c) {
  const bool columns = readsColumns(plan);
  if (columns) ensureColumns(a);
  else ensureRowMajor(a);
  c = allocateProduct(a.rows, w.shape.cols, columns);
  Buffers b;
  b.a = a.data;
  b.c = columns ? c->columns : c->data;
  b.ldc = columns ? c->lda : 0;
  b.cFloats = columns ? static_cast<size_t>(c->cols + 1) * c->lda : c->count;
  b.ownsOperands = false;
  if (columns) {
    b.at = a.columns;
    b.lda = a.lda;
    b.ownsAt = false;
    b.atReady = true;
  }
  return b;
}

std::shared_ptr<DeviceMatrix> Context::allocateProduct(int m, int n, bool columns) {
  auto c = std::make_shared<DeviceMatrix>();
  c->device = device_;
  c->rows = m;
  c->cols = n;
  c->count = static_cast<size_t>(m) * n;
  if (!columns) {
    check(cudaMallocAsync(&c->data, c->count * sizeof(float), stream_), "cudaMallocAsync (C)");
    c->bytes = c->count * sizeof(float);
    return c;
  }
  c->lda = columnFormStride(m);
  const size_t floats = static_cast<size_t>(n + 1) * c->lda;
  check(cudaMallocAsync(&c->columns, floats * sizeof(float), stream_), "cudaMallocAsync (C, column form)");
  c->bytes = floats * sizeof(float);
  // Row N is the zero row a next layer's K padding stages; the kernel writes every other row, pad columns included.
  check(cudaMemsetAsync(c->columns + static_cast<size_t>(n) * c->lda, 0, c->lda * sizeof(float), stream_), "cudaMemset (zero row of C)");
  return c;
}

void Context::requireFiniteOnDevice(const float* a, size_t count) {
  int* flag = nullptr;
  check(cudaMallocAsync(&flag, sizeof(int), stream_), "cudaMallocAsync (finite flag)");
  int found = 0;
  cudaError_t e = cudaMemsetAsync(flag, 0, sizeof(int), stream_);
  if (e == cudaSuccess) e = launchFiniteCheck(a, count, flag, stream_);
  if (e == cudaSuccess) e = cudaMemcpyAsync(&found, flag, sizeof(int), cudaMemcpyDeviceToHost, stream_);
  cudaFreeAsync(flag, stream_);
  const cudaError_t done = cudaStreamSynchronize(stream_);
  check(e, "finite check of A");
  check(done, "finite check of A");
  if (found) throw CudaFailure("A holds a NaN or an infinity: widened weights would turn pruned rows into 0 · NaN", kNonFiniteA);
}

namespace {

/// Calls launch(firstRow, rows) for consecutive row ranges of at most kMaxGridYZ blocks of `rowsPerBlock` rows each:
/// one range, the whole of A, unless A has more row blocks than a grid's y or z dimension holds.
template <class Launch>
void forEachRowRange(int m, int rowsPerBlock, Launch launch) {
  const int rowsPerLaunch = kMaxGridYZ * rowsPerBlock;
  for (int m0 = 0; m0 < m; m0 += rowsPerLaunch) launch(m0, std::min(rowsPerLaunch, m - m0));
}

}  // namespace

void Context::enqueue(const DeviceWeights& w, const Plan& plan, const Buffers& b, int m, int k) {
  const UploadDesc& s = w.shape;
  const int n = s.cols;
  if (plan.kernel == Plan::Dense) {
    ensureCublas();
    const float one = 1.f, zero = 0.f;
    // Row-major C = A·B is column-major Cᵀ = Bᵀ·Aᵀ: Sgemm(N, N, n, m, k, 1, B, n, A, k, 0, C, n).
    const int status = cublas_.sgemm(cublasHandle_, kCublasOpN, kCublasOpN, n, m, k, &one, w.values, s.ldb, b.a, k, &zero, b.c, n);
    if (status != 0) throw CudaFailure("cublasSgemm failed with status " + std::to_string(status), status);
    return;
  }
  const bool narrow = plan.kernel == Plan::Narrow || plan.kernel == Plan::NarrowTransposed;
  if (plan.kernel == Plan::Stream || narrow) {
    StreamArgs args{b.a, m, k, w.values, s.ldb, n, w.indices, s.vectors, s.keep, s.group, s.vectorLength,
                    s.keptRows, std::max(1, plan.windowsPerSplit), b.c, 0, b.at, b.lda, 0, b.ldc > 0 ? 1 : 0, b.ldc};
    if (b.ldc > 0 && plan.kernel != Plan::NarrowTransposed) throw CudaFailure("a column-form C needs a tiled or transposed narrow plan", -1);
    if (b.at && !b.atReady) check(launchTranspose(b.a, m, k, b.at, b.lda, stream_), "transpose launch");
    const int windows = s.keptRows / s.keep;
    const int splits = (windows + args.windowsPerSplit - 1) / args.windowsPerSplit;
    args.atomic = splits > 1;
    if (args.atomic) check(cudaMemsetAsync(b.c, 0, b.cFloats * sizeof(float), stream_), "cudaMemset (C)");
    if (narrow) {  // M ≤ 16: one row block
      check(launchNarrow(plan.rowsPerBlock, plan.kernel == Plan::NarrowTransposed, plan.slices, args, splits, stream_), "spmm-nm-narrow launch");
      return;
    }
    // Row blocks are the grid's z dimension: a taller A runs as several launches over row ranges of A and C.
    forEachRowRange(m, plan.rowsPerBlock, [&](int m0, int rows) {
      StreamArgs part = args;
      part.A = b.a + static_cast<size_t>(m0) * k;
      part.M = rows;
      part.C = b.c + static_cast<size_t>(m0) * n;
      check(launchStream(plan.rowsPerBlock, part, splits, stream_), "spmm-nm-stream launch");
    });
    return;
  }
  if (!s.tiled) throw CudaFailure("tiled plan for weights without re-tiled indices (V not a multiple of 32)", -1);
  if (!b.atReady) check(launchTranspose(b.a, m, k, b.at, b.lda, stream_), "transpose launch");
  const int split = std::max(1, std::min(plan.splitK, s.stages));
  const int perSplit = (s.stages + split - 1) / split;
  const int splits = (s.stages + perSplit - 1) / perSplit;
  // Split-K adds the slices' tiles either in a thread-block cluster (sm_90, at most kMaxClusterSplits slices; no memset)
  // or with atomics into a zeroed C.
  const bool cluster = plan.cluster && splits > 1;
  if (cluster && (computeMajor_ < 9 || splits > kMaxClusterSplits)) {
    throw CudaFailure("cluster split-K needs compute capability 9.0 and at most " + std::to_string(kMaxClusterSplits) +
                          " splits (device: " + std::to_string(computeMajor_) + ".x, splits: " + std::to_string(splits) + ")",
                      -1);
  }
  TiledArgs args{b.at, b.lda, m, w.values, s.ldb, n, w.rowLists, w.slots, s.ks, s.srows, s.slotStride, s.stages,
                 perSplit, b.c, splits > 1 && !cluster ? 1 : 0, static_cast<uint32_t>(b.lda) * 4, k, cluster ? splits : 1, s.perVector ? 1 : 0,
                 b.ldc > 0 ? 1 : 0, b.ldc, 0};
  // Split-K atomics add into zeros: all of C's buffer (the column form's pad rows stay zero).
  if (args.atomic) check(cudaMemsetAsync(b.c, 0, b.cFloats * sizeof(float), stream_), "cudaMemset (C)");
  const TiledConfig config{plan.bm, plan.wm, plan.stages, plan.slices};
  // Row tiles are the grid's y dimension: a taller A runs as several launches, each over a column range of Aᵀ (the
  // row stride stays; `lda` is what the range may read, for the ragged-edge masks) and the matching rows of C (the
  // matching columns of its column form, the last range with the pad rows up to ldc).
  forEachRowRange(m, plan.bm, [&](int m0, int rows) {
    TiledArgs part = args;
    part.At = b.at + m0;
    part.lda = b.lda - m0;
    part.M = rows;
    part.C = b.ldc > 0 ? b.c + m0 : b.c + static_cast<size_t>(m0) * n;
    part.mPadded = b.ldc > 0 && m0 + rows == m ? b.ldc - m0 : rows;
    check(launchTiled(config, part, splits, stream_), "spmm-nm-tiled launch");
  });
}

template <class Enqueue>
void Context::runAndRelease(Buffers& b, Enqueue enqueueWork) {
  try {
    enqueueWork();
  } catch (...) {
    release(b);
    cudaStreamSynchronize(stream_);
    throw;
  }
  // The frees are stream-ordered after the work, so one wait covers both (a wait costs microseconds of a decode call).
  release(b);
  check(cudaStreamSynchronize(stream_), "kernel execution");
}

std::unique_lock<std::mutex> Context::acquire(bool onlyIfIdle) {
  std::unique_lock<std::mutex> lock(mutex_, std::defer_lock);
  if (onlyIfIdle) lock.try_lock();
  else lock.lock();
  return lock;
}

bool Context::matmul(const DeviceWeights& w, const Plan& plan, const float* a, int m, int k, float* c, bool onlyIfIdle) {
  auto lock = acquire(onlyIfIdle);
  if (!lock.owns_lock()) return false;
  check(cudaSetDevice(device_), "cudaSetDevice");
  Buffers b = allocate(w, plan, m, k);
  runAndRelease(b, [&] {
    check(cudaMemcpyAsync(b.a, a, static_cast<size_t>(m) * k * sizeof(float), cudaMemcpyHostToDevice, stream_), "cudaMemcpy (A)");
    enqueue(w, plan, b, m, k);
    check(cudaMemcpyAsync(c, b.c, static_cast<size_t>(m) * w.shape.cols * sizeof(float), cudaMemcpyDeviceToHost, stream_),
          "cudaMemcpy (C)");
  });
  return true;
}

std::shared_ptr<DeviceMatrix> Context::uploadMatrix(const float* host, int rows, int cols, bool onlyIfIdle) {
  auto lock = acquire(onlyIfIdle);
  if (!lock.owns_lock()) return nullptr;
  check(cudaSetDevice(device_), "cudaSetDevice");
  auto matrix = copyIn(host, rows, cols);
  check(cudaStreamSynchronize(stream_), "cudaStreamSynchronize (device matrix)");
  return matrix;
}

std::shared_ptr<DeviceMatrix> Context::copyIn(const float* host, int rows, int cols) {
  auto matrix = std::make_shared<DeviceMatrix>();
  matrix->device = device_;
  matrix->rows = rows;
  matrix->cols = cols;
  matrix->count = static_cast<size_t>(rows) * cols;
  if (matrix->count == 0) return matrix;  // an empty A: nothing to hold (a product refuses it before it gets here)
  check(cudaMallocAsync(&matrix->data, matrix->count * sizeof(float), stream_), "cudaMallocAsync (device matrix)");
  matrix->bytes = matrix->count * sizeof(float);
  check(cudaMemcpyAsync(matrix->data, host, matrix->count * sizeof(float), cudaMemcpyHostToDevice, stream_), "cudaMemcpy (device matrix)");
  return matrix;
}

/// Refuses a device matrix of another device: its pointer means nothing to this one's kernels.
static void requireSameDevice(const DeviceMatrix& matrix, int device) {
  if (matrix.device != device) {
    throw CudaFailure("the device matrix lives on device " + std::to_string(matrix.device) + ", not on this context's device " + std::to_string(device), -1);
  }
}

bool Context::readMatrix(const DeviceMatrix& matrix, float* host, bool onlyIfIdle) {
  auto lock = acquire(onlyIfIdle);
  if (!lock.owns_lock()) return false;
  requireSameDevice(matrix, device_);
  if (matrix.count == 0) return true;
  check(cudaSetDevice(device_), "cudaSetDevice");
  // Only the column form: made row-major in scratch for the copy (not kept: a read is usually a chain's last use).
  float* scratch = matrix.data ? nullptr : rowMajorCopy(matrix);
  const cudaError_t e = cudaMemcpyAsync(host, scratch ? scratch : matrix.data, matrix.count * sizeof(float), cudaMemcpyDeviceToHost, stream_);
  if (scratch) cudaFreeAsync(scratch, stream_);
  check(e, "cudaMemcpy (read)");
  check(cudaStreamSynchronize(stream_), "cudaStreamSynchronize (read)");
  return true;
}

std::shared_ptr<DeviceMatrix> Context::matmulDevice(const DeviceWeights& w, const Plan& plan, DeviceMatrix& a, int m, int k,
                                                    bool onlyIfIdle) {
  auto lock = acquire(onlyIfIdle);
  if (!lock.owns_lock()) return nullptr;
  check(cudaSetDevice(device_), "cudaSetDevice");
  requireSameDevice(a, device_);
  if (a.rows != m || a.cols != k) {
    throw CudaFailure("device matrix A is " + std::to_string(a.rows) + "×" + std::to_string(a.cols) + ", not " + std::to_string(m) + "×" + std::to_string(k), -1);
  }
  if (plan.finiteA) {  // whichever form A has (the column form's pad is zeros)
    if (a.data) requireFiniteOnDevice(a.data, a.count);
    else requireFiniteOnDevice(a.columns, static_cast<size_t>(k + 1) * a.lda);
  }
  std::shared_ptr<DeviceMatrix> c;
  Buffers b;
  try {
    b = chainBuffers(w, plan, a, c);
  } catch (...) {
    cudaStreamSynchronize(stream_);  // A's new form, if any, is complete before anything else runs
    throw;
  }
  runAndRelease(b, [&] { enqueue(w, plan, b, m, k); });
  return c;
}

std::vector<double> Context::time(const DeviceWeights& w, const Plan& plan, const float* a, int m, int k, int warmup,
                                  int repeats, bool deviceInput) {
  std::lock_guard<std::mutex> lock(mutex_);
  check(cudaSetDevice(device_), "cudaSetDevice");
  // deviceInput: A and C as device matrices and the buffers matmulDevice would bind (A's form made once, here); they
  // are freed (stream 0) after the stream has been synchronised, on every path out.
  std::shared_ptr<DeviceMatrix> deviceA, deviceC;
  Buffers b;
  std::vector<cudaEvent_t> events(repeats + 1, nullptr);
  std::vector<double> samples;
  try {
    if (deviceInput) {
      deviceA = copyIn(a, m, k);
      b = chainBuffers(w, plan, *deviceA, deviceC);
    } else {
      b = allocate(w, plan, m, k);
      check(cudaMemcpyAsync(b.a, a, static_cast<size_t>(m) * k * sizeof(float), cudaMemcpyHostToDevice, stream_), "cudaMemcpy (A)");
    }
    for (int i = 0; i < warmup; ++i) enqueue(w, plan, b, m, k);
    check(cudaStreamSynchronize(stream_), "warm-up");
    for (auto& e : events) check(cudaEventCreate(&e), "cudaEventCreate");
    // The spin kernel holds the GPU while the host enqueues every timed launch, so they run back to back.
    check(launchSpin(std::min(20000, 200 + repeats * 40), stream_), "spin launch");
    check(cudaEventRecord(events[0], stream_), "cudaEventRecord");
    for (int i = 0; i < repeats; ++i) {
      enqueue(w, plan, b, m, k);
      check(cudaEventRecord(events[i + 1], stream_), "cudaEventRecord");
    }
    check(cudaStreamSynchronize(stream_), "timed launches");
    for (int i = 0; i < repeats; ++i) {
      float ms = 0;
      check(cudaEventElapsedTime(&ms, events[i], events[i + 1]), "cudaEventElapsedTime");
      samples.push_back(ms);
    }
  } catch (...) {
    for (auto e : events) if (e) cudaEventDestroy(e);
    release(b);
    cudaStreamSynchronize(stream_);
    throw;
  }
  for (auto e : events) cudaEventDestroy(e);
  release(b);
  check(cudaStreamSynchronize(stream_), "cudaFreeAsync");
  return samples;
}

void Context::memInfo(size_t* free, size_t* total) {
  std::lock_guard<std::mutex> lock(mutex_);
  check(cudaSetDevice(device_), "cudaSetDevice");
  // Unused memory of the stream-ordered pool (scratch, freed device matrices) goes back first, so that what is
  // reported free is what no live buffer holds. Device matrices are freed on the legacy stream (~DeviceMatrix):
  // syncing it, which does not wait for this context's non-blocking stream, lets the trim see those frees.
  cudaStreamSynchronize(0);
  cudaMemPool_t pool = nullptr;
  if (cudaDeviceGetDefaultMemPool(&pool, device_) == cudaSuccess) cudaMemPoolTrimTo(pool, 0);
  check(cudaMemGetInfo(free, total), "cudaMemGetInfo");
}

}  // namespace nmkit
