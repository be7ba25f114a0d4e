import { type CompressedNM, compressedLayout } from './compressed.js';
import { ShapeError } from './errors.js';
import type { NMPattern } from './pattern.js';

/**
 * Whether a backend keeps a widened copy of weights its fast kernels cannot take as they are (element-wise 2:4 and
 * the like): `auto` when the copy holds at most {@link WIDEN_MAX_GROWTH}× the compressed values, `always` whatever it
 * costs (never more than the dense matrix), `never`. Which weights qualify is the backend's call (its fast paths).
 */
export type WidenMode = 'auto' | 'always' | 'never';

/** The modes of {@link WidenMode}, for validating an option. */
export const WIDEN_MODES: readonly WidenMode[] = ['auto', 'always', 'never'];

/** `auto` keeps a widened copy holding at most this many times the compressed values (2:4 with V = 1 → 4:4: 2). */
export const WIDEN_MAX_GROWTH = 2;

/**
 * The widened copy (to `vectorLength`, {@link widenVectors}) that `mode` keeps of these weights, or undefined for
 * none: one scan for keep', then the copy only where `mode` takes it.
 */
export function widenedCopy(weights: CompressedNM, vectorLength: number, mode: WidenMode): CompressedNM | undefined {
  if (mode === 'never') return undefined;
  const keep = widenedKeep(weights, vectorLength);
  if (mode === 'auto' && keep > WIDEN_MAX_GROWTH * weights.pattern.keep) return undefined;
  return buildWidened(weights, vectorLength, keep);
}

/**
 * What a backend's check() can say without the weights: the widest copy (to `vectorLength`) that `mode` would keep
 * of weights with this pattern ({@link widestWidenedPattern}), or undefined when it would keep none.
 */
export function widenedCopyBound(pattern: NMPattern, vectorLength: number, mode: WidenMode): NMPattern | undefined {
  if (mode === 'never') return undefined;
  const widest = widestWidenedPattern(pattern, vectorLength);
  return mode === 'always' || widest.keep <= WIDEN_MAX_GROWTH * pattern.keep ? widest : undefined;
}

/** What {@link widenVectors} built: the widened weights and what they cost. */
export interface WidenedWeights {
  /** The same K×N matrix under `keep':group` with the wider vector length. */
  readonly weights: CompressedNM;
  /** keep': the largest union of kept rows over all (window, wide vector). */
  readonly keep: number;
  /** Stored values of the widened form over those of the original: keep' / keep. */
  readonly growth: number;
}

/**
 * The widest pattern {@link widenVectors} can produce for weights of `pattern`, known without the weights: keep'
 * at most keep times the vectors that `vectorLength` consecutive columns meet, and at most group.
 * @example widestWidenedPattern(nmPattern(2, 4)) // 4:4 (V=32): 32 columns of element-wise 2:4 can use every row
 */
export function widestWidenedPattern(pattern: NMPattern, vectorLength = 32): NMPattern {
  const v = pattern.vectorLength;
  const vectorsMet = Math.ceil(vectorLength / v) + (vectorLength % v === 0 ? 0 : 1);
  return { keep: Math.min(pattern.group, pattern.keep * vectorsMet), group: pattern.group, vectorLength };
}

/**
 * The largest number of distinct kept rows any window of `matrix` has over `vectorLength` consecutive columns:
 * the keep' that {@link widenVectors} would use, without building anything.
 * @example widenedKeep(randomCompressed(64, 64, nmPattern(2, 4))) // 4: 32 columns use every row of a window
 */
export function widenedKeep(matrix: CompressedNM, vectorLength = 32): number {
  const { windows, vectors } = checkedLayout(matrix, vectorLength);
  const { keep, group, vectorLength: v } = matrix.pattern;
  // Float64: the stamps count (window, wide vector) pairs, which can pass 2³¹ for very large weights.
  const mark = new Float64Array(group).fill(-1);
  let widest = 1;
  let stamp = -1;
  for (let window = 0; window < windows; window++) {
    for (let wide = 0; wide * vectorLength < matrix.cols; wide++) {
      stamp++;
      let union = 0;
      const [first, last] = vectorsOf(wide, vectorLength, v, matrix.cols);
      for (let vector = first; vector <= last; vector++) {
        for (let j = 0; j < keep; j++) {
          const offset = matrix.indices[(window * keep + j) * vectors + vector];
          if (mark[offset] !== stamp) {
            mark[offset] = stamp;
            union++;
          }
        }
      }
      widest = Math.max(widest, union);
    }
  }
  return widest;
}

/**
 * Re-expresses `matrix` with a longer vector length (default 32, a warp's width), so that kernels whose fast path
 * needs every index shared by `vectorLength` columns can run weights pruned per column (element-wise 2:4, V = 1) or
 * with short vectors. Every (window, wide vector) keeps the union of the rows its columns keep, padded with unused
 * rows to the widest union keep'; a column's value in a row it did not keep is 0. The product is unchanged for
 * finite A: an entry of A that meets only pruned rows is now multiplied by 0, so a NaN or ±Inf there would reach C
 * (the format's semantics skip it); callers must route non-finite A to the original weights.
 * Costs keep'/keep times the values (for 2:4 with V = 1, keep' is 4: the dense size).
 * @example const { weights, growth } = widenVectors(elementwise24); // weights.pattern: 4:4 (V=32), growth 2
 */
export function widenVectors(matrix: CompressedNM, vectorLength = 32): WidenedWeights {
  const keep = widenedKeep(matrix, vectorLength);
  return { weights: buildWidened(matrix, vectorLength, keep), keep, growth: keep / matrix.pattern.keep };
}

/** The widened matrix with `keepWide` = {@link widenedKeep}(matrix, vectorLength) rows per window. */
function buildWidened(matrix: CompressedNM, vectorLength: number, keepWide: number): CompressedNM {
  const { windows, vectors } = checkedLayout(matrix, vectorLength);
  const { keep, group, vectorLength: v } = matrix.pattern;
  const cols = matrix.cols;
  const pattern: NMPattern = { keep: keepWide, group, vectorLength };
  const layout = compressedLayout(matrix.rows, cols, pattern);
  const values = new Float32Array(layout.valuesLength);
  const indices = new Uint8Array(layout.indicesLength);
  const used = new Uint8Array(group);
  const slotOf = new Int32Array(group);
  for (let window = 0; window < windows; window++) {
    for (let wide = 0; wide < layout.vectors; wide++) {
      used.fill(0);
      const [first, last] = vectorsOf(wide, vectorLength, v, cols);
      for (let vector = first; vector <= last; vector++) {
        for (let j = 0; j < keep; j++) used[matrix.indices[(window * keep + j) * vectors + vector]] = 1;
      }
      // Pad the union with the lowest unused rows (their values stay 0), then list the rows in ascending order.
      let count = used.reduce((sum, u) => sum + u, 0);
      for (let offset = 0; offset < group && count < keepWide; offset++) {
        if (!used[offset]) {
          used[offset] = 1;
          count++;
        }
      }
      let slot = 0;
      for (let offset = 0; offset < group; offset++) {
        if (!used[offset]) continue;
        slotOf[offset] = slot;
        indices[(window * keepWide + slot) * layout.vectors + wide] = offset;
        slot++;
      }
      for (let vector = first; vector <= last; vector++) {
        const c0 = Math.max(vector * v, wide * vectorLength);
        const c1 = Math.min(cols, (vector + 1) * v, (wide + 1) * vectorLength);
        for (let j = 0; j < keep; j++) {
          const from = (window * keep + j) * cols;
          const to = (window * keepWide + slotOf[matrix.indices[(window * keep + j) * vectors + vector]]) * cols;
          for (let c = c0; c < c1; c++) values[to + c] = matrix.values[from + c];
        }
      }
    }
  }
  return { rows: matrix.rows, cols, pattern, values, indices };
}

function checkedLayout(matrix: CompressedNM, vectorLength: number) {
  if (!Number.isInteger(vectorLength) || vectorLength < 1) {
    throw new ShapeError(`widenVectors needs a positive integer vector length, got ${vectorLength}.`, 'pass e.g. 32.');
  }
  return compressedLayout(matrix.rows, matrix.cols, matrix.pattern);
}

/** The first and last original vectors (length `v`) that share columns with wide vector `wide`. */
function vectorsOf(wide: number, vectorLength: number, v: number, cols: number): [number, number] {
  return [Math.floor((wide * vectorLength) / v), Math.floor((Math.min(cols, (wide + 1) * vectorLength) - 1) / v)];
}
