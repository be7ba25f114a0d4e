import type { DevicePeak, MatmulShape, NMPattern, TilingPlan } from '@nmkit/format';
import type { SampleStats } from './stats.js';
import type { Verification } from './verify-result.js';

/** What happened to one (case, kernel) pair. A wrong result is never timed. */
export interface Measurement {
  readonly status: 'ok' | 'wrong' | 'skipped' | 'error';
  /** Why it was skipped, wrong, or failed. */
  readonly reason?: string;
  readonly verification?: Verification;
  readonly stats?: SampleStats;
  readonly samplesMs?: readonly number[];
  readonly clock?: 'device' | 'host';
  readonly plan?: TilingPlan;
}

/** A dense baseline measured once per shape. */
export interface BaselineResult {
  readonly id: string;
  readonly label: string;
  readonly owner: string;
  readonly shape: MatmulShape;
  readonly measurement: Measurement;
  readonly effectiveTflops?: number;
}

/** The performance model's view of one case (format's `performanceModel`). */
export interface ModelSummary {
  readonly effectiveFlops: number;
  readonly usefulFlops: number;
  readonly bytes: number;
  readonly arithmeticIntensity: number;
  readonly idealSpeedup: number;
  /** Null when the device's peak is unknown. */
  readonly bound: 'compute' | 'memory' | null;
  readonly floorSeconds: number | null;
}

/** Figures derived from a successful measurement. Null where they cannot be known. */
export interface CaseMetrics {
  /** 2·M·N·K / median time. */
  readonly effectiveTflops: number;
  /** 2·M·N·K·ρ (kept rows) / median time. */
  readonly usefulTflops: number;
  /** Baseline median / this median, per baseline id that ran correctly on this shape. */
  readonly speedups: Readonly<Record<string, number>>;
  /** Speedup over this backend's own dense baseline. */
  readonly speedupOverOwnDense: number | null;
  /** That speedup as a percentage of the ideal 1/ρ. */
  readonly percentOfIdeal: number | null;
  /** Useful FLOP/s as a percentage of the device's FP32 peak. */
  readonly percentOfPeak: number | null;
  /** Model floor time / measured time, as a percentage (how close to the roofline). */
  readonly percentOfRoofline: number | null;
}

/** One N:M case on one backend. */
export interface CaseResult {
  readonly shape: MatmulShape;
  readonly pattern: NMPattern;
  readonly backend: string;
  readonly sparsity: number;
  readonly model: ModelSummary;
  readonly measurement: Measurement;
  readonly metrics?: CaseMetrics;
}

/** A backend as the run saw it. */
export interface BackendSummary {
  readonly name: string;
  readonly available: boolean;
  /** Benchmarked in this run (available and selected). */
  readonly benchmarked: boolean;
  readonly device?: string;
  readonly reason?: string;
  readonly fix?: string;
  readonly denseBaseline?: string;
  readonly timing?: 'device' | 'host';
  readonly fastPaths?: string;
  readonly peak?: DevicePeak | null;
}

/** The whole JSON file a run writes. */
export interface BenchResults {
  readonly schema: 'nmkit-bench/1';
  readonly suite: string;
  readonly description: string;
  readonly settings: {
    readonly warmup: number;
    readonly repeats: number;
    readonly seed: number;
    readonly shard: string | null;
    /** TimingOptions.input of the timed runs (absent in runs before it existed: `dense-matrix`). */
    readonly operands?: 'dense-matrix' | 'device-matrix';
    readonly shapes: readonly MatmulShape[];
    readonly patterns: readonly NMPattern[];
  };
  readonly environment: Record<string, unknown>;
  readonly backends: readonly BackendSummary[];
  readonly baselines: readonly BaselineResult[];
  readonly cases: readonly CaseResult[];
  readonly startedAt: string;
  readonly durationSeconds: number;
  /** True while a run is in progress (a checkpoint) or when --time-budget stopped it before the end. */
  readonly partial?: boolean;
}
