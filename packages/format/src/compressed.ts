import { assertDenseMatrix, type DenseMatrix } from './dense.js';
import { FormatError, ShapeError } from './errors.js';
import { assertPattern, describePattern, type NMPattern } from './pattern.js';

/**
 * B (K×N) compressed to a vector-wise N:M pattern.
 *
 * Layout (row-major, little-endian in files):
 * - `values`: `keptRows × cols` floats. Row `w` holds, for every column, the value of the `(w mod keep)`-th kept
 *   row of window `⌊w / keep⌋` in that column's vector.
 * - `indices`: `keptRows × vectors` bytes: the in-window offset of that kept row, strictly ascending within a
 *   window for each vector.
 *
 * Ragged edges: when K is not a multiple of `group`, B is treated as if padded with zero rows up to the next
 * multiple (`paddedRows`); an index may point into that padding only if the values it selects are all zero (the
 * pruner only does so when the last window has fewer than `keep` real rows). When N is not a multiple of
 * `vectorLength`, the last vector is simply narrower; values are never padded along N.
 *
 * Semantics: `C[m][n] = Σ_w A[m][group·⌊w/keep⌋ + indices[w][⌊n/V⌋]] · values[w][n]`, skipping padded rows.
 * An entry of A that only meets pruned rows contributes nothing, even if it is NaN or ±Inf.
 */
export interface CompressedNM {
  /** K: rows of the logical dense matrix (the reduction dimension). */
  readonly rows: number;
  /** N: columns (outputs). */
  readonly cols: number;
  readonly pattern: NMPattern;
  readonly values: Float32Array;
  readonly indices: Uint8Array;
}

/** Derived sizes of a compressed matrix. */
export interface CompressedLayout {
  /** ⌈K / group⌉. */
  readonly windows: number;
  /** K rounded up to a multiple of group. */
  readonly paddedRows: number;
  /** W = windows · keep: rows of `values` and `indices`. */
  readonly keptRows: number;
  /** ⌈N / vectorLength⌉: columns of `indices`. */
  readonly vectors: number;
  readonly valuesLength: number;
  readonly indicesLength: number;
}

/**
 * Sizes of the compressed form of a `rows × cols` matrix under `pattern`.
 * @example compressedLayout(64, 64, nmPattern(8, 32, 32)).keptRows // 16
 */
export function compressedLayout(rows: number, cols: number, pattern: NMPattern): CompressedLayout {
  assertPattern(pattern);
  if (!Number.isSafeInteger(rows) || rows < 1 || !Number.isSafeInteger(cols) || cols < 1) {
    throw new ShapeError(`A compressed matrix needs positive integer dimensions, got ${rows}×${cols}.`);
  }
  const windows = Math.ceil(rows / pattern.group);
  const keptRows = windows * pattern.keep;
  const vectors = Math.ceil(cols / pattern.vectorLength);
  return {
    windows,
    paddedRows: windows * pattern.group,
    keptRows,
    vectors,
    valuesLength: keptRows * cols,
    indicesLength: keptRows * vectors,
  };
}

/**
 * Checks every invariant of a compressed matrix: pattern, array types and lengths, index range and strict
 * ascending order per (window, vector), and zero values wherever an index points into K padding.
 * Every backend calls this before data reaches a device.
 * @throws {FormatError} naming the first window and vector that break an invariant.
 */
export function validateCompressed(matrix: CompressedNM): CompressedLayout {
  if (typeof matrix !== 'object' || matrix === null) {
    throw new FormatError(`Expected a compressed N:M matrix, got ${matrix === null ? 'null' : typeof matrix}.`);
  }
  const { rows, cols, pattern, values, indices } = matrix;
  const layout = compressedLayout(rows, cols, pattern);
  if (!(values instanceof Float32Array)) {
    throw new FormatError('Compressed values must be a Float32Array.');
  }
  if (!(indices instanceof Uint8Array)) {
    throw new FormatError('Compressed indices must be a Uint8Array (one in-window offset per kept row and vector).');
  }
  const where = `${rows}×${cols} matrix with pattern ${describePattern(pattern)}`;
  if (values.length !== layout.valuesLength) {
    throw new FormatError(
      `Compressed values have ${values.length} elements; a ${where} needs ${layout.keptRows}×${cols} = ${layout.valuesLength}.`,
      'build the matrix with pruneByMagnitude() or compressWithMask().',
    );
  }
  if (indices.length !== layout.indicesLength) {
    throw new FormatError(
      `Compressed indices have ${indices.length} entries; a ${where} needs ${layout.keptRows}×${layout.vectors} = ${layout.indicesLength}.`,
      'build the matrix with pruneByMagnitude() or compressWithMask().',
    );
  }
  const { keep, group, vectorLength } = pattern;
  for (let window = 0; window < layout.windows; window++) {
    const realRows = Math.min(group, rows - window * group);
    for (let vector = 0; vector < layout.vectors; vector++) {
      let previous = -1;
      for (let j = 0; j < keep; j++) {
        const w = window * keep + j;
        const offset = indices[w * layout.vectors + vector];
        if (offset >= group || offset <= previous) {
          throw new FormatError(
            `Corrupt indices in window ${window} (rows ${window * group}–${window * group + group - 1}), vector ${vector}: ` +
              `offset ${offset} at kept position ${j} must be < group=${group} and greater than the previous offset ${previous}.`,
            'indices must be strictly ascending in-window offsets.',
          );
        }
        if (offset >= realRows) {
          const c0 = vector * vectorLength;
          const c1 = Math.min(cols, c0 + vectorLength);
          for (let c = c0; c < c1; c++) {
            if (values[w * cols + c] !== 0) {
              throw new FormatError(
                `Window ${window}, vector ${vector}: offset ${offset} points past K=${rows} into padding, ` +
                  `but its value in column ${c} is ${values[w * cols + c]} (padding values must be 0).`,
              );
            }
          }
        }
        previous = offset;
      }
    }
  }
  return layout;
}

/**
 * Expands a compressed matrix back to dense K×N (pruned entries are 0).
 * @example decompress(pruneByMagnitude(b, nmPattern(2, 4))).data
 */
export function decompress(matrix: CompressedNM): DenseMatrix {
  const layout = validateCompressed(matrix);
  const { rows, cols, pattern, values, indices } = matrix;
  const out = new Float32Array(rows * cols);
  const { keep, group, vectorLength } = pattern;
  for (let w = 0; w < layout.keptRows; w++) {
    const base = Math.floor(w / keep) * group;
    for (let vector = 0; vector < layout.vectors; vector++) {
      const row = base + indices[w * layout.vectors + vector];
      if (row >= rows) continue;
      const c1 = Math.min(cols, (vector + 1) * vectorLength);
      for (let c = vector * vectorLength; c < c1; c++) out[row * cols + c] = values[w * cols + c];
    }
  }
  return { rows, cols, data: out };
}

/**
 * Checks that A (M×K) can multiply compressed/prepared B (K×N).
 * @throws {ShapeError} naming both operands' shapes.
 */
export function assertMatmulShapes(a: DenseMatrix, b: { rows: number; cols: number }, bName = 'B'): void {
  assertDenseMatrix(a, 'A');
  if (a.cols !== b.rows) {
    throw new ShapeError(
      `Shape mismatch in C = A·${bName}: A is ${a.rows}×${a.cols} and ${bName} is ${b.rows}×${b.cols}; ` +
        `A's columns (${a.cols}) must equal ${bName}'s rows (${b.rows}).`,
      `pass A with ${b.rows} columns (K), or weights with ${a.cols} rows.`,
    );
  }
}
