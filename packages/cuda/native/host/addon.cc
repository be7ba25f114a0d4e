// N-API bindings. Every device operation runs in a Napi::AsyncWorker (off the JS thread) after its arguments were
// copied into plain C++ structs on the JS thread; the typed arrays it reads or fills stay referenced until it ends.
// Opt-in (setInlineSmallCalls), small calls run on the JS thread instead when the context is idle (inlineOrQueue).
// Weights and device matrices live in Napi::ObjectWraps whose finalizer frees the device memory if JS never calls free().
#include <napi.h>

#include <memory>
#include <string>

#include "cuda-context.h"

namespace nmkit {
namespace {

struct AddonData {
  Napi::FunctionReference weightsConstructor;
  Napi::FunctionReference matrixConstructor;
};

Napi::Error deviceError(Napi::Env env, const std::string& message, int code) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("cudaError", Napi::Number::New(env, code));
  return error;
}

int intField(const Napi::Object& o, const char* key) { return o.Get(key).As<Napi::Number>().Int32Value(); }

double bytesOf(const DeviceWeights& weights) { return static_cast<double>(weights.bytes); }
double bytesOf(const DeviceMatrix& matrix) { return static_cast<double>(matrix.bytes.load()); }

/// The JS handle of device weights or a device matrix: free() drops the JS side's reference at once, and the
/// finalizer (~HandleWrap) drops it if JS never calls free(). A running worker holds its own reference, so the
/// device memory goes when the last of them lets go.
template <class T>
class HandleWrap : public Napi::ObjectWrap<HandleWrap<T>> {
 public:
  static Napi::Function Define(Napi::Env env, const char* name) {
    return HandleWrap::DefineClass(env, name,
                                   {HandleWrap::InstanceMethod("free", &HandleWrap::Free), HandleWrap::InstanceAccessor("bytes", &HandleWrap::Bytes, nullptr)});
  }
  explicit HandleWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<HandleWrap<T>>(info) {}
  std::shared_ptr<T> held;

 private:
  Napi::Value Free(const Napi::CallbackInfo& info) {
    held.reset();
    return info.Env().Undefined();
  }
  Napi::Value Bytes(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), held ? bytesOf(*held) : 0); }
};
using WeightsWrap = HandleWrap<DeviceWeights>;
using MatrixWrap = HandleWrap<DeviceMatrix>;

/// A new JS wrapper of `matrix` (on the JS thread, in a worker's OnOK).
Napi::Object wrapMatrix(Napi::Env env, std::shared_ptr<DeviceMatrix> matrix) {
  Napi::Object wrapper = env.GetInstanceData<AddonData>()->matrixConstructor.New({});
  MatrixWrap::Unwrap(wrapper)->held = std::move(matrix);
  return wrapper;
}

Plan readPlan(const Napi::Object& o) {
  Plan p;
  const int kernel = intField(o, "kernel");
  if (kernel < Plan::TiledLow || kernel > Plan::NarrowTransposed) throw Napi::RangeError::New(o.Env(), "plan.kernel must be 0..5, got " + std::to_string(kernel));
  p.kernel = static_cast<Plan::Kernel>(kernel);
  p.bm = intField(o, "bm");
  p.wm = intField(o, "wm");
  p.stages = intField(o, "stages");
  p.slices = intField(o, "slices");
  p.splitK = intField(o, "splitK");
  p.rowsPerBlock = intField(o, "rowsPerBlock");
  p.windowsPerSplit = intField(o, "windowsPerSplit");
  p.cluster = intField(o, "cluster");
  p.finiteA = o.Has("finiteA") && o.Get("finiteA").IsNumber() ? intField(o, "finiteA") : 0;
  return p;
}

/// Refuses a widened-weights plan for an A with a NaN or ±Inf (code kNonFiniteA): the caller reruns it on the
/// original weights, where pruned rows are skipped rather than multiplied by zero.
void requireFiniteA(const Plan& plan, const float* a, int m, int k) {
  if (plan.finiteA && !allFinite(a, static_cast<size_t>(m) * k)) throw CudaFailure("A holds a NaN or an infinity: widened weights would turn pruned rows into 0 · NaN", kNonFiniteA);
}

/// Calls at most this big run on the JS thread when the context is idle (ContextWrap::inlineOrQueue): rows of A for
/// a product (decode sizes, whose kernels take microseconds), and floats copied in or out.
constexpr int kInlineMaxRows = 16;
constexpr size_t kInlineMaxFloats = size_t(1) << 18;

/// Base of the workers: a promise, the context, and the CUDA error code of a failure.
class PromiseWorker : public Napi::AsyncWorker {
 public:
  PromiseWorker(Napi::Env env, std::shared_ptr<Context> context)
      : Napi::AsyncWorker(env), deferred(Napi::Promise::Deferred::New(env)), context(std::move(context)) {}
  Napi::Promise::Deferred deferred;

 protected:
  void Execute() override {
    try {
      Run();
    } catch (const CudaFailure& failure) {
      code = failure.code;
      SetError(failure.what());
    } catch (const std::exception& failure) {
      SetError(failure.what());
    }
  }
  virtual void Run() = 0;
  void OnError(const Napi::Error& e) override { deferred.Reject(deviceError(Env(), e.Message(), code).Value()); }
  std::shared_ptr<Context> context;
  int code = -1;
};

class UploadWorker : public PromiseWorker {
 public:
  UploadWorker(Napi::Env env, std::shared_ptr<Context> ctx, const UploadDesc& desc, Napi::Object source, Napi::Object wrapper)
      : PromiseWorker(env, std::move(ctx)), desc_(desc) {
    source_ = Napi::Persistent(source);
    wrapper_ = Napi::Persistent(wrapper);
  }
  void Run() override { result_ = context->upload(desc_); }
  void OnOK() override {
    WeightsWrap::Unwrap(wrapper_.Value())->held = result_;
    deferred.Resolve(wrapper_.Value());
  }

 private:
  UploadDesc desc_;
  Napi::ObjectReference source_;
  Napi::ObjectReference wrapper_;
  std::shared_ptr<DeviceWeights> result_;
};

class MatmulWorker : public PromiseWorker {
 public:
  MatmulWorker(Napi::Env env, std::shared_ptr<Context> ctx, std::shared_ptr<DeviceWeights> w, Plan plan,
               Napi::Float32Array a, int m, int k, Napi::Float32Array c)
      : PromiseWorker(env, std::move(ctx)), weights_(std::move(w)), plan_(plan), a_(a.Data()), c_(c.Data()), m_(m), k_(k) {
    aRef_ = Napi::Persistent(static_cast<Napi::Object>(a));
    cRef_ = Napi::Persistent(static_cast<Napi::Object>(c));
  }
  void Run() override {
    requireFiniteA(plan_, a_, m_, k_);
    context->matmul(*weights_, plan_, a_, m_, k_, c_);
  }
  void OnOK() override { deferred.Resolve(cRef_.Value()); }

 private:
  std::shared_ptr<DeviceWeights> weights_;
  Plan plan_;
  const float* a_;
  float* c_;
  int m_, k_;
  Napi::ObjectReference aRef_, cRef_;
};

class UploadMatrixWorker : public PromiseWorker {
 public:
  UploadMatrixWorker(Napi::Env env, std::shared_ptr<Context> ctx, Napi::Float32Array source, int rows, int cols)
      : PromiseWorker(env, std::move(ctx)), host_(source.Data()), rows_(rows), cols_(cols) {
    sourceRef_ = Napi::Persistent(static_cast<Napi::Object>(source));
  }
  void Run() override { result_ = context->uploadMatrix(host_, rows_, cols_); }
  void OnOK() override { deferred.Resolve(wrapMatrix(Env(), result_)); }

 private:
  const float* host_;
  int rows_, cols_;
  Napi::ObjectReference sourceRef_;
  std::shared_ptr<DeviceMatrix> result_;
};

class ReadMatrixWorker : public PromiseWorker {
 public:
  ReadMatrixWorker(Napi::Env env, std::shared_ptr<Context> ctx, std::shared_ptr<DeviceMatrix> matrix, Napi::Float32Array out)
      : PromiseWorker(env, std::move(ctx)), matrix_(std::move(matrix)), out_(out.Data()) {
    outRef_ = Napi::Persistent(static_cast<Napi::Object>(out));
  }
  void Run() override { context->readMatrix(*matrix_, out_); }
  void OnOK() override { deferred.Resolve(outRef_.Value()); }

 private:
  std::shared_ptr<DeviceMatrix> matrix_;
  float* out_;
  Napi::ObjectReference outRef_;
};

class MatmulDeviceWorker : public PromiseWorker {
 public:
  MatmulDeviceWorker(Napi::Env env, std::shared_ptr<Context> ctx, std::shared_ptr<DeviceWeights> w, Plan plan,
                     std::shared_ptr<DeviceMatrix> a, int m, int k)
      : PromiseWorker(env, std::move(ctx)), weights_(std::move(w)), plan_(plan), a_(std::move(a)), m_(m), k_(k) {}
  void Run() override { result_ = context->matmulDevice(*weights_, plan_, *a_, m_, k_); }
  void OnOK() override { deferred.Resolve(wrapMatrix(Env(), result_)); }

 private:
  std::shared_ptr<DeviceWeights> weights_;
  Plan plan_;
  std::shared_ptr<DeviceMatrix> a_;  // held until the call ends, even if JS frees its wrapper meanwhile
  int m_, k_;
  std::shared_ptr<DeviceMatrix> result_;
};

class TimeWorker : public PromiseWorker {
 public:
  TimeWorker(Napi::Env env, std::shared_ptr<Context> ctx, std::shared_ptr<DeviceWeights> w, Plan plan,
             Napi::Float32Array a, int m, int k, int warmup, int repeats, bool deviceInput)
      : PromiseWorker(env, std::move(ctx)), weights_(std::move(w)), plan_(plan), a_(a.Data()), m_(m), k_(k),
        warmup_(warmup), repeats_(repeats), deviceInput_(deviceInput) {
    aRef_ = Napi::Persistent(static_cast<Napi::Object>(a));
  }
  void Run() override {
    requireFiniteA(plan_, a_, m_, k_);
    samples_ = context->time(*weights_, plan_, a_, m_, k_, warmup_, repeats_, deviceInput_);
  }
  void OnOK() override {
    Napi::Float64Array out = Napi::Float64Array::New(Env(), samples_.size());
    for (size_t i = 0; i < samples_.size(); ++i) out[i] = samples_[i];
    deferred.Resolve(out);
  }

 private:
  std::shared_ptr<DeviceWeights> weights_;
  Plan plan_;
  const float* a_;
  int m_, k_, warmup_, repeats_;
  bool deviceInput_;
  Napi::ObjectReference aRef_;
  std::vector<double> samples_;
};

class ContextWrap : public Napi::ObjectWrap<ContextWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Context",
                       {InstanceMethod("upload", &ContextWrap::Upload), InstanceMethod("matmul", &ContextWrap::Matmul),
                        InstanceMethod("time", &ContextWrap::Time), InstanceMethod("memInfo", &ContextWrap::MemInfo),
                        InstanceMethod("uploadMatrix", &ContextWrap::UploadMatrix), InstanceMethod("readMatrix", &ContextWrap::ReadMatrix),
                        InstanceMethod("matmulDevice", &ContextWrap::MatmulDevice),
                        InstanceMethod("setInlineSmallCalls", &ContextWrap::SetInlineSmallCalls),
                        InstanceMethod("cublasSource", &ContextWrap::CublasSource)});
  }

  explicit ContextWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ContextWrap>(info) {
    const int device = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 0;
    try {
      context_ = std::make_shared<Context>(device);
    } catch (const CudaFailure& f) {
      deviceError(info.Env(), f.what(), f.code).ThrowAsJavaScriptException();
    }
  }

 private:
  std::shared_ptr<DeviceWeights> weightsOf(const Napi::Value& v) {
    auto* wrap = WeightsWrap::Unwrap(v.As<Napi::Object>());
    if (!wrap->held) throw Napi::Error::New(v.Env(), "device weights were freed");
    return wrap->held;
  }

  std::shared_ptr<DeviceMatrix> matrixOf(const Napi::Value& v) {
    auto* wrap = MatrixWrap::Unwrap(v.As<Napi::Object>());
    if (!wrap->held) throw Napi::Error::New(v.Env(), "device matrix was freed");
    return wrap->held;
  }

  /// setInlineSmallCalls(on: boolean): whether small calls may run on the JS thread (CudaBackendOptions.inlineSmallCalls).
  Napi::Value SetInlineSmallCalls(const Napi::CallbackInfo& info) {
    inlineSmall_ = info[0].ToBoolean().Value();
    return info.Env().Undefined();
  }

  /**
   * With setInlineSmallCalls(true), a small call runs here, on the JS thread, when no other call holds the context:
   * a decode-size product then costs its device time (microseconds) instead of a round trip through the thread pool,
   * which takes longer than its kernel. `run()` gives the promise's value, or an empty value when the context was
   * busy; then `worker()` queues the call.
   */
  template <class Run, class Worker>
  Napi::Value inlineOrQueue(Napi::Env env, bool small, Run run, Worker worker) {
    if (inlineSmall_ && small) {
      auto deferred = Napi::Promise::Deferred::New(env);
      try {
        Napi::Value value = run();
        if (!value.IsEmpty()) {
          deferred.Resolve(value);
          return deferred.Promise();
        }
      } catch (const CudaFailure& failure) {
        deferred.Reject(deviceError(env, failure.what(), failure.code).Value());
        return deferred.Promise();
      } catch (const std::exception& failure) {
        deferred.Reject(deviceError(env, failure.what(), -1).Value());
        return deferred.Promise();
      }
    }
    return queue(worker());
  }

  /// uploadMatrix(data: Float32Array, rows, cols): Promise<DeviceMatrix> (data holds the rows × cols floats, row-major)
  Napi::Value UploadMatrix(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto data = info[0].As<Napi::Float32Array>();
    const int rows = info[1].As<Napi::Number>().Int32Value();
    const int cols = info[2].As<Napi::Number>().Int32Value();
    // The copy reads rows · cols floats of `data`: never past its end (the backend validates first; this guards the addon).
    if (rows < 0 || cols < 0 || static_cast<size_t>(rows) * cols != data.ElementLength()) {
      throw Napi::RangeError::New(env, "uploadMatrix: " + std::to_string(rows) + "×" + std::to_string(cols) + " does not match " +
                                           std::to_string(data.ElementLength()) + " floats");
    }
    return inlineOrQueue(
        env, data.ElementLength() <= kInlineMaxFloats,
        [&]() -> Napi::Value {
          auto matrix = context_->uploadMatrix(data.Data(), rows, cols, true);
          return matrix ? Napi::Value(wrapMatrix(env, matrix)) : Napi::Value();
        },
        [&] { return new UploadMatrixWorker(env, context_, data, rows, cols); });
  }

  /// readMatrix(matrix): Promise<Float32Array> (a new array of the matrix's floats)
  Napi::Value ReadMatrix(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::shared_ptr<DeviceMatrix> matrix = matrixOf(info[0]);
    auto out = Napi::Float32Array::New(env, matrix->count);
    return inlineOrQueue(
        env, matrix->count <= kInlineMaxFloats,
        [&]() -> Napi::Value { return context_->readMatrix(*matrix, out.Data(), true) ? Napi::Value(out) : Napi::Value(); },
        [&] { return new ReadMatrixWorker(env, context_, matrix, out); });
  }

  /// matmulDevice(weights, a: DeviceMatrix, m, k, plan): Promise<DeviceMatrix>
  Napi::Value MatmulDevice(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::shared_ptr<DeviceWeights> weights = weightsOf(info[0]);
    std::shared_ptr<DeviceMatrix> a = matrixOf(info[1]);
    const int m = info[2].As<Napi::Number>().Int32Value();
    const int k = info[3].As<Napi::Number>().Int32Value();
    const Plan plan = readPlan(info[4].As<Napi::Object>());
    return inlineOrQueue(
        env, m <= kInlineMaxRows,
        [&]() -> Napi::Value {
          auto c = context_->matmulDevice(*weights, plan, *a, m, k, true);
          return c ? Napi::Value(wrapMatrix(env, c)) : Napi::Value();
        },
        [&] { return new MatmulDeviceWorker(env, context_, weights, plan, a, m, k); });
  }

  Napi::Value Upload(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = info[0].As<Napi::Object>();
    UploadDesc d;
    d.dense = o.Get("dense").ToBoolean();
    d.rows = intField(o, "rows");
    d.cols = intField(o, "cols");
    d.ldb = intField(o, "ldb");
    auto values = o.Get("values").As<Napi::Float32Array>();
    d.values = values.Data();
    d.valueCount = values.ElementLength();
    if (!d.dense) {
      d.keep = intField(o, "keep");
      d.group = intField(o, "group");
      d.vectorLength = intField(o, "vectorLength");
      d.keptRows = intField(o, "keptRows");
      d.vectors = intField(o, "vectors");
      auto indices = o.Get("indices").As<Napi::Uint8Array>();
      d.indices = indices.Data();
      d.indexCount = indices.ElementLength();
      Napi::Value tile = o.Get("tile");
      if (tile.IsObject()) {
        Napi::Object t = tile.As<Napi::Object>();
        d.tiled = true;
        d.ks = intField(t, "ks");
        d.srows = intField(t, "srows");
        d.stages = intField(t, "stages");
        d.tilesN = intField(t, "tilesN");
        d.slotStride = intField(t, "slotStride");
        d.perVector = t.Get("perVector").ToBoolean().Value();
        auto rows = t.Get("rows").As<Napi::Int32Array>();
        d.rowLists = rows.Data();
        d.rowListCount = rows.ElementLength();
        auto slots = t.Get("slots").As<Napi::Uint8Array>();
        d.slots = slots.Data();
        d.slotCount = slots.ElementLength();
      }
    }
    auto* data = env.GetInstanceData<AddonData>();
    Napi::Object wrapper = data->weightsConstructor.New({});
    return queue(new UploadWorker(env, context_, d, o, wrapper));
  }

  /// The arguments matmul() and time() share: (weights, a, m, k, plan, ...).
  struct CallArgs {
    std::shared_ptr<DeviceWeights> weights;
    Napi::Float32Array a;
    int m, k;
    Plan plan;
  };
  CallArgs readCall(const Napi::CallbackInfo& info) {
    return {weightsOf(info[0]), info[1].As<Napi::Float32Array>(), info[2].As<Napi::Number>().Int32Value(),
            info[3].As<Napi::Number>().Int32Value(), readPlan(info[4].As<Napi::Object>())};
  }

  /// Queues a worker and hands its promise to JS.
  static Napi::Promise queue(PromiseWorker* worker) {
    Napi::Promise promise = worker->deferred.Promise();
    worker->Queue();
    return promise;
  }

  Napi::Value Matmul(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CallArgs call = readCall(info);
    const int n = call.weights->shape.cols;
    auto c = Napi::Float32Array::New(env, static_cast<size_t>(call.m) * n);
    const bool small = call.m <= kInlineMaxRows && static_cast<size_t>(call.m) * (call.k + n) <= kInlineMaxFloats;
    return inlineOrQueue(
        env, small,
        [&]() -> Napi::Value {
          requireFiniteA(call.plan, call.a.Data(), call.m, call.k);
          return context_->matmul(*call.weights, call.plan, call.a.Data(), call.m, call.k, c.Data(), true) ? Napi::Value(c) : Napi::Value();
        },
        [&] { return new MatmulWorker(env, context_, call.weights, call.plan, call.a, call.m, call.k, c); });
  }

  Napi::Value Time(const Napi::CallbackInfo& info) {
    CallArgs call = readCall(info);
    const int warmup = info[5].As<Napi::Number>().Int32Value();
    const int repeats = info[6].As<Napi::Number>().Int32Value();
    const bool deviceInput = info.Length() > 7 && info[7].ToBoolean().Value();
    return queue(new TimeWorker(info.Env(), context_, call.weights, call.plan, call.a, call.m, call.k, warmup, repeats, deviceInput));
  }

  Napi::Value MemInfo(const Napi::CallbackInfo& info) {
    size_t free = 0, total = 0;
    try {
      context_->memInfo(&free, &total);
    } catch (const CudaFailure& f) {
      throw deviceError(info.Env(), f.what(), f.code);
    }
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("free", static_cast<double>(free));
    o.Set("total", static_cast<double>(total));
    return o;
  }

  Napi::Value CublasSource(const Napi::CallbackInfo& info) {
    return Napi::String::New(info.Env(), context_->cublasSource());
  }

  std::shared_ptr<Context> context_;
  bool inlineSmall_ = false;
};

Napi::Value Probe(const Napi::CallbackInfo& info) {
  const int device = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 0;
  const nmkit::Probe p = probeDevice(device);
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("ok", p.ok);
  o.Set("errorCode", p.errorCode);
  o.Set("error", p.error);
  o.Set("deviceCount", p.deviceCount);
  o.Set("driverVersion", p.driverVersion);
  o.Set("runtimeVersion", p.runtimeVersion);
  o.Set("name", p.name);
  o.Set("computeCapability", std::to_string(p.major) + "." + std::to_string(p.minor));
  o.Set("multiprocessors", p.multiprocessors);
  o.Set("sharedPerBlockOptin", p.sharedPerBlockOptin);
  o.Set("maxThreadsPerBlock", p.maxThreadsPerBlock);
  o.Set("totalMemory", static_cast<double>(p.totalMemory));
  return o;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  Napi::Function weights = WeightsWrap::Define(env, "DeviceWeights");
  data->weightsConstructor = Napi::Persistent(weights);
  Napi::Function matrix = MatrixWrap::Define(env, "DeviceMatrix");
  data->matrixConstructor = Napi::Persistent(matrix);
  env.SetInstanceData(data);
  exports.Set("probe", Napi::Function::New(env, Probe));
  exports.Set("Context", ContextWrap::Define(env));
  exports.Set("DeviceWeights", weights);
  exports.Set("DeviceMatrix", matrix);
  Napi::Object build = Napi::Object::New(env);
  build.Set("cudaRuntime", CUDART_VERSION);
  build.Set("architectures", NMKIT_CUDA_ARCHS);
  exports.Set("build", build);
  return exports;
}

}  // namespace
}  // namespace nmkit

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return nmkit::Init(env, exports); }

NODE_API_MODULE(nmkit_cuda, InitAddon)
