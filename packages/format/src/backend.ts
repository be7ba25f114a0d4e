import type { CompressedNM } from './compressed.js';
import type { DenseMatrix } from './dense.js';
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

/** Options of a single multiplication. */
export interface MatmulOptions {
  /** Force a tiling plan (benchmarks and autotuning); defaults to the backend's planner. */
  readonly plan?: TilingPlan;
}

/** Options of {@link NMBackend.time}. */
export interface TimingOptions extends MatmulOptions {
  /** Untimed runs first (default 3). */
  readonly warmup?: number;
  /** Timed runs (default 10). */
  readonly repeats?: number;
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
 * const backend = await resolveBackend(registry);
 * const weights = await backend.prepare(pruneByMagnitude(b, nmPattern(8, 32, 32)));
 * const c = await backend.matmul(a, weights);
 * weights.dispose();
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
  /** C = A·B. */
  matmul(a: DenseMatrix, weights: PreparedWeights, options?: MatmulOptions): Promise<DenseMatrix>;
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

/** Summarises timing samples (median, min, max). */
export function summarizeTimings(
  samplesMs: readonly number[],
  clock: 'device' | 'host',
  plan?: TilingPlan,
): TimingResult {
  const sorted = [...samplesMs].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  const medianMs = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { samplesMs: [...samplesMs], medianMs, minMs: sorted[0], maxMs: sorted[sorted.length - 1], clock, plan };
}
