/** Robust summary of repeated timings, in milliseconds. */
export interface SampleStats {
  readonly count: number;
  readonly medianMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  /** First and third quartiles (linear interpolation between order statistics). */
  readonly q1Ms: number;
  readonly q3Ms: number;
  /** Median absolute deviation from the median. */
  readonly madMs: number;
  /** Half the interquartile range over the median: the "± x %" of the tables (0 for one sample). */
  readonly relativeSpread: number;
}

/**
 * The q-quantile (0 ≤ q ≤ 1) of sorted samples, interpolating linearly between neighbours (NumPy's default).
 * @example quantile([1, 2, 3, 4], 0.5) // 2.5
 */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new RangeError('quantile of an empty sample');
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const above = Math.min(sorted.length - 1, below + 1);
  return sorted[below] + (sorted[above] - sorted[below]) * (position - below);
}

/**
 * Median and spread of timing samples. Throws on an empty or non-finite sample: a benchmark must not report one.
 * @example summarizeSamples([3, 1, 2]).medianMs // 2
 */
export function summarizeSamples(samplesMs: readonly number[]): SampleStats {
  if (samplesMs.length === 0) throw new RangeError('no timing samples to summarise');
  for (const s of samplesMs) {
    if (!Number.isFinite(s) || s < 0) throw new RangeError(`timing sample ${s} is not a finite non-negative time`);
  }
  const sorted = [...samplesMs].sort((x, y) => x - y);
  const medianMs = quantile(sorted, 0.5);
  const q1Ms = quantile(sorted, 0.25);
  const q3Ms = quantile(sorted, 0.75);
  const deviations = sorted.map((s) => Math.abs(s - medianMs)).sort((x, y) => x - y);
  return {
    count: sorted.length,
    medianMs,
    minMs: sorted[0],
    maxMs: sorted[sorted.length - 1],
    q1Ms,
    q3Ms,
    madMs: quantile(deviations, 0.5),
    relativeSpread: medianMs > 0 ? (q3Ms - q1Ms) / 2 / medianMs : 0,
  };
}

/**
 * Geometric mean of positive numbers (the right mean for ratios such as speedups); NaN for an empty list.
 * @example geometricMean([1, 4]) // 2
 */
export function geometricMean(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  let logSum = 0;
  for (const v of values) logSum += Math.log(v);
  return Math.exp(logSum / values.length);
}
