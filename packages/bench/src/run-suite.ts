import {
  type CompressedNM,
  type DenseMatrix,
  type DevicePeak,
  decompress,
  type MatmulShape,
  type NMBackend,
  type NMPattern,
  type PreparedWeights,
  performanceModel,
  sparsity,
  type TimingResult,
} from '@nmkit/format';
import type { DenseBaseline } from './baselines.js';
import { benchCompressed, benchDense } from './operands.js';
import type { BaselineResult, CaseMetrics, CaseResult, Measurement, ModelSummary } from './results.js';
import { summarizeSamples } from './stats.js';
import type { Suite } from './suites.js';
import { type Verification, verifySampled } from './verify-result.js';

/** Receives progress while a suite runs (the live terminal table implements it). */
export interface ProgressSink {
  start(totalSteps: number): void;
  /** A measurement is about to start. */
  step(label: string): void;
  baseline(result: BaselineResult): void;
  result(result: CaseResult): void;
  finish(): void;
}

/** What {@link runSuite} needs. */
export interface RunContext {
  readonly suite: Suite;
  readonly backends: readonly NMBackend[];
  readonly baselines: readonly DenseBaseline[];
  readonly seed: number;
  readonly shard?: { readonly index: number; readonly count: number };
  /** Where the timed runs' A comes from (TimingOptions.input); undefined: the contract's default, `dense-matrix`. */
  readonly operands?: 'dense-matrix' | 'device-matrix';
  /** The device peak of a backend, when known (H100 from format; others only from --peak). */
  readonly peakFor: (backend: NMBackend) => DevicePeak | undefined;
  readonly progress?: ProgressSink;
  /** Stop starting new work after this `performance.now()` time; what ran is kept and the run is marked partial. */
  readonly deadline?: number;
  /** Called after each weight shape with everything measured so far (to save partial results). */
  readonly checkpoint?: (partial: SuiteOutcome) => void;
}

/** What {@link runSuite} measured; `stoppedEarly` when the deadline cut it short. */
export interface SuiteOutcome {
  readonly cases: CaseResult[];
  readonly baselines: BaselineResult[];
  readonly stoppedEarly: boolean;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function shapeText(s: MatmulShape): string {
  return `${s.m}×${s.n}×${s.k}`;
}

/**
 * Checks the result of one multiplication first, and times it only if it is right. Never throws: a failure is
 * recorded as `error`, a wrong result as `wrong` (with the first bad entry), and neither is timed.
 * @example const m = await verifyThenTime(() => b.matmul(a, w), (c) => verifySampled(a, sparse, c), () => b.time(a, w));
 */
export async function verifyThenTime(
  run: () => Promise<DenseMatrix>,
  verify: (c: DenseMatrix) => Verification,
  time: () => Promise<TimingResult>,
): Promise<Measurement> {
  let verification: Verification;
  try {
    verification = verify(await run());
  } catch (error) {
    return { status: 'error', reason: `matmul failed: ${errorText(error)}` };
  }
  if (!verification.ok) return { status: 'wrong', reason: verification.problem, verification };
  try {
    const timing = await time();
    const stats = summarizeSamples(timing.samplesMs);
    return { status: 'ok', verification, stats, samplesMs: [...timing.samplesMs], clock: timing.clock, plan: timing.plan };
  } catch (error) {
    return { status: 'error', reason: `timing failed: ${errorText(error)}`, verification };
  }
}

/** The performance model of a case on a device (bound and floor are null without a known peak). */
export function modelSummary(shape: MatmulShape, pattern: NMPattern | undefined, peak: DevicePeak | undefined): ModelSummary {
  const model = performanceModel(shape, pattern, peak);
  return {
    effectiveFlops: model.effectiveFlops,
    usefulFlops: model.usefulFlops,
    bytes: model.bytes,
    arithmeticIntensity: model.arithmeticIntensity,
    idealSpeedup: model.idealSpeedup,
    bound: model.bound ?? null,
    floorSeconds: model.floorSeconds ?? null,
  };
}

/**
 * Derived figures of a correct, timed case: TFLOP/s, speedup over every baseline that ran on the same shape,
 * percentage of the ideal 1/ρ (over the backend's own dense baseline), of the device peak and of the roofline.
 */
export function caseMetrics(
  backend: string,
  model: ModelSummary,
  medianMs: number,
  baselines: readonly BaselineResult[],
  peak: DevicePeak | undefined,
): CaseMetrics {
  const seconds = medianMs / 1e3;
  const speedups: Record<string, number> = {};
  for (const b of baselines) {
    if (b.measurement.status === 'ok' && b.measurement.stats) speedups[b.id] = b.measurement.stats.medianMs / medianMs;
  }
  const own = speedups[`${backend}-dense`] ?? null;
  const usefulTflops = model.usefulFlops / seconds / 1e12;
  return {
    effectiveTflops: model.effectiveFlops / seconds / 1e12,
    usefulTflops,
    speedups,
    speedupOverOwnDense: own,
    percentOfIdeal: own === null ? null : (100 * own) / model.idealSpeedup,
    percentOfPeak: peak ? (100 * usefulTflops * 1e12) / peak.flopsPerSecond : null,
    percentOfRoofline: model.floorSeconds === null ? null : (100 * model.floorSeconds) / seconds,
  };
}

/**
 * Weights prepared on first use, once per (weights, backend): a shape the backend refuses never prepares them, and
 * a failed prepare is remembered so the remaining shapes report it instead of retrying.
 */
class LazyWeights {
  private prepared: PreparedWeights | undefined;
  private failure: string | undefined;

  constructor(
    private readonly prepare: () => Promise<PreparedWeights>,
    private readonly what: string,
  ) {}

  async get(): Promise<PreparedWeights | { readonly failure: string }> {
    if (!this.prepared && this.failure === undefined) {
      try {
        this.prepared = await this.prepare();
      } catch (error) {
        this.failure = `${this.what} failed: ${errorText(error)}`;
      }
    }
    return this.prepared ?? { failure: this.failure! };
  }

  dispose(): void {
    this.prepared?.dispose();
  }
}

/** One measurement: skipped when the backend refuses the shape, an error when the weights could not be prepared. */
async function measureCase(
  refusal: string | undefined,
  weights: LazyWeights,
  run: (prepared: PreparedWeights) => Promise<Measurement>,
): Promise<Measurement> {
  if (refusal) return { status: 'skipped', reason: refusal };
  const prepared = await weights.get();
  return 'failure' in prepared ? { status: 'error', reason: prepared.failure } : run(prepared);
}

/** Seed of the weights of one (N, K, pattern): distinct per case, reproducible from the run's seed. */
function weightSeed(seed: number, n: number, k: number, p: NMPattern): number {
  return (Math.imul(seed + 1, 1000003) + n * 31 + k * 17 + p.keep * 7 + p.group * 3 + p.vectorLength) >>> 0;
}

/** Shapes grouped by weight shape (N, K), in first-seen order; each group's M ascending. */
function groupByWeights(shapes: readonly MatmulShape[]): { n: number; k: number; ms: number[] }[] {
  const groups = new Map<string, { n: number; k: number; ms: number[] }>();
  for (const s of shapes) {
    const key = `${s.n}x${s.k}`;
    const g = groups.get(key) ?? { n: s.n, k: s.k, ms: [] };
    if (!g.ms.includes(s.m)) g.ms.push(s.m);
    groups.set(key, g);
  }
  for (const g of groups.values()) g.ms.sort((x, y) => x - y);
  // Same-K groups next to each other, so they share one A.
  return [...groups.values()].sort((x, y) => x.k - y.k);
}

/**
 * The index-th (1-based) of `count` contiguous slices of the weight groups, balanced by work (N·K·ΣM), so that
 * same-K groups stay together and shards take similar time.
 */
export function shardOf<T extends { n: number; k: number; ms: readonly number[] }>(groups: readonly T[], index: number, count: number): T[] {
  const work = groups.map((g) => g.n * g.k * g.ms.reduce((a, b) => a + b, 0));
  const total = work.reduce((a, b) => a + b, 0);
  let before = 0;
  return groups.filter((_, i) => {
    const middle = before + work[i] / 2;
    before += work[i];
    return Math.min(count - 1, Math.floor((middle / total) * count)) === index - 1;
  });
}

/**
 * Runs a suite: for each weight shape, builds random N:M weights, times every dense baseline on the
 * decompressed weights (same math), then every backend on every pattern, verifying each result before timing.
 * Weights are uploaded once per (N, K, pattern) and reused across M. Never throws for a backend's failure.
 */
export async function runSuite(context: RunContext): Promise<SuiteOutcome> {
  const { suite, backends, baselines, seed, progress } = context;
  let groups = groupByWeights(suite.shapes);
  if (context.shard) groups = shardOf(groups, context.shard.index, context.shard.count);
  const total = groups.reduce((sum, g) => sum + g.ms.length * (baselines.length + suite.patterns.length * backends.length), 0);
  progress?.start(total);
  const timing = { warmup: suite.warmup, repeats: suite.repeats, input: context.operands };
  const cases: CaseResult[] = [];
  const baselineResults: BaselineResult[] = [];

  let aFull: DenseMatrix | undefined;
  let stoppedEarly = false;
  const outOfTime = () => context.deadline !== undefined && performance.now() > context.deadline;
  for (const group of groups) {
    if (outOfTime()) {
      stoppedEarly = true;
      break;
    }
    const { n, k } = group;
    // One A per K, for the largest M of any group with that K; smaller M get a copy of its first rows.
    if (aFull?.cols !== k) {
      aFull = undefined; // let the previous one be collected before allocating the next
      const maxM = Math.max(...groups.filter((g) => g.k === k).flatMap((g) => g.ms));
      aFull = benchDense(maxM, k, seed + k);
    }
    const aData = aFull.data;
    const aFor = (m: number): DenseMatrix => ({ rows: m, cols: k, data: aData.slice(0, m * k) });
    const weightsFor = (p: NMPattern): CompressedNM => benchCompressed(k, n, p, weightSeed(seed, n, k, p));
    const firstWeights = suite.patterns.length > 0 ? weightsFor(suite.patterns[0]) : undefined;

    // Dense baselines on the decompressed weights of the first pattern, once per shape.
    const shapeBaselines = new Map<number, BaselineResult[]>();
    if (firstWeights && baselines.length > 0) {
      const dense = decompress(firstWeights);
      for (const baseline of baselines) {
        const weights = new LazyWeights(() => baseline.prepare(dense), 'prepareDense');
        for (const m of group.ms) {
          const shape = { m, n, k };
          progress?.step(`${shapeText(shape)} dense on ${baseline.label}`);
          const measurement = await measureCase(baseline.check(shape), weights, (w) => {
            const a = aFor(m);
            return verifyThenTime(
              () => baseline.matmul(a, w),
              (c) => verifySampled(a, firstWeights, c, { seed: seed + m }),
              () => baseline.time(a, w, timing),
            );
          });
          const result: BaselineResult = {
            id: baseline.id,
            label: baseline.label,
            owner: baseline.owner,
            shape,
            measurement,
            effectiveTflops: measurement.stats ? (2 * m * n * k) / (measurement.stats.medianMs / 1e3) / 1e12 : undefined,
          };
          baselineResults.push(result);
          shapeBaselines.set(m, [...(shapeBaselines.get(m) ?? []), result]);
          progress?.baseline(result);
        }
        weights.dispose();
      }
    }

    for (const [patternIndex, pattern] of suite.patterns.entries()) {
      if (outOfTime()) {
        stoppedEarly = true;
        break;
      }
      const weights = patternIndex === 0 && firstWeights ? firstWeights : weightsFor(pattern);
      for (const backend of backends) {
        const peak = context.peakFor(backend);
        const prepared = new LazyWeights(() => backend.prepare(weights), 'prepare');
        for (const m of group.ms) {
          const shape = { m, n, k };
          progress?.step(`${shapeText(shape)} ${pattern.keep}:${pattern.group}:${pattern.vectorLength} on ${backend.name}`);
          const model = modelSummary(shape, pattern, peak);
          const check = backend.check(shape, pattern);
          const measurement = await measureCase(check.ok ? undefined : check.reason, prepared, (w) => {
            const a = aFor(m);
            return verifyThenTime(
              () => backend.matmul(a, w),
              (c) => verifySampled(a, weights, c, { seed: seed + m }),
              () => backend.time(a, w, timing),
            );
          });
          const result: CaseResult = {
            shape,
            pattern,
            backend: backend.name,
            sparsity: sparsity(pattern),
            model,
            measurement,
            metrics: measurement.stats
              ? caseMetrics(backend.name, model, measurement.stats.medianMs, shapeBaselines.get(m) ?? [], peak)
              : undefined,
          };
          cases.push(result);
          progress?.result(result);
        }
        prepared.dispose();
      }
    }
    context.checkpoint?.({ cases, baselines: baselineResults, stoppedEarly });
  }
  progress?.finish();
  return { cases, baselines: baselineResults, stoppedEarly };
}
