import {
  assertDenseMatrix,
  assertRunnable,
  assertRunnableOnDevice,
  assertUploadable,
  type BackendCapabilities,
  type CheckResult,
  type CompressedNM,
  capabilityProblem,
  type DenseMatrix,
  decompress,
  DeviceError,
  type DeviceLimits,
  type DeviceMatrix,
  DisposedError,
  LimitError,
  type MatmulOptions,
  type MatmulShape,
  type NMBackend,
  NMError,
  type NMPattern,
  type PreparedWeights,
  planTiling,
  ShapeError,
  summarizeTimings,
  timingRuns,
  type TilingPlan,
  type TimingOptions,
  type TimingResult,
  validateCompressed,
  WIDEN_MAX_GROWTH,
  type WidenMode,
  widenedCopy,
  widenedCopyBound,
} from '@nmkit/format';
import { BufferUsage } from './gpu-flags.js';
import { type AcquireOptions, createGpuContext, type GpuContext } from './gpu-context.js';
import { GpuMatrix, MATRIX_USAGE, matrixBinding } from './gpu-matrix.js';
import { createFilled, GpuWeights } from './gpu-weights.js';
import {
  backendPlan,
  forcedPlanProblem,
  generalPlan,
  generalSpec,
  type KernelOptions,
  type KernelSpec,
  kernelSpec,
  planStageKept,
  wantsUnion,
} from './kernel-spec.js';
import { timePasses } from './pass-timing.js';
import { PipelineCache } from './pipelines.js';
import { fitsGrid, STREAM_MAX_M, type StreamSpec, streamDefaultRows, streamProblem, streamSpec, transposeGrid } from './stream-spec.js';
import { scoped, throwIfFailed } from './error-scopes.js';
import { destroyWhenIdle, submitAndRead } from './readback.js';

const NAME = 'webgpu';

/**
 * Whether `prepare()` also keeps a widened copy (format `widenVectors`, V = 32) of weights with one index per column
 * (V not a multiple of 4: element-wise 2:4 and the like), which every call then runs on the kernels of vector-wise
 * weights (format {@link WidenMode}: `auto`, the default, when the copy holds at most {@link WIDEN_MAX_GROWTH}× the
 * values).
 */
export { WIDEN_MAX_GROWTH, type WidenMode };

/** Vector length of the widened copies (the tiles' 32-column vectors). */
const WIDE_VECTOR = 32;

/** Refuses a malformed forced plan (`MatmulOptions.plan`) before any buffer is made. */
function assertPlan(shape: MatmulShape, plan: TilingPlan | undefined): void {
  const problem = plan && forcedPlanProblem(plan);
  if (problem) {
    throw new LimitError(
      `webgpu cannot run the forced plan for ${shape.m}×${shape.n}×${shape.k}: ${problem}.`,
      'use the plan check(shape, pattern) returns, or leave options.plan unset.',
    );
  }
}

/** One compute dispatch: pipeline, bind group, grid. */
interface Dispatch {
  readonly pipeline: GPUComputePipeline;
  readonly bindGroup: GPUBindGroup;
  readonly grid: readonly [number, number?, number?];
}

/** One encoded multiplication: pipelines, bind groups and grid, ready to record into a compute pass. */
interface Run {
  readonly spec: KernelSpec;
  readonly plan: TilingPlan | undefined;
  readonly main: Dispatch;
  readonly reduce?: Dispatch;
  /** A dispatch before the main kernel (Aᵀ, for the kernels that read it). */
  readonly pre?: Dispatch;
  /** On widened weights: the finite check of A (finite-check.wgsl), recorded first, timed with the rest. */
  readonly check?: Dispatch;
  /** The buffer holding C (M × N, then the wave tail's partials where there is one) when the run is done. */
  readonly c: GPUBuffer;
}

/** A device and what lives on it. */
interface Session {
  readonly context: GpuContext;
  readonly pipelines: PipelineCache;
  readonly placeholder: GPUBuffer;
}

/**
 * N:M SpMM on WebGPU: WGSL kernels chosen by the shared planner, weights resident on the GPU, device timers
 * when the adapter has timestamp queries. Same code in browsers and in Node (through dawn.node).
 * Create it with {@link createWebGPUBackend} or through {@link webgpuProvider}.
 */
export class WebGPUBackend implements NMBackend {
  readonly name = NAME;
  readonly device: string;
  readonly capabilities: BackendCapabilities;
  /** The kernel the last matmul ran (for benchmarks and tests). */
  lastKernel: string | undefined;
  /** Kernel choices outside the shared plan (benchmarks and tests compare them); defaults when empty. */
  kernelOptions: KernelOptions = {};
  /** Whether prepare() keeps widened copies of element-wise weights ({@link WidenMode}); read at prepare time. */
  widen: WidenMode = 'auto';
  private session: Promise<Session>;
  /** The current device's context (replaced after a device loss): limits, compute units, software or not. */
  private context: GpuContext;
  private released = false;
  /** Live device matrices this backend made: dispose() frees them (a caller's device outlives the backend). */
  private readonly matrices = new Set<GpuMatrix>();

  /** The limits the shared planner sees for the current device. */
  get plannerLimits(): DeviceLimits {
    return this.context.limits;
  }
  /** Compute units the wave tail sizes its last wave for ({@link GpuContext.multiprocessors}). */
  get multiprocessors(): number {
    return this.context.multiprocessors;
  }

  /** Use {@link createWebGPUBackend}; this takes an already created context. */
  constructor(
    context: GpuContext,
    private readonly options: AcquireOptions,
  ) {
    this.session = Promise.resolve(newSession(context));
    this.context = context;
    this.device = context.description;
    this.capabilities = {
      dtypes: ['float32'],
      maxGroup: 256,
      vectorLengths: 'any',
      fastPaths:
        'tiled kernels for every pattern and V (one index per 4 columns when V % 4 == 0, per column otherwise); ' +
        'union-row staging at ≤ 25 % density, and for long windows cut into parts, when V % 4 == 0; a stream kernel ' +
        '(weights read once, straight into registers) for M ≤ 16 (to 24–64 by density when V % 4 == 0) when N % 4 == 0, ' +
        'decode tiles otherwise; split-K for small M; element-wise weights (V not a multiple of 4) on a widened copy ' +
        '(V = 32; dense where it keeps every row) while A is finite',
      limits: { maxBufferBytes: context.maxBindingBytes, maxDimension: context.maxWorkgroupsPerDimension * 16 },
      timing: context.timestamps ? 'device' : 'host',
      denseBaseline: 'dense WGSL matmul (the N:M kernels with every row kept: tiled, streamed at M ≤ 64)',
    };
  }

  /** The GPUDevice currently in use (a new one after a device loss). */
  async gpuDevice(): Promise<GPUDevice> {
    return (await this.live()).context.device;
  }

  /**
   * Whether this backend runs the problem, and the plan it starts from: the shared planner's, as {@link backendPlan}
   * adapts it. Split-K and the wave tail are sized to the device when the kernel is built (`waveSplitK`, `waveTail`,
   * and `decodeSplitK` for decode tiles of 4 rows, in kernel-spec.ts): `time()` reports the plan that ran, and
   * `describeKernel` names the kernel that really runs.
   */
  check(shape: MatmulShape, pattern: NMPattern | undefined): CheckResult {
    const reason = capabilityProblem(NAME, this.capabilities, shape, pattern);
    if (reason) return { ok: false, reason };
    // Element-wise weights run their widened copy where prepare() keeps one: the plan of the widest it could be
    // (the dense plan where that keeps every row).
    const widest = pattern && this.widestCopy(pattern);
    const planned = widest ? (widest.keep === widest.group ? undefined : widest) : pattern;
    const stream = this.streamFor(this.context, shape, planned, undefined);
    return { ok: true, plan: stream?.plan ?? this.planFor(shape, planned) ?? generalPlan() };
  }

  /**
   * Uploads compressed weights, and with one index per column (V not a multiple of 4) a widened copy as
   * {@link WidenMode} allows, where it fits: every call runs the copy (with a forced plan too), unless A holds a NaN
   * or ±Inf (a check pass runs in the same compute pass), when it runs again on the original, which skips pruned rows
   * instead of multiplying them by a stored zero.
   */
  async prepare(weights: CompressedNM): Promise<PreparedWeights> {
    validateCompressed(weights);
    this.assertFits('compressed values', weights.values.byteLength, `${weights.rows}×${weights.cols}`);
    const prepared = GpuWeights.fromCompressed(NAME, weights);
    const { context } = await this.live();
    prepared.upload(context);
    const widened = weights.pattern.vectorLength % 4 !== 0 ? widenedCopy(weights, WIDE_VECTOR, this.widen) : undefined;
    if (widened) {
      // The copy is an optimisation: one past the device's largest binding is not kept (the original still runs).
      if (widened.values.byteLength <= this.capabilities.limits.maxBufferBytes) {
        // Every row of every window kept (2:4 with V = 1 over 32 columns): the dense matrix, on the dense kernels.
        const dense = widened.pattern.keep === widened.pattern.group;
        const wide = dense ? GpuWeights.fromDense(NAME, decompress(widened)) : GpuWeights.fromCompressed(NAME, widened);
        try {
          wide.upload(context);
          prepared.wide = wide;
        } catch {
          wide.dispose();
        }
      }
    }
    return prepared;
  }

  /** For check(): the widest pattern a widened copy of such weights could have, or undefined where none is kept. */
  private widestCopy(pattern: NMPattern): NMPattern | undefined {
    return pattern.vectorLength % 4 !== 0 ? widenedCopyBound(pattern, WIDE_VECTOR, this.widen) : undefined;
  }

  async prepareDense(weights: DenseMatrix): Promise<PreparedWeights> {
    assertDenseMatrix(weights, 'B');
    this.assertFits('dense B', weights.data.byteLength, `${weights.rows}×${weights.cols}`);
    const prepared = GpuWeights.fromDense(NAME, weights);
    prepared.upload((await this.live()).context);
    return prepared;
  }

  async matmul(a: DenseMatrix, weights: PreparedWeights, options: MatmulOptions = {}): Promise<DenseMatrix> {
    const gpuWeights = this.assertOwn(a, weights);
    return gpuWeights.holding(async () => {
      const session = await this.live();
      const shape = { m: a.rows, n: weights.cols, k: a.cols };
      assertPlan(shape, options.plan);
      return this.guard(session, async () => {
        const aBuffer = createFilled(session.context.device, a.data, `A ${a.rows}×${a.cols}`);
        try {
          const { c, data } = await this.product(session, shape, gpuWeights, matrixBinding(aBuffer, a.rows, a.cols), options.plan, true);
          c.destroy();
          return { rows: shape.m, cols: shape.n, data: data! };
        } finally {
          aBuffer.destroy();
        }
      });
    });
  }

  /**
   * Copies A into a {@link GpuMatrix} (a GPUBuffer of this backend's device) for {@link matmulDevice}. `a.data` is
   * read before the promise resolves: keep it unchanged until then.
   * @throws {ShapeError} for a malformed A; {@link LimitError} when A is larger than the device's largest binding.
   */
  async upload(a: DenseMatrix): Promise<GpuMatrix> {
    if (this.released) throw new DisposedError('The webgpu backend');
    assertUploadable(NAME, this.capabilities, a);
    const session = await this.live();
    return this.guard(session, async () => {
      const { device } = session.context;
      let buffer: GPUBuffer | undefined;
      // In error scopes: an out-of-memory or refused buffer is this call's DeviceError, not an uncaptured error.
      const errors = scoped(device, () => {
        buffer = createFilled(device, a.data, `A ${a.rows}×${a.cols}`, MATRIX_USAGE);
      });
      try {
        await throwIfFailed(errors);
        return this.adopt(buffer!, a.rows, a.cols, session.context);
      } catch (failure) {
        buffer?.destroy();
        throw failure;
      }
    });
  }

  /**
   * C = A·B with A and C on the GPU: the same validation, kernels, plans and bits as {@link matmul}, without the copy
   * of A in and of C out. The call returns once its work is submitted (and, for weights with a widened copy, once the
   * 4-byte finite flag of A is back), so consecutive layers queue up without waiting for each other.
   * @throws {ShapeError} for an A that is not a live device matrix of this backend, or a K mismatch;
   * {@link DisposedError}; {@link LimitError}; {@link DeviceError} for GPU failures and an A made before a device loss.
   */
  async matmulDevice(a: DeviceMatrix, weights: PreparedWeights, options: MatmulOptions = {}): Promise<GpuMatrix> {
    if (this.released) throw new DisposedError('The webgpu backend');
    assertRunnableOnDevice(NAME, this.capabilities, a, weights);
    if (!(a instanceof GpuMatrix)) {
      throw new ShapeError(`webgpu: operand A (${a.rows}×${a.cols}) claims to be a webgpu device matrix but was not made by upload() or matmulDevice().`, 'make it with backend.upload().');
    }
    const gpuWeights = this.ownWeights(weights);
    // Taken before the first await: a dispose() of A (or of the weights) right after this call starts waits for it.
    const held = a.retain();
    try {
      return await gpuWeights.holding(async () => {
        const session = await this.live();
        if (a.context.device !== session.context.device) throw foreignMatrix(a);
        const shape = { m: a.rows, n: weights.cols, k: a.cols };
        assertPlan(shape, options.plan);
        return this.guard(session, async () => {
          const { c } = await this.product(session, shape, gpuWeights, held.binding, options.plan, false, held.release);
          return this.adopt(c, shape.m, shape.n, session.context);
        });
      });
    } finally {
      held.release();
    }
  }

  /** Wraps a buffer this backend filled in a tracked {@link GpuMatrix}; destroys it when the backend is gone. */
  private adopt(buffer: GPUBuffer, rows: number, cols: number, context: GpuContext): GpuMatrix {
    if (this.released) {
      destroyWhenIdle(context.device, [buffer]);
      throw new DisposedError('The webgpu backend');
    }
    const matrix = new GpuMatrix(NAME, rows, cols, buffer, context, (m) => this.matrices.delete(m));
    this.matrices.add(matrix);
    return matrix;
  }

  /**
   * C = A·B on the GPU, the one path of matmul() and matmulDevice(): on weights with a widened copy, the copy runs beside
   * the finite check of A, and a set flag (a NaN or ±Inf in A) runs the product again on the original weights, which
   * skip pruned rows instead of multiplying them by a stored zero. Returns C's buffer (the caller owns it) and, with
   * `readC`, its values. `submitted` runs once the last work reading A is submitted.
   */
  private async product(
    session: Session,
    shape: MatmulShape,
    weights: GpuWeights,
    a: GPUBufferBinding,
    plan: TilingPlan | undefined,
    readC: boolean,
    submitted?: () => void,
  ): Promise<{ c: GPUBuffer; data?: Float32Array }> {
    if (weights.wide) {
      // A forced plan runs on either weights.
      const widened = await this.multiply(session, shape, weights.wide, a, plan, true, readC);
      if (!widened.nonFiniteA) {
        submitted?.();
        return widened;
      }
      widened.c.destroy();
    }
    return this.multiply(session, shape, weights, a, plan, false, readC, submitted);
  }

  /** One multiplication into a new C; with `checkA` a finite-check pass of A beside it and its flag read back; with `readC` C read back. */
  private async multiply(
    session: Session,
    shape: MatmulShape,
    weights: GpuWeights,
    a: GPUBufferBinding,
    plan: TilingPlan | undefined,
    checkA: boolean,
    readC: boolean,
    submitted?: () => void,
  ) {
    const owned: GPUBuffer[] = [];
    let c: GPUBuffer | undefined;
    try {
      const check = checkA ? await this.encodeFiniteCheck(session, a, shape.m * shape.k, owned) : undefined;
      const run = { ...(await this.encode(session, shape, weights, a, plan, owned)), check: check?.dispatch };
      const reads = [...(readC ? [{ buffer: run.c, bytes: shape.m * shape.n * 4 }] : []), ...(check ? [{ buffer: check.flag, bytes: 4 }] : [])];
      const parts = await submitAndRead(session.context.device, (encoder) => record(encoder, run), reads, submitted);
      c = run.c;
      return {
        c,
        data: readC ? new Float32Array(parts[0]) : undefined,
        nonFiniteA: check ? new Uint32Array(parts[parts.length - 1])[0] !== 0 : false,
      };
    } finally {
      // C goes to the caller; the rest once the GPU is done with it (matmulDevice returns before that).
      destroyWhenIdle(session.context.device, c ? owned.filter((b) => b !== c) : owned);
    }
  }

  /** The finite-check dispatch of A (`count` floats) and its zeroed flag (finite-check.wgsl); its buffers go into `owned`. */
  private async encodeFiniteCheck(session: Session, a: GPUBufferBinding, count: number, owned: GPUBuffer[]) {
    const { device, maxWorkgroupsPerDimension } = session.context;
    const flag = createFilled(device, Uint32Array.of(0), 'finite-check flag', BufferUsage.STORAGE | BufferUsage.COPY_SRC);
    owned.push(flag);
    const params = createFilled(device, Uint32Array.of(count, 0, 0, 0), 'finite-check params', BufferUsage.UNIFORM);
    owned.push(params);
    const dispatch: Dispatch = {
      pipeline: await session.pipelines.finiteCheck(),
      bindGroup: bindBuffers(device, session.pipelines.reduceLayout, [a, flag, params]),
      // Grid-stride: at most 1024 workgroups of 256 (enough to stream A at full speed).
      grid: [Math.max(1, Math.min(Math.ceil(count / 256), 1024, maxWorkgroupsPerDimension))],
    };
    return { dispatch, flag };
  }

  async time(a: DenseMatrix, weights: PreparedWeights, options: TimingOptions = {}): Promise<TimingResult> {
    const gpuWeights = this.assertOwn(a, weights);
    return gpuWeights.holding(async () => {
      const session = await this.live();
      const { device, timestamps } = session.context;
      const shape = { m: a.rows, n: weights.cols, k: a.cols };
      assertPlan(shape, options.plan);
      const { warmup, repeats } = timingRuns(options);
      return this.guard(session, async () => {
        const aBuffer = createFilled(device, a.data, `A ${a.rows}×${a.cols}`);
        const owned = [aBuffer];
        try {
          const aBinding = matrixBinding(aBuffer, a.rows, a.cols);
          // What matmul() runs: the widened copy with its check of A, when a first call (a warm-up, only its flag read back) finds A finite.
          const wide = gpuWeights.wide;
          let wideRuns = false;
          if (wide) {
            const first = await this.multiply(session, shape, wide, aBinding, options.plan, true, false);
            first.c.destroy();
            wideRuns = !first.nonFiniteA;
          }
          const check = wideRuns ? await this.encodeFiniteCheck(session, aBinding, shape.m * shape.k, owned) : undefined;
          const run = { ...(await this.encode(session, shape, wideRuns && wide ? wide : gpuWeights, aBinding, options.plan, owned)), check: check?.dispatch };
          const errors = scoped(device, () => {
            for (let i = 0; i < warmup; i++) {
              const encoder = device.createCommandEncoder();
              record(encoder, run);
              device.queue.submit([encoder.finish()]);
            }
          });
          await device.queue.onSubmittedWorkDone();
          await throwIfFailed(errors);
          let samples: number[];
          if (timestamps) {
            samples = [];
            // A query set holds at most 4096 timestamps (WebGPU): long runs are timed in batches.
            for (let done = 0; done < repeats; done += MAX_TIMED_PER_BATCH) {
              samples.push(...(await timePasses(device, Math.min(MAX_TIMED_PER_BATCH, repeats - done), (encoder, writes) => record(encoder, run, writes), owned)));
            }
          } else {
            samples = [];
            for (let i = 0; i < repeats; i++) {
              const start = performance.now();
              const encoder = device.createCommandEncoder();
              record(encoder, run);
              device.queue.submit([encoder.finish()]);
              await device.queue.onSubmittedWorkDone();
              samples.push(performance.now() - start);
            }
          }
          return summarizeTimings(samples, timestamps ? 'device' : 'host', run.plan);
        } finally {
          for (const b of owned) b.destroy();
        }
      });
    });
  }

  /**
   * The kernel that a multiplication would run, without running it: `{ name, plan }` (tests, benchmarks).
   * Builds the union lists the plan needs, as a first matmul would.
   */
  async describeKernel(shape: MatmulShape, weights: PreparedWeights, plan?: TilingPlan): Promise<{ name: string; spec: KernelSpec }> {
    assertPlan(shape, plan);
    const session = await this.live();
    const own = weights as GpuWeights;
    const { spec } = this.resolveSpec(session, shape, own.wide ?? own, plan);
    return { name: spec.name, spec };
  }

  async dispose(): Promise<void> {
    if (this.released) return;
    this.released = true;
    // Calls still running on a matrix keep its buffer until they have submitted (GpuMatrix.dispose).
    for (const matrix of [...this.matrices]) matrix.dispose();
    const session = await this.session.catch(() => undefined);
    session?.placeholder.destroy();
    if (session && !session.context.external) session.context.device.destroy();
  }

  /** Plans with the shared planner; no plan fits → the general kernel. */
  private planFor(shape: MatmulShape, pattern: NMPattern | undefined): TilingPlan | undefined {
    try {
      // Double buffering here lives in registers, not in a second workgroup buffer: ask for it on GPUs
      // (CPU drivers have no latency to hide and compile the longer shader slowly).
      const { limits, software } = this.context;
      return backendPlan(planTiling(shape, pattern, limits), pattern, software, { shape, limits, vectorTiles: this.kernelOptions.vectorTiles });
    } catch {
      return undefined;
    }
  }

  /** The live session; after a device loss, a new device (reported once by {@link guard}). */
  private async live(): Promise<Session> {
    if (this.released) throw new DisposedError('The webgpu backend');
    let session = await this.session;
    if (session.context.lostReason) {
      const lost = session.context.lostReason;
      this.session = createGpuContext({ computeUnits: this.options.computeUnits, powerPreference: this.options.powerPreference }).then(newSession);
      this.session.catch(() => {});
      session.placeholder.destroy();
      // The loss has not been reported by a failed call yet (it happened between calls): report it now.
      if (!session.context.lossReported) {
        session.context.lossReported = true;
        throw lostError(lost);
      }
      session = await this.session;
    }
    this.context = session.context;
    return session;
  }

  /** Runs device work; turns failures (device loss, rejected maps or pipelines) into DeviceError. */
  private async guard<T>(session: Session, body: () => Promise<T>): Promise<T> {
    try {
      return await body();
    } catch (failure) {
      if (session.context.lostReason || (await lostSoon(session.context.device))) {
        session.context.lossReported = true;
        throw lostError(session.context.lostReason ?? 'lost while work was in flight', failure);
      }
      if (NMError.isInstance(failure)) throw failure;
      throw new DeviceError(NAME, `GPU work failed: ${(failure as Error)?.message ?? String(failure)}`, undefined, { cause: failure });
    }
  }

  private assertOwn(a: DenseMatrix, weights: PreparedWeights): GpuWeights {
    if (this.released) throw new DisposedError('The webgpu backend');
    assertRunnable(NAME, this.capabilities, a, weights);
    return this.ownWeights(weights);
  }

  /** Weights that passed the shared checks, as made by this backend's prepare(). */
  private ownWeights(weights: PreparedWeights): GpuWeights {
    if (!(weights instanceof GpuWeights)) {
      throw new DeviceError(NAME, 'weights claim to be from the webgpu backend but were not made by its prepare()', 'prepare them with this backend.');
    }
    return weights;
  }

  private assertFits(what: string, bytes: number, shape: string): void {
    if (bytes > this.capabilities.limits.maxBufferBytes) {
      throw new LimitError(
        `webgpu cannot hold ${what} ${shape}: ${bytes} bytes exceed the device's largest storage binding of ${this.capabilities.limits.maxBufferBytes} bytes.`,
        'split B along N into column blocks that fit and multiply each, or use another backend.',
      );
    }
  }

  /**
   * The stream kernel where it runs the problem: N a multiple of 4 and M up to {@link streamDefaultRows} (16–64),
   * or up to 64 when the kernel options ask for `stream`; never when they ask for `tiled`. A forced plan runs it when
   * the options ask for `stream` or when it is the plan `check()` reports for it (so that plan runs what it says).
   */
  private streamFor(context: GpuContext, shape: MatmulShape, pattern: NMPattern | undefined, forced: TilingPlan | undefined): StreamSpec | undefined {
    const choice = this.kernelOptions.decodeKernel;
    if (choice === 'tiled') return undefined;
    if (streamProblem(shape, context.limits.maxThreadsPerBlock, choice === 'stream' ? STREAM_MAX_M : streamDefaultRows(pattern))) return undefined;
    const spec = streamSpec(shape, pattern, context, this.kernelOptions.stream);
    if (!fitsGrid(spec.grid, context)) return undefined;
    if (forced && choice !== 'stream' && !samePlan(forced, spec.plan)) return undefined;
    return spec;
  }

  /** Picks the kernel for a problem and the buffers holding its weights. */
  private resolveSpec(session: Session, shape: MatmulShape, weights: GpuWeights, forced?: TilingPlan) {
    const { context } = session;
    const pattern = weights.pattern;
    const resident = weights.upload(context);
    const stream = this.streamFor(context, shape, pattern, forced);
    if (stream) return { spec: stream, plan: stream.plan, resident, slots: resident.slots, union: session.placeholder };
    const plan = forced ?? this.planFor(shape, pattern);
    if (!plan) return { spec: generalSpec(shape, pattern), plan, resident, slots: resident.slots, union: session.placeholder };
    let union: ReturnType<GpuWeights['unionRows']> | undefined;
    if (pattern && wantsUnion(pattern, plan, shape, context.limits.maxThreadsPerBlock)) union = weights.unionRows(context, plan.block.n, { keptPerStage: planStageKept(shape, pattern, plan) });
    const spec = kernelSpec(shape, pattern, plan, context, union?.host.aRows, this.kernelOptions, forced ? 'plan' : 'waves');
    const useUnion = spec.shader === 'tiled' && spec.constants.UNION;
    return {
      spec,
      // What runs: the backend's own plans take a split-K sized to the device (waveSplitK, decodeSplitK).
      plan: spec.shader === 'tiled' ? { ...plan, splitK: spec.splitK } : plan,
      resident,
      slots: useUnion ? union!.slots : resident.slots,
      union: useUnion ? union!.rows : session.placeholder,
    };
  }

  /**
   * Encodes one multiplication of A (bound as `a`: exactly M·K floats) into a new C. Every buffer it makes goes into
   * `owned` as soon as it exists, C included, so that a failure part way leaks none.
   */
  private async encode(session: Session, shape: MatmulShape, weights: GpuWeights, a: GPUBufferBinding, forced: TilingPlan | undefined, owned: GPUBuffer[]): Promise<Run> {
    const { device } = session.context;
    const { spec, plan, resident, slots, union } = this.resolveSpec(session, shape, weights, forced);
    this.lastKernel = spec.name;
    // Kernels that read Aᵀ (binding 6) get it from a transpose pass of its own, recorded before them.
    let transposedA = session.placeholder;
    let pre: Run['pre'];
    const transposed = spec.shader === 'general' ? undefined : spec.transposed;
    if (transposed) {
      const { rows, quads } = transposed;
      transposedA = device.createBuffer({ size: rows * quads * 16, usage: BufferUsage.STORAGE, label: `Aᵀ ${rows}×${4 * quads}` });
      owned.push(transposedA);
      const transposeParams = createFilled(device, Uint32Array.of(shape.m, shape.k, rows, quads), 'transpose params', BufferUsage.UNIFORM);
      owned.push(transposeParams);
      pre = {
        pipeline: await session.pipelines.transposeA(shape.k % 4 === 0),
        bindGroup: bindBuffers(device, session.pipelines.reduceLayout, [a, transposedA, transposeParams]),
        grid: transposeGrid(transposed),
      };
    }
    const tail = spec.shader === 'tiled' ? spec.tail : undefined;
    const keptRows = weights.kind === 'nm' ? resident.values.size / 4 / shape.n : shape.k;
    const vectors = weights.pattern ? Math.ceil(shape.n / weights.pattern.vectorLength) : 1;
    const params = createFilled(
      device,
      Uint32Array.of(
        shape.m,
        shape.n,
        shape.k,
        Math.round(keptRows),
        vectors,
        spec.stages,
        spec.stagesPerSplit,
        spec.shader === 'tiled' ? spec.constants.KEPT : 0,
        tail?.rowBlock ?? NO_TAIL,
        tail?.splits ?? 1,
        tail?.stagesPerSplit ?? 0,
        spec.shader === 'tiled' ? (transposed?.quads ?? 0) : 0,
      ),
      'params',
      BufferUsage.UNIFORM,
    );
    owned.push(params);
    const count = shape.m * shape.n;
    const usage = BufferUsage.STORAGE | BufferUsage.COPY_SRC;
    // With a wave tail the buffer also holds the tail's partials, after C (split-tail-reduce adds them in place).
    const tailCount = tail ? (shape.m - tail.firstRow) * shape.n : 0;
    const cFloats = count + (tail ? (tail.splits - 1) * tailCount : 0);
    const c = device.createBuffer({ size: Math.max(4, cFloats * 4), usage, label: `C ${shape.m}×${shape.n}` });
    owned.push(c);
    const out = spec.splitK > 1 ? device.createBuffer({ size: spec.splitK * count * 4, usage: BufferUsage.STORAGE, label: 'split-K partials' }) : c;
    if (out !== c) owned.push(out);
    const pipeline = await session.pipelines.matmul(spec);
    const vectorB = spec.shader === 'tiled' && spec.constants.B_VEC;
    // Binding 7 is B again, read as vec4s by the tiled kernel with B_VEC.
    const bindGroup = bindBuffers(device, session.pipelines.matmulLayout, [a, resident.values, slots, union, out, params, transposedA, vectorB ? resident.values : session.placeholder]);
    let reduce: Run['reduce'];
    if (spec.splitK > 1) {
      const reduceParams = createFilled(device, Uint32Array.of(count, spec.splitK, 0, 0), 'reduce params', BufferUsage.UNIFORM);
      owned.push(reduceParams);
      reduce = {
        pipeline: await session.pipelines.reduce(),
        bindGroup: bindBuffers(device, session.pipelines.reduceLayout, [out, c, reduceParams]),
        grid: reduceGrid(count, session.context.maxWorkgroupsPerDimension),
      };
    } else if (tail) {
      const reduceParams = createFilled(device, Uint32Array.of(tail.firstRow * shape.n, tailCount, tail.splits, count), 'tail reduce params', BufferUsage.UNIFORM);
      owned.push(reduceParams);
      reduce = {
        pipeline: await session.pipelines.tailReduce(),
        bindGroup: bindBuffers(device, session.pipelines.tailReduceLayout, [c, reduceParams]),
        grid: reduceGrid(tailCount, session.context.maxWorkgroupsPerDimension),
      };
    }
    return { spec, plan, main: { pipeline, bindGroup, grid: spec.grid }, reduce, pre, c };
  }
}

/** A bind group of `resources` at bindings 0, 1, 2…: whole buffers, or a binding's range (A). */
function bindBuffers(device: GPUDevice, layout: GPUBindGroupLayout, resources: readonly (GPUBuffer | GPUBufferBinding)[]): GPUBindGroup {
  return device.createBindGroup({
    layout,
    entries: resources.map((resource, binding) => ({ binding, resource: 'buffer' in resource ? resource : { buffer: resource } })),
  });
}

/** A device matrix of another GPUDevice: another backend's, or one made before a device loss. */
function foreignMatrix(a: GpuMatrix): NMError {
  if (a.context.lostReason) {
    return new DeviceError(
      NAME,
      `device matrix A (${a.rows}×${a.cols}) lived on a GPU device that was lost (${a.context.lostReason}); its contents are gone.`,
      'upload A again: the backend now runs on a new device.',
    );
  }
  return new ShapeError(
    `webgpu: device matrix A (${a.rows}×${a.cols}) is on another GPUDevice than this backend's.`,
    "read() it and upload() it to this backend, or create both backends on one device (createWebGPUBackend({ device })).",
  );
}

/** Whether two plans are the same in every field. */
function samePlan(a: TilingPlan, b: TilingPlan): boolean {
  const key = (p: TilingPlan) => [p.variant, p.block.m, p.block.n, p.block.k, p.warp.m, p.warp.n, p.thread.m, p.thread.n, p.splitK, p.stages, p.threads].join();
  return key(a) === key(b);
}

/** No wave tail: a first tail row block past every grid row (see spmm-nm-tiled.wgsl). */
const NO_TAIL = 0xffffffff;

/** Grid of a 256-invocation elementwise pass over `count` floats (x capped at the dimension limit). */
function reduceGrid(count: number, maxPerDimension: number): [number, number] {
  const groups = Math.ceil(count / 256);
  const x = Math.min(groups, maxPerDimension);
  return [x, Math.ceil(groups / x)];
}

function newSession(context: GpuContext): Session {
  const placeholder = context.device.createBuffer({ size: 16, usage: BufferUsage.STORAGE, label: 'unused binding' });
  return { context, pipelines: new PipelineCache(context.device), placeholder };
}

/** Records one multiplication (Aᵀ where the kernel reads it, the main kernel, then the split-K or wave-tail reduction) into a compute pass. */
function record(encoder: GPUCommandEncoder, run: Run, timestampWrites?: GPUComputePassTimestampWrites): void {
  const pass = encoder.beginComputePass(timestampWrites ? { timestampWrites } : {});
  // Dispatches in one pass are ordered: the kernel sees Aᵀ, the reduction every partial product.
  for (const dispatch of [run.check, run.pre, run.main, run.reduce]) {
    if (!dispatch) continue;
    pass.setPipeline(dispatch.pipeline);
    pass.setBindGroup(0, dispatch.bindGroup);
    pass.dispatchWorkgroups(...dispatch.grid);
  }
  pass.end();
}

/** Passes timed per query set: two timestamps each, within WebGPU's 4096 queries per set. */
const MAX_TIMED_PER_BATCH = 2048;

function lostError(reason: string, cause?: unknown): DeviceError {
  return new DeviceError(
    NAME,
    `the GPU device was lost (${reason}).`,
    'call again: the next call runs on a new device and re-uploads prepared weights automatically.',
    { cause },
  );
}

/** After a failure, whether the device turns out to be lost (its `lost` promise settles shortly). */
async function lostSoon(device: GPUDevice): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), 50);
  });
  const lost = await Promise.race([device.lost.then(() => true), timeout]);
  clearTimeout(timer);
  return lost;
}
