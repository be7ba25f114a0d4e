import { type CompressedNM, compressedLayout, type DenseMatrix, seededRandom } from '@nmkit/format';

/** Outcome of checking a backend's C against float64 sums of sampled entries. */
export interface Verification {
  readonly ok: boolean;
  /** Entries recomputed in float64. */
  readonly checkedEntries: number;
  /** M·N. */
  readonly totalEntries: number;
  /** Largest |got − expected| among checked entries. */
  readonly maxAbsError: number;
  /** Largest error over its allowed bound (≤ 1 passes). */
  readonly worstRatio: number;
  /** Why it failed, naming the first bad entry; undefined when ok. */
  readonly problem?: string;
}

/** How much checking to do. */
export interface VerifyOptions {
  /** Budget of float64 multiply-adds (default 4·10⁶: a few milliseconds). Small problems are checked in full. */
  readonly maxOps?: number;
  readonly seed?: number;
}

/** `count` distinct indices in [0, size): always the first and last, then random ones, ascending. */
function sampleIndices(size: number, count: number, rand: () => number): number[] {
  if (count >= size) return Array.from({ length: size }, (_, i) => i);
  const chosen = new Set<number>([0, size - 1]);
  while (chosen.size < count) chosen.add(Math.floor(rand() * size));
  return [...chosen].sort((x, y) => x - y);
}

/**
 * Checks C = A·B against float64 sums computed straight from the compressed format (values and indices), for a
 * grid of sampled rows × columns (always including the first and last of each, so ragged edges are covered) —
 * every entry when the problem is small. Also rejects any non-finite entry of C (the operands are finite).
 * The bound is the float32 summation bound of `compareWithReference` over K terms, so a dense baseline computing
 * the same product from the decompressed weights passes the same check.
 * @example const v = verifySampled(a, b, await backend.matmul(a, prepared)); if (!v.ok) console.log(v.problem);
 */
export function verifySampled(a: DenseMatrix, b: CompressedNM, c: DenseMatrix, options: VerifyOptions = {}): Verification {
  const M = a.rows;
  const K = a.cols;
  const N = b.cols;
  const totalEntries = M * N;
  const fail = (problem: string): Verification => ({
    ok: false,
    checkedEntries: 0,
    totalEntries,
    maxAbsError: Number.POSITIVE_INFINITY,
    worstRatio: Number.POSITIVE_INFINITY,
    problem,
  });
  if (c.rows !== M || c.cols !== N || c.data.length !== totalEntries) {
    return fail(`C is ${c.rows}×${c.cols} (${c.data.length} values) but A ${M}×${K} · B ${K}×${N} must give ${M}×${N}.`);
  }
  for (let i = 0; i < c.data.length; i++) {
    if (!Number.isFinite(c.data[i])) {
      return fail(`C[${Math.floor(i / N)}][${i % N}] = ${c.data[i]}, but every operand is finite.`);
    }
  }

  const layout = compressedLayout(K, N, b.pattern);
  const { keep, group, vectorLength } = b.pattern;
  const rand = seededRandom(options.seed ?? 12345);
  const entryBudget = Math.max(256, Math.floor((options.maxOps ?? 4e6) / layout.keptRows));
  const everything = totalEntries <= entryBudget;
  const rows = sampleIndices(M, everything ? M : Math.max(2, Math.min(32, Math.ceil(Math.sqrt(entryBudget)))), rand);
  const cols = sampleIndices(N, Math.max(2, Math.floor(entryBudget / rows.length)), rand);

  const sums = new Float64Array(rows.length * cols.length);
  const magnitudes = new Float64Array(rows.length * cols.length);
  for (let w = 0; w < layout.keptRows; w++) {
    const base = Math.floor(w / keep) * group;
    for (let j = 0; j < cols.length; j++) {
      const col = cols[j];
      const k = base + b.indices[w * layout.vectors + Math.floor(col / vectorLength)];
      if (k >= K) continue; // padding rows beyond K hold zeros and have no column of A
      const bv = b.values[w * N + col];
      for (let i = 0; i < rows.length; i++) {
        const p = a.data[rows[i] * K + k] * bv;
        sums[i * cols.length + j] += p;
        magnitudes[i * cols.length + j] += Math.abs(p);
      }
    }
  }

  const gamma = 2 * (K + 2) * 2 ** -24;
  let maxAbsError = 0;
  let worstRatio = 0;
  for (let i = 0; i < rows.length; i++) {
    for (let j = 0; j < cols.length; j++) {
      const expected = sums[i * cols.length + j];
      const got = c.data[rows[i] * N + cols[j]];
      const bound = gamma * magnitudes[i * cols.length + j] + 1e-30;
      const error = Math.abs(got - expected);
      maxAbsError = Math.max(maxAbsError, error);
      worstRatio = Math.max(worstRatio, error / bound);
      if (!(error <= bound)) {
        return {
          ok: false,
          checkedEntries: rows.length * cols.length,
          totalEntries,
          maxAbsError,
          worstRatio,
          problem: `C[${rows[i]}][${cols[j]}] = ${got}, expected ${expected} (|error| ${error.toExponential(2)} > bound ${bound.toExponential(2)}).`,
        };
      }
    }
  }
  return { ok: true, checkedEntries: rows.length * cols.length, totalEntries, maxAbsError, worstRatio };
}
