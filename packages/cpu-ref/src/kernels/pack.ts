import type { CompressedNM, DenseMatrix } from '@nmkit/format';
import { NR } from './micro-kernel.js';
import { type StripMap, stripColumn, stripMap, stripWidth } from './strips.js';

/** Allocates a float array in shared memory (for workers) or ordinary memory. */
export function allocateFloats(length: number, shared: boolean): Float32Array {
  return new Float32Array(shared ? new SharedArrayBuffer(length * 4) : new ArrayBuffer(length * 4));
}

function allocateInts(length: number, shared: boolean): Int32Array {
  return new Int32Array(shared ? new SharedArrayBuffer(length * 4) : new ArrayBuffer(length * 4));
}

/**
 * Packs compressed values into strips of 8 columns that never cross a vector: strip s, kept row w is
 * `packed[(s·W + w)·8 .. +7]` (zero-padded past the strip's width), so the register tile reads B contiguously.
 * @example packNMStrips(sparse, stripMap(sparse.cols, 32), true)
 */
export function packNMStrips(matrix: CompressedNM, map: StripMap, shared: boolean): Float32Array {
  const keptRows = matrix.values.length / matrix.cols;
  const packed = allocateFloats(map.strips * keptRows * NR, shared);
  const { values, cols } = matrix;
  for (let s = 0; s < map.strips; s++) {
    const col0 = stripColumn(map, s);
    const width = stripWidth(map, s);
    for (let w = 0; w < keptRows; w++) {
      const src = w * cols + col0;
      const dst = (s * keptRows + w) * NR;
      for (let j = 0; j < width; j++) packed[dst + j] = values[src + j];
    }
  }
  return packed;
}

/**
 * Dense B (K×N) packed the same way as {@link packNMStrips}: strip s, row k at `packed[(s·K + k)·8 .. +7]`.
 * @example packDenseStrips(b, true)
 */
export function packDenseStrips(matrix: DenseMatrix, shared: boolean): Float32Array {
  const map = stripMap(matrix.cols, matrix.cols);
  const { rows, cols, data } = matrix;
  const packed = allocateFloats(map.strips * rows * NR, shared);
  for (let s = 0; s < map.strips; s++) {
    const col0 = stripColumn(map, s);
    const width = stripWidth(map, s);
    for (let k = 0; k < rows; k++) {
      const src = k * cols + col0;
      const dst = (s * rows + k) * NR;
      for (let j = 0; j < width; j++) packed[dst + j] = data[src + j];
    }
  }
  return packed;
}

/**
 * Absolute dense row (`group·window + offset`) of every kept row and vector, −1 where it points into K padding.
 * `vectorMajor` (strip kernel: one vector's kept rows contiguous) or row-major (general kernel).
 * @example keptRowTable(sparse, true, true)[v * W + w]
 */
export function keptRowTable(matrix: CompressedNM, vectorMajor: boolean, shared: boolean): Int32Array {
  const { rows, cols, pattern, indices } = matrix;
  const vectors = Math.ceil(cols / pattern.vectorLength);
  const keptRows = indices.length / vectors;
  const table = allocateInts(keptRows * vectors, shared);
  for (let w = 0; w < keptRows; w++) {
    const base = Math.floor(w / pattern.keep) * pattern.group;
    for (let v = 0; v < vectors; v++) {
      const row = base + indices[w * vectors + v];
      table[vectorMajor ? v * keptRows + w : w * vectors + v] = row < rows ? row : -1;
    }
  }
  return table;
}

/** Copies values into shared memory (or a private copy) unchanged, for the general kernel. */
export function copyFloats(values: Float32Array, shared: boolean): Float32Array {
  const copy = allocateFloats(values.length, shared);
  copy.set(values);
  return copy;
}
