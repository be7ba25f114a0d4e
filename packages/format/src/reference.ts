import { assertMatmulShapes, type CompressedNM, validateCompressed } from './compressed.js';
import type { DenseMatrix } from './dense.js';

/** Exact-ish result of C = A·B in float64, with the error bound each float32 backend must meet. */
export interface ReferenceResult {
  readonly rows: number;
  readonly cols: number;
  /** C in float64. */
  readonly values: Float64Array;
  /** Σ_k |A[m][k]|·|B[k][n]| over the terms that C[m][n] sums: scales the float32 rounding bound. */
  readonly magnitudes: Float64Array;
}

/**
 * The executable definition of N:M SpMM: C = A·B computed straight from the format's semantics in float64,
 * iterating only kept rows (so an entry of A that meets only pruned rows contributes nothing, even NaN).
 * Slow and obviously correct: the oracle of the conformance suite and the CPU reference backend.
 * @example const { values } = referenceSpmm(a, pruneByMagnitude(b, nmPattern(2, 4)));
 */
export function referenceSpmm(a: DenseMatrix, b: CompressedNM): ReferenceResult {
  const layout = checkSpmm(a, b);
  const magnitudes = new Float64Array(a.rows * b.cols);
  return { rows: a.rows, cols: b.cols, values: spmmFloat64(a, b, layout, magnitudes), magnitudes };
}

/**
 * C of {@link referenceSpmm} alone, without the error-bound magnitudes (half the memory): for running the oracle as a
 * backend rather than checking another against it.
 */
export function referenceSpmmValues(a: DenseMatrix, b: CompressedNM): Float64Array {
  return spmmFloat64(a, b, checkSpmm(a, b));
}

/** Dense C = A·B in float64 (the check of every N:M result against its decompressed weights). */
export function referenceDense(a: DenseMatrix, b: DenseMatrix): ReferenceResult {
  assertMatmulShapes(a, b);
  const magnitudes = new Float64Array(a.rows * b.cols);
  return { rows: a.rows, cols: b.cols, values: denseFloat64(a, b, magnitudes), magnitudes };
}

/** C of {@link referenceDense} alone, without the error-bound magnitudes. */
export function referenceDenseValues(a: DenseMatrix, b: DenseMatrix): Float64Array {
  assertMatmulShapes(a, b);
  return denseFloat64(a, b);
}

/** Validates both operands (typed errors, before anything is allocated); the weights' layout. */
function checkSpmm(a: DenseMatrix, b: CompressedNM): ReturnType<typeof validateCompressed> {
  const layout = validateCompressed(b);
  assertMatmulShapes(a, b);
  return layout;
}

/** C = A·B over the kept rows in float64 (operands checked); adds Σ|terms| into `magnitudes` when given. */
function spmmFloat64(a: DenseMatrix, b: CompressedNM, layout: ReturnType<typeof validateCompressed>, magnitudes?: Float64Array): Float64Array {
  const M = a.rows;
  const N = b.cols;
  const K = b.rows;
  const { keep, group, vectorLength } = b.pattern;
  const values = new Float64Array(M * N);
  for (let w = 0; w < layout.keptRows; w++) {
    const base = Math.floor(w / keep) * group;
    for (let vector = 0; vector < layout.vectors; vector++) {
      const k = base + b.indices[w * layout.vectors + vector];
      if (k >= K) continue;
      const c1 = Math.min(N, (vector + 1) * vectorLength);
      for (let m = 0; m < M; m++) {
        const av = a.data[m * K + k];
        for (let c = vector * vectorLength; c < c1; c++) {
          const p = av * b.values[w * N + c];
          values[m * N + c] += p;
          if (magnitudes) magnitudes[m * N + c] += Math.abs(p);
        }
      }
    }
  }
  return values;
}

/** Dense C = A·B in float64 (operands checked); adds Σ|terms| into `magnitudes` when given. */
function denseFloat64(a: DenseMatrix, b: DenseMatrix, magnitudes?: Float64Array): Float64Array {
  const M = a.rows;
  const N = b.cols;
  const K = a.cols;
  const values = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let k = 0; k < K; k++) {
      // No skip of zero entries of A: 0 · ±Inf and 0 · NaN are NaN, as in every dense kernel.
      const av = a.data[m * K + k];
      for (let n = 0; n < N; n++) {
        const p = av * b.data[k * N + n];
        values[m * N + n] += p;
        if (magnitudes) magnitudes[m * N + n] += Math.abs(p);
      }
    }
  }
  return values;
}

/** Outcome of comparing a float32 result with a reference. */
export interface Comparison {
  readonly ok: boolean;
  /** Largest |got − expected| over finite entries. */
  readonly maxAbsError: number;
  /** Largest error divided by its allowed bound (≤ 1 passes). */
  readonly worstRatio: number;
  /** First failing element, if any: [row, col, got, expected, bound]. */
  readonly firstMismatch?: readonly [number, number, number, number, number];
}

/**
 * Compares `got` with a reference using a bound that scales with the reduction length: for a sum of `terms`
 * float32 products in any order (split-K included), |error| ≤ γ·Σ|a·b| with γ = (terms + 2)·2⁻²⁴, which we
 * double for safety. Non-finite expectations must match exactly (NaN for NaN, same-signed Inf).
 * @param terms the longest reduction (K, or kept rows for N:M).
 */
export function compareWithReference(got: Float32Array, ref: ReferenceResult, terms: number): Comparison {
  const gamma = 2 * (terms + 2) * 2 ** -24;
  let maxAbsError = 0;
  let worstRatio = 0;
  let firstMismatch: Comparison['firstMismatch'];
  if (got.length !== ref.values.length) {
    return { ok: false, maxAbsError: Number.POSITIVE_INFINITY, worstRatio: Number.POSITIVE_INFINITY };
  }
  for (let i = 0; i < got.length; i++) {
    const expected = ref.values[i];
    const value = got[i];
    let bad: boolean;
    let bound = 0;
    if (!Number.isFinite(expected) || !Number.isFinite(ref.magnitudes[i])) {
      // Inf − Inf yields NaN in any order of summation, so the float64 sum already says NaN or which infinity:
      // NaN must stay NaN and ±Inf must be the same infinity (0 or −Inf where +Inf is expected is wrong).
      if (Number.isNaN(expected)) bad = !Number.isNaN(value);
      else bad = !Number.isFinite(expected) && value !== expected;
      if (bad) worstRatio = Number.POSITIVE_INFINITY;
    } else {
      bound = gamma * ref.magnitudes[i] + 1e-30;
      const error = Math.abs(value - expected);
      bad = !(error <= bound);
      if (Number.isFinite(error)) maxAbsError = Math.max(maxAbsError, error);
      worstRatio = Math.max(worstRatio, bad ? Number.POSITIVE_INFINITY : error / bound);
    }
    if (bad && !firstMismatch) {
      firstMismatch = [Math.floor(i / ref.cols), i % ref.cols, value, expected, bound];
    }
  }
  return { ok: !firstMismatch, maxAbsError, worstRatio, firstMismatch };
}
