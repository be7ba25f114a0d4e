import {
  assertDenseMatrix,
  assertRunnable,
  assertRunnableOnDevice,
  assertUploadable,
  type BackendCapabilities,
  type CheckResult,
  type CompressedNM,
  capabilityProblem,
  compressedLayout,
  type DenseMatrix,
  DeviceError,
  DisposedError,
  type MatmulOptions,
  type MatmulShape,
  type NMBackend,
  type NMPattern,
  summarizeTimings,
  timingRuns,
  type TimingOptions,
  type TilingPlan,
  type TimingResult,
  ShapeError,
  validateCompressed,
} from '@nmkit/format';
import { CudaMatrix } from './cuda-matrix.js';
import { CudaWeights, type UploadedWeights } from './cuda-weights.js';
import type { NativeAddon, NativeContext, NativeMatrix, NativePlan, NativeProbe, NativeWeights } from './native-types.js';
import { type CudaDevice, type CudaPlan, cudaCandidatePlans, MAX_DIMENSION, nativeFromTiling, type PlanInput, planCuda, type WeightsInfo } from './planner.js';
import { hasTiledPath, MAX_STAGE_ROWS, padValues, retileForKernels, type Staging, stageKeptRows } from './retile.js';
import { WIDE_MIN_ROWS, type WidenMode, widenedCopyFor, widenedPatternBound } from './widening.js';

/** Plans cached per weights (distinct M) before the cache starts over. */
const MAX_CACHED_PLANS = 256;

/** cudaError of a call the addon refused because A holds a NaN or ±Inf and the plan ran widened weights. */
const NON_FINITE_A = -2;

/**
 * The CUDA backend: FP32 N:M SpMM kernels on CUDA cores and cuBLAS SGEMM (FP32, no TF32) as the dense baseline.
 * Weights stay on the device between calls; every call runs off the JS thread in the addon.
 * @example
 * const got = await cudaProvider.create();
 * if (got.available) { const w = await got.backend.prepare(sparse); const c = await got.backend.matmul(a, w); w.dispose(); }
 */
export class CudaBackend implements NMBackend {
  readonly name = 'cuda';
  readonly device: string;
  readonly capabilities: BackendCapabilities;
  private readonly context: NativeContext;
  private limits: CudaDevice;
  /**
   * The planner's plans by weights, M and input (key 2·M + 1 for a device matrix): the cost model takes 30–50 µs, as long as a decode kernel, and a decode
   * loop asks for the same shape every token. Replaced when the limits change.
   */
  private plans = new WeakMap<WeightsInfo, Map<number, CudaPlan>>();
  /** Whether the device can run the cluster split-K reduction (compute capability ≥ 9.0). */
  private readonly clusterCapable: boolean;
  private readonly live = new Set<CudaWeights | CudaMatrix>();
  private closed = false;

  constructor(
    addon: NativeAddon,
    readonly probe: NativeProbe,
    deviceIndex = 0,
    /** How prepare() stages A for the tiled kernels ({@link retileForKernels}); `auto` decides per weights. */
    private readonly staging: Staging | 'auto' = 'auto',
    /** Whether prepare() keeps widened copies of short-vector weights for the tiled kernels ({@link WidenMode}). */
    private readonly widen: WidenMode = 'auto',
    /** Whether small calls may run on the JS thread when the GPU is idle (CudaBackendOptions `inlineSmallCalls`). */
    inlineSmallCalls = false,
  ) {
    this.context = new addon.Context(deviceIndex);
    if (inlineSmallCalls) this.context.setInlineSmallCalls?.(true);
    this.device = `${probe.name} (sm_${probe.computeCapability.replace('.', '')}, ${probe.multiprocessors} SMs, driver ${formatVersion(probe.driverVersion)})`;
    this.clusterCapable = Number.parseInt(probe.computeCapability, 10) >= 9;
    this.limits = { multiprocessors: probe.multiprocessors, sharedPerBlockOptin: probe.sharedPerBlockOptin, clusters: this.clusterCapable };
    this.capabilities = {
      dtypes: ['float32'],
      maxGroup: 256,
      vectorLengths: 'any',
      fastPaths:
        'tiled kernels (block/warp/thread tiles, cp.async pipeline, union or per-vector row lists) for V a multiple of 32 and any group ≤ 256; ' +
        'decode paths for M ≤ 16 (streaming kernel to M = 4, then the 32-row tile with split-K); K-sliced 32-row blocks for small grids; ' +
        'split-K through thread-block clusters on sm_90 (atomics before); a streaming general kernel for every other pattern, ' +
        'and above 16 rows the tiled kernels on a widened copy (V = 32) of short-vector weights such as element-wise 2:4',
      limits: { maxBufferBytes: Math.min(probe.totalMemory / 2, 2 ** 34), maxDimension: MAX_DIMENSION },
      timing: 'device',
      denseBaseline: 'cuBLAS SGEMM (FP32, CUBLAS_DEFAULT_MATH, no TF32)',
    };
  }

  /**
   * How the tiled kernel's split-K slices add up: `cluster` (the default on compute capability ≥ 9.0: in a
   * thread-block cluster, through distributed shared memory) or `atomic` (global atomics into a zeroed C, the only way
   * before Hopper). Benchmarks set `atomic` to compare the two; on older GPUs `cluster` falls back to `atomic`.
   */
  get splitKReduction(): 'cluster' | 'atomic' {
    return this.limits.clusters ? 'cluster' : 'atomic';
  }

  set splitKReduction(value: 'cluster' | 'atomic') {
    this.limits = { ...this.limits, clusters: value === 'cluster' && this.clusterCapable };
    this.plans = new WeakMap();
  }

  check(shape: MatmulShape, pattern: NMPattern | undefined): CheckResult {
    const reason = capabilityProblem(this.name, this.capabilities, shape, pattern);
    if (reason) return { ok: false, reason };
    if (this.closed) return { ok: false, reason: 'the cuda backend has been disposed' };
    // Widened weights (short vectors, M above decode): the plan of the widest pattern the weights could widen to.
    const planned = (pattern && widenedPatternBound(shape, pattern, this.widen)) ?? pattern;
    const keptRows = planned ? Math.ceil(shape.k / planned.group) * planned.keep : shape.k;
    const ldb = Math.ceil(shape.n / 4) * 4;
    const tiled = planned && hasTiledPath(planned) ? estimateTiled(shape, planned) : undefined;
    return { ok: true, plan: planCuda(shape, { pattern: planned, keptRows, ldb, tiled }, this.limits).tiling };
  }

  /**
   * Uploads compressed weights. With short vectors (V not a multiple of 32) and the backend's {@link WidenMode}
   * allowing it, a widened copy (format `widenVectors`) is uploaded too, unless it does not fit: calls above 16 rows
   * run it on the tiled kernels, unless A holds a NaN or ±Inf (then the streaming kernel runs the original, which
   * skips pruned rows).
   */
  async prepare(weights: CompressedNM): Promise<CudaWeights> {
    this.assertOpen();
    validateCompressed(weights);
    const original = await this.uploadWeights(weights);
    const copy = widenedCopyFor(weights, this.widen);
    // The copy is an optimisation: where it does not fit (device memory), the weights work without it.
    const wide = copy && (await this.uploadWeights(copy).catch(() => undefined));
    return this.track(
      new CudaWeights(this.name, 'nm', weights.rows, weights.cols, original.info.pattern, original.native, original.info, (w) => this.live.delete(w), wide),
    );
  }

  /** One upload of compressed weights: values padded for the kernels, indices, and the tiled layout when V allows. */
  private async uploadWeights(weights: CompressedNM): Promise<UploadedWeights> {
    const { pattern } = weights;
    const layout = compressedLayout(weights.rows, weights.cols, pattern);
    const tile = hasTiledPath(pattern) ? retileForKernels(weights, this.staging) : undefined;
    const { values, ldb } = padValues(weights, tile ? tile.stages * tile.ks : layout.keptRows);
    const info: WeightsInfo = {
      pattern: { ...pattern },
      keptRows: layout.keptRows,
      ldb,
      tiled: tile && { ks: tile.ks, srows: tile.srows, stages: tile.stages, slotStride: tile.slotStride },
    };
    const native = await this.call('prepare', () =>
      this.context.upload({
        dense: false,
        rows: weights.rows,
        cols: weights.cols,
        ldb,
        values,
        keep: pattern.keep,
        group: pattern.group,
        vectorLength: pattern.vectorLength,
        keptRows: layout.keptRows,
        vectors: layout.vectors,
        indices: weights.indices.slice(),
        tile: tile && {
          ks: tile.ks,
          srows: tile.srows,
          stages: tile.stages,
          tilesN: tile.tilesN,
          slotStride: tile.slotStride,
          rows: tile.rows,
          slots: tile.slots,
          perVector: tile.staging === 'per-vector',
        },
      }),
    );
    return { native, info };
  }

  async prepareDense(weights: DenseMatrix): Promise<CudaWeights> {
    this.assertOpen();
    assertDenseMatrix(weights, 'B');
    const native = await this.call('prepareDense', () =>
      this.context.upload({ dense: true, rows: weights.rows, cols: weights.cols, ldb: weights.cols, values: weights.data.slice() }),
    );
    const info: WeightsInfo = { keptRows: weights.rows, ldb: weights.cols };
    return this.track(new CudaWeights(this.name, 'dense', weights.rows, weights.cols, undefined, native, info, (w) => this.live.delete(w)));
  }

  async matmul(a: DenseMatrix, weights: CudaWeights, options: MatmulOptions = {}): Promise<DenseMatrix> {
    this.assertCall(a, weights);
    const { result } = await this.run('matmul', 'dense-matrix', a, weights, options, (handle, native) =>
      this.context.matmul(handle, a.data, a.rows, a.cols, native),
    );
    return { rows: a.rows, cols: weights.cols, data: result };
  }

  /**
   * Copies A to device memory once, for {@link matmulDevice} chains.
   * @throws {ShapeError} for an invalid A; {@link LimitError} when it exceeds the backend's largest buffer.
   */
  async upload(a: DenseMatrix): Promise<CudaMatrix> {
    this.assertOpen();
    assertUploadable(this.name, this.capabilities, a);
    // No host copy first: the contract keeps a.data unchanged until the promise resolves, and the addon holds it.
    const native = await this.call('upload', () => this.context.uploadMatrix(a.data, a.rows, a.cols));
    return this.adopt(a.rows, a.cols, native);
  }

  /**
   * C = A·B with A and C in device memory (no host copies): the plans, kernels and NaN rules of {@link matmul}. For
   * widened weights a device-side check of A decides between the copy and the original, as on the host path.
   */
  async matmulDevice(a: CudaMatrix, weights: CudaWeights, options: MatmulOptions = {}): Promise<CudaMatrix> {
    this.assertOpen();
    assertRunnableOnDevice(this.name, this.capabilities, a, weights);
    // Every CUDA backend is named 'cuda': only this one's own matrices live on its device.
    if (!(a instanceof CudaMatrix) || !this.live.has(a)) {
      throw new ShapeError(
        `cuda: A (${a.rows}×${a.cols}) was not made by upload() or matmulDevice() of this backend (${this.device}).`,
        'read() it and upload() it to this backend.',
      );
    }
    this.assertOwnWeights(weights);
    // A is held (its handle taken now) until the call ends, the NaN rerun included.
    const { result } = await a.holding((handleA) =>
      this.run('matmulDevice', 'device-matrix', a, weights, options, (handle, native) =>
        this.context.matmulDevice(handle, handleA, a.rows, a.cols, native),
      ),
    );
    return this.adopt(a.rows, weights.cols, result);
  }

  /**
   * Device times (CUDA events) of back-to-back products, A and C resident. With `input: 'device-matrix'`, A and C are
   * in the layouts of a {@link matmulDevice} chain, with its plan: a plan that reads A's column form (tiled, or the
   * narrow kernel from 8 rows) gets it made once before the warm-up and writes C's, so a run is the kernel alone; by
   * default such a plan transposes the row-major A in every run, as {@link matmul} does.
   */
  async time(a: DenseMatrix, weights: CudaWeights, options: TimingOptions = {}): Promise<TimingResult> {
    const { warmup, repeats } = timingRuns(options);
    this.assertCall(a, weights);
    const input = options.input ?? 'dense-matrix';
    const { result: samples, tiling } = await this.run('time', input, a, weights, options, (handle, native) =>
      this.context.time(handle, a.data, a.rows, a.cols, native, warmup, repeats, options.input === 'device-matrix'),
    );
    return summarizeTimings(Array.from(samples), 'device', tiling);
  }

  /**
   * Every plan that can run a shape with these weights, the planner's choice first (for benchmarks and tuning), for A
   * from the host (`matmul`, the default) or on the device (`matmulDevice`, `input: 'device-matrix'`). With a widened
   * copy, its tiled plans come first above 16 rows and after the streaming plans below.
   */
  candidatePlans(a: { rows: number; cols: number }, weights: CudaWeights, input: PlanInput = 'dense-matrix'): CudaPlan[] {
    const shape = { m: a.rows, n: weights.cols, k: a.cols };
    const own = cudaCandidatePlans(shape, weights.info, this.limits, input);
    if (!weights.wide) return own;
    const wide = cudaCandidatePlans(shape, weights.wide.info, this.limits, input).filter((p) => isTiled(p.tiling));
    return shape.m > WIDE_MIN_ROWS ? [...wide, ...own] : [...own, ...wide];
  }

  /** Free and total device memory in bytes (cudaMemGetInfo). */
  memInfo(): { free: number; total: number } {
    this.assertOpen();
    return this.context.memInfo();
  }

  /** Where cuBLAS was loaded from, after the first dense call ('' before). */
  cublasSource(): string {
    return this.context.cublasSource();
  }

  async dispose(): Promise<void> {
    for (const held of [...this.live]) held.dispose();
    this.closed = true;
  }

  /** Validates a host call's operands before anything reaches the addon. */
  private assertCall(a: DenseMatrix, weights: CudaWeights): void {
    this.assertOpen();
    assertRunnable(this.name, this.capabilities, a, weights);
    this.assertOwnWeights(weights);
  }

  private assertOwnWeights(weights: CudaWeights): void {
    if (!(weights instanceof CudaWeights) || !weights.handle) throw new DisposedError(`Weights ${weights.rows}×${weights.cols} on cuda`);
    if (!this.live.has(weights)) {
      throw new ShapeError(`cuda: weights ${weights.rows}×${weights.cols} were prepared by another cuda backend, not this one (${this.device}).`, 'prepare them with this backend.');
    }
  }

  /**
   * Picks a validated call's weights and plan, and runs `body` on them. A widened plan (finiteA) that the addon
   * refuses for a NaN or ±Inf in A reruns on the original weights with their own plan.
   */
  private run<T>(
    what: string,
    input: PlanInput,
    a: { rows: number; cols: number },
    weights: CudaWeights,
    options: MatmulOptions,
    body: (handle: NativeWeights, native: NativePlan) => Promise<T>,
  ): Promise<{ result: T; tiling: TilingPlan }> {
    const shape = { m: a.rows, n: weights.cols, k: a.cols };
    const planFor = (info: WeightsInfo) => (options.plan ? nativeFromTiling(options.plan, info, this.limits, shape, input) : this.planned(shape, info, input));
    const original = weights.handle!;
    const wide = weights.wide;
    // Held from here, synchronously: a dispose() of the weights during the call frees them after it (the NaN rerun too).
    return weights.holding(async () => {
      if (wide && (options.plan ? isTiled(options.plan) : shape.m > WIDE_MIN_ROWS)) {
        const plan = planFor(wide.info);
        try {
          return { result: await this.call(what, () => body(wide.native, { ...plan.native, finiteA: 1 })), tiling: plan.tiling };
        } catch (error) {
          if ((error as { cause?: { cudaError?: number } }).cause?.cudaError !== NON_FINITE_A) throw error;
        }
        // The original has no tiled layout (V not a multiple of 32): its own plan, whatever plan was forced.
        const fallback = this.planned(shape, weights.info, input);
        return { result: await this.call(what, () => body(original, fallback.native)), tiling: fallback.tiling };
      }
      const plan = planFor(weights.info);
      return { result: await this.call(what, () => body(original, plan.native)), tiling: plan.tiling };
    });
  }

  /** The planner's plan for these weights at shape.m and this input, from the cache when it has been asked before. */
  private planned(shape: MatmulShape, info: WeightsInfo, input: PlanInput): CudaPlan {
    let byRows = this.plans.get(info);
    if (!byRows) this.plans.set(info, (byRows = new Map()));
    const key = shape.m * 2 + (input === 'device-matrix' ? 1 : 0);
    let plan = byRows.get(key);
    if (!plan) {
      if (byRows.size >= MAX_CACHED_PLANS) byRows.clear(); // many distinct M: start over rather than grow
      // Frozen: every TimingResult of this shape shares the object, so no caller can change what later ones report.
      plan = deepFreeze(planCuda(shape, info, this.limits, input));
      byRows.set(key, plan);
    }
    return plan;
  }

  private track<T extends CudaWeights | CudaMatrix>(held: T): T {
    // A call that finished after dispose() of the backend: free its result rather than hand out an orphan.
    if (this.closed) {
      held.dispose();
      throw new DisposedError('The cuda backend');
    }
    this.live.add(held);
    return held;
  }

  /** A tracked CudaMatrix around an addon matrix. */
  private adopt(rows: number, cols: number, native: NativeMatrix): CudaMatrix {
    const read = (handle: NativeMatrix) => this.call('read', () => this.context.readMatrix(handle));
    return this.track(new CudaMatrix(this.name, rows, cols, native, read, (m) => this.live.delete(m)));
  }

  private assertOpen(): void {
    if (this.closed) throw new DisposedError('The cuda backend');
  }

  /** Runs an addon call, turning its failures into DeviceErrors that carry the CUDA error string. */
  private async call<T>(what: string, body: () => Promise<T>): Promise<T> {
    try {
      return await body();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const code = (error as { cudaError?: number }).cudaError;
      throw new DeviceError(
        this.name,
        `${what} failed: ${message}${code !== undefined && code >= 0 ? ` [cudaError ${code}]` : ''}`,
        code === 2 ? 'free device memory (dispose unused weights) or split the problem.' : undefined,
        { cause: error },
      );
    }
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

function isTiled(plan: TilingPlan): boolean {
  return plan.variant === 'low-sparsity' || plan.variant === 'high-sparsity';
}

/** Tiled-layout sizes a check() can promise without building the lists (upper bounds). */
function estimateTiled(shape: MatmulShape, pattern: NMPattern) {
  const ks = stageKeptRows(pattern);
  const keptRows = Math.ceil(shape.k / pattern.group) * pattern.keep;
  // retileForKernels keeps every list within MAX_STAGE_ROWS (falling back to 16 kept rows where a longer one would not).
  const srows = Math.min(MAX_STAGE_ROWS, Math.ceil(ks / pattern.keep + 1) * pattern.group + 1);
  return { ks, srows, stages: Math.ceil(keptRows / ks), slotStride: Math.ceil((ks * 4) / 16) * 16 };
}

function formatVersion(v: number): string {
  return v > 0 ? `${Math.floor(v / 1000)}.${Math.floor((v % 1000) / 10)}` : 'none';
}
