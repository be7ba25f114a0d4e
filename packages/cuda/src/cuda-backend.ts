import {
  assertDenseMatrix,
  assertRunnable,
  type BackendCapabilities,
  type CheckResult,
  type CompressedNM,
  capabilityProblem,
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
  type TimingResult,
  validateCompressed,
} from '@nmkit/format';
import { CudaWeights } from './cuda-weights.js';
import type { NativeAddon, NativeContext, NativeProbe } from './native-types.js';
import { type CudaDevice, type CudaPlan, cudaCandidatePlans, MAX_DIMENSION, nativeFromTiling, planCuda, type WeightsInfo } from './planner.js';
import { hasTiledPath, MAX_STAGE_ROWS, padValues, retileForKernels, type Staging, stageKeptRows } from './retile.js';

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
  /** Whether the device can run the cluster split-K reduction (compute capability ≥ 9.0). */
  private readonly clusterCapable: boolean;
  private readonly live = new Set<CudaWeights>();
  private closed = false;

  constructor(
    addon: NativeAddon,
    readonly probe: NativeProbe,
    deviceIndex = 0,
    /** How prepare() stages A for the tiled kernels ({@link retileForKernels}); `auto` decides per weights. */
    private readonly staging: Staging | 'auto' = 'auto',
  ) {
    this.context = new addon.Context(deviceIndex);
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
        'split-K through thread-block clusters on sm_90 (atomics before); a streaming general kernel for every other pattern',
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
  }

  check(shape: MatmulShape, pattern: NMPattern | undefined): CheckResult {
    const reason = capabilityProblem(this.name, this.capabilities, shape, pattern);
    if (reason) return { ok: false, reason };
    if (this.closed) return { ok: false, reason: 'the cuda backend has been disposed' };
    const keptRows = pattern ? Math.ceil(shape.k / pattern.group) * pattern.keep : shape.k;
    const ldb = Math.ceil(shape.n / 4) * 4;
    const tiled = pattern && hasTiledPath(pattern) ? estimateTiled(shape, pattern) : undefined;
    return { ok: true, plan: planCuda(shape, { pattern, keptRows, ldb, tiled }, this.limits).tiling };
  }

  async prepare(weights: CompressedNM): Promise<CudaWeights> {
    this.assertOpen();
    const layout = validateCompressed(weights);
    const { pattern } = weights;
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
    return this.track(new CudaWeights(this.name, 'nm', weights.rows, weights.cols, info.pattern, native, info, (w) => this.live.delete(w)));
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
    const { handle, plan } = this.begin(a, weights, options);
    const data = await this.call('matmul', () => this.context.matmul(handle, a.data, a.rows, a.cols, plan.native));
    return { rows: a.rows, cols: weights.cols, data };
  }

  async time(a: DenseMatrix, weights: CudaWeights, options: TimingOptions = {}): Promise<TimingResult> {
    const { handle, plan } = this.begin(a, weights, options);
    const { warmup, repeats } = timingRuns(options);
    const samples = await this.call('time', () => this.context.time(handle, a.data, a.rows, a.cols, plan.native, warmup, repeats));
    return summarizeTimings(Array.from(samples), 'device', plan.tiling);
  }

  /** Every plan that can run a shape with these weights, the planner's choice first (for benchmarks and tuning). */
  candidatePlans(a: { rows: number; cols: number }, weights: CudaWeights): CudaPlan[] {
    return cudaCandidatePlans({ m: a.rows, n: weights.cols, k: a.cols }, weights.info, this.limits);
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
    for (const w of [...this.live]) w.dispose();
    this.closed = true;
  }

  private begin(a: DenseMatrix, weights: CudaWeights, options: MatmulOptions) {
    this.assertOpen();
    assertRunnable(this.name, this.capabilities, a, weights);
    if (!(weights instanceof CudaWeights) || !weights.handle) throw new DisposedError(`Weights ${weights.rows}×${weights.cols} on cuda`);
    const shape = { m: a.rows, n: weights.cols, k: a.cols };
    const plan = options.plan
      ? nativeFromTiling(options.plan, weights.info, this.limits, shape)
      : planCuda(shape, weights.info, this.limits);
    return { handle: weights.handle, plan };
  }

  private track(w: CudaWeights): CudaWeights {
    this.live.add(w);
    return w;
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
