import type { CompressedNM } from './compressed.js';
import type { DenseMatrix } from './dense.js';
import { LimitError } from './errors.js';
import type { NMPattern } from './pattern.js';
import type { MatmulShape, TilingPlan } from './tiling-plan.js';

/** What a backend can do, declared up front (not discovered by try/catch). */
export interface BackendCapabilities {
  /** Element types of A, B and C. Every backend supports float32. */
  readonly dtypes: readonly 'float32'[];
  /** Largest window length it accepts (≤ 256). */
  readonly maxGroup: number;
  /** Vector lengths it accepts: `'any'` or an explicit list. */
  readonly vectorLengths: 'any' | readonly number[];
  /** Patterns and vector lengths with specialised fast kernels, for humans (e.g. "group ∈ {4,8,16,32,64}, V ∈ {32,64,128}"). */
  readonly fastPaths: string;
  /** Largest single buffer in bytes, and largest dimension, the device allows. */
  readonly limits: { readonly maxBufferBytes: number; readonly maxDimension: number };
  /** `'device'` when {@link NMBackend.time} uses device timers (CUDA events, timestamp queries). */
  readonly timing: 'device' | 'host';
  /** Name of the dense baseline {@link NMBackend.prepareDense} runs, if any (e.g. "cuBLAS SGEMM"). */
  readonly denseBaseline?: string;
}

/** Result of {@link NMBackend.check}: whether a problem can run, and if not, why. */
export type CheckResult =
  | { readonly ok: true; readonly plan: TilingPlan }
  | { readonly ok: false; readonly reason: string };

/** Weights moved to the device once by {@link NMBackend.prepare} or {@link NMBackend.prepareDense}. */
export interface PreparedWeights {
  /** `'nm'` for compressed weights, `'dense'` for a dense baseline. */
  readonly kind: 'nm' | 'dense';
  /** Name of the backend that owns the buffers. */
  readonly backend: string;
  /** K. */
  readonly rows: number;
  /** N. */
  readonly cols: number;
  /** The N:M pattern (`undefined` for dense). */
  readonly pattern?: NMPattern;
  /** Device bytes held. */
  readonly bytes: number;
  readonly disposed: boolean;
  /** Frees the device buffers. Idempotent. */
  dispose(): void;
}

/**
 * A dense row-major float32 matrix held on a backend's device, so that a chain of products (the layers of a model)
 * keeps its activations there instead of copying A in and C out around every call. Made by
 * {@link NMBackend.upload} and returned by {@link NMBackend.matmulDevice}; host backends hold it in host memory.
 */
export interface DeviceMatrix {
  /** Tells a device matrix from a {@link DenseMatrix} at run time. */
  readonly kind: 'device-matrix';
  /** Name of the backend that owns the buffer. */
  readonly backend: string;
  readonly rows: number;
  readonly cols: number;
  /** Device bytes held. */
  readonly bytes: number;
  readonly disposed: boolean;
  /** Copies the matrix to the host (a new array each call). */
  read(): Promise<DenseMatrix>;
  /** Frees the device buffer. Idempotent; a call still running on it keeps the buffer until it ends. */
  dispose(): void;
}

/** Options of a single multiplication. */
export interface MatmulOptions {
  /** Force a tiling plan (benchmarks and autotuning); defaults to the backend's planner. */
  readonly plan?: TilingPlan;
}

/** Options of {@link NMBackend.time}. */
export interface TimingOptions extends MatmulOptions {
  /** Untimed runs first, an integer ≥ 0 (default 3). */
  readonly warmup?: number;
  /** Timed runs, an integer ≥ 1 (default 10). */
  readonly repeats?: number;
  /**
   * Where A comes from in the timed runs (default `'dense-matrix'`). Both time the product with A and C already in
   * device memory; they differ only where a backend keeps device matrices in a layout of its own:
   * - `'dense-matrix'`: A row-major, as {@link NMBackend.matmul} copies it in, so each run includes whatever the
   *   kernel needs done to a row-major A first (CUDA's tiled kernels transpose it);
   * - `'device-matrix'`: A as a {@link DeviceMatrix} holds it from its first use on, and C as
   *   {@link NMBackend.matmulDevice} writes it: one layer of a chain of `matmulDevice` calls.
   */
  readonly input?: 'dense-matrix' | 'device-matrix';
}

/** Per-run times of {@link NMBackend.time}, in milliseconds. */
export interface TimingResult {
  readonly samplesMs: readonly number[];
  readonly medianMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  /** Which clock produced the samples. */
  readonly clock: 'device' | 'host';
  /** The plan that ran. */
  readonly plan?: TilingPlan;
}

/**
 * The one contract every backend implements. All device work is async; inputs are validated (through
 * `validateCompressed` and `assertMatmulShapes`) before anything reaches a device.
 *
 * @example
 * const { backend } = await new BackendRegistry().register(cpuProvider).register(cpuReferenceProvider).resolve();
 * const weights = await backend.prepare(pruneByMagnitude(b, nmPattern(8, 32, 32)));
 * const c = await backend.matmul(a, weights);
 * // A chain that stays on the device: one upload, one read.
 * const x = await backend.upload(a);
 * const y = await backend.matmulDevice(x, weights);
 * const out = await y.read();
 * x.dispose(); y.dispose(); weights.dispose();
 */
export interface NMBackend {
  /** Registry name: `'cpu-ref'`, `'cpu'`, `'webgpu'`, `'cuda'`. */
  readonly name: string;
  /** The device it runs on, for humans ("NVIDIA H100 80GB HBM3", "lavapipe", "2 × CPU cores"). */
  readonly device: string;
  readonly capabilities: BackendCapabilities;
  /** Whether C = A(M×K)·B(K×N) with this pattern (`undefined` = dense) can run here; never throws. */
  check(shape: MatmulShape, pattern: NMPattern | undefined): CheckResult;
  /** Validates compressed weights and moves them to the device (re-tiling indices if the kernels want to). */
  prepare(weights: CompressedNM): Promise<PreparedWeights>;
  /** Moves dense weights for the backend's dense baseline, when it has one. */
  prepareDense?(weights: DenseMatrix): Promise<PreparedWeights>;
  /** C = A·B. A is copied to the device and C back to the host in every call. */
  matmul(a: DenseMatrix, weights: PreparedWeights, options?: MatmulOptions): Promise<DenseMatrix>;
  /**
   * Copies A to the device once, for products that then stay there ({@link NMBackend.matmulDevice}). Keep `a.data`
   * unchanged until the promise resolves (a backend may copy it after an await); later changes do not reach the copy.
   */
  upload(a: DenseMatrix): Promise<DeviceMatrix>;
  /**
   * C = A·B with A and C on the device: neither crosses to the host, so layers chain at kernel speed. The same
   * validation, plans and numerics as {@link NMBackend.matmul}; the caller disposes C (and A when done with it).
   * Disposing A or the weights right after starting a call is safe: the call keeps them until it ends.
   *
   * It resolves when C can be used by the next call or `read()` of this backend, which is not always when the device
   * is done: the CUDA and CPU backends resolve after the product, WebGPU once its work is submitted (queue order makes
   * later work see C), so awaiting it does not time the product there, and a GPU failure after submission surfaces
   * at a later call or `read()`. Use {@link NMBackend.time} to time products.
   */
  matmulDevice(a: DeviceMatrix, weights: PreparedWeights, options?: MatmulOptions): Promise<DeviceMatrix>;
  /** Times repeated multiplications of already-resident operands with the backend's best clock. */
  time(a: DenseMatrix, weights: PreparedWeights, options?: TimingOptions): Promise<TimingResult>;
  /** Frees everything the backend holds. */
  dispose(): Promise<void>;
}

/** Either a ready backend or the reason there is none. */
export type BackendAvailability =
  | { readonly available: true; readonly backend: NMBackend }
  | { readonly available: false; readonly reason: string; readonly fix?: string };

/**
 * How a backend package offers itself to a {@link BackendRegistry}. `create` never throws: it resolves to the
 * backend or to the reason it cannot run here (no GPU, no adapter, addon not built...).
 */
export interface BackendProvider {
  readonly name: string;
  /** Higher is tried first (cuda 300, webgpu 200, cpu 100, cpu-ref 0). */
  readonly priority: number;
  create(): Promise<BackendAvailability>;
}

/** Untimed runs {@link NMBackend.time} does when {@link TimingOptions.warmup} is not given. */
export const DEFAULT_WARMUP_RUNS = 3;

/** Timed runs {@link NMBackend.time} does when {@link TimingOptions.repeats} is not given. */
export const DEFAULT_TIMED_RUNS = 10;

/**
 * The warm-up and timed run counts of {@link NMBackend.time}: the contract's defaults (3 and 10) filled in, and
 * checked, so a backend never times zero runs (a NaN median) or spins forever.
 * @throws {LimitError} when `warmup` is not an integer ≥ 0, `repeats` not an integer ≥ 1 or `input` not one of its two
 *   values.
 * @example timingRuns({ repeats: 5 }) // { warmup: 3, repeats: 5 }
 */
export function timingRuns(options: TimingOptions = {}): { warmup: number; repeats: number } {
  const warmup = options.warmup ?? DEFAULT_WARMUP_RUNS;
  const repeats = options.repeats ?? DEFAULT_TIMED_RUNS;
  if (options.input !== undefined && options.input !== 'dense-matrix' && options.input !== 'device-matrix') {
    throw new LimitError(`TimingOptions.input=${String(options.input)} is not 'dense-matrix' or 'device-matrix'.`, "pass 'dense-matrix' (the default) or 'device-matrix'.");
  }
  if (!Number.isSafeInteger(warmup) || warmup < 0) {
    throw new LimitError(`TimingOptions.warmup=${warmup} is not an integer ≥ 0.`, 'pass a whole number of warm-up runs, such as 3.');
  }
  if (!Number.isSafeInteger(repeats) || repeats < 1) {
    throw new LimitError(
      `TimingOptions.repeats=${repeats} is not an integer ≥ 1: at least one timed run is needed for a median.`,
      'pass a whole number of timed runs, such as 10.',
    );
  }
  return { warmup, repeats };
}

/**
 * Summarises timing samples (median, min, max).
 * @throws {LimitError} when there are no samples (no median exists).
 */
export function summarizeTimings(
  samplesMs: readonly number[],
  clock: 'device' | 'host',
  plan?: TilingPlan,
): TimingResult {
  if (samplesMs.length === 0) {
    throw new LimitError('summarizeTimings needs at least one sample, got none.', 'time at least one run (repeats ≥ 1).');
  }
  const sorted = [...samplesMs].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  const medianMs = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { samplesMs: [...samplesMs], medianMs, minMs: sorted[0], maxMs: sorted[sorted.length - 1], clock, plan };
}
