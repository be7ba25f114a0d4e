import { NR } from './micro-kernel.js';

/**
 * How the columns of B (and C) are cut into packed strips of at most {@link NR} columns. A strip never crosses a
 * vector boundary, so one gathered A panel serves the whole strip. Dense B is one "vector" of width N.
 */
export interface StripMap {
  /** Columns of B and C. */
  readonly cols: number;
  /** Columns sharing one set of kept rows (N for dense). */
  readonly vectorLength: number;
  readonly vectors: number;
  /** Strips per full vector: ⌈V / NR⌉. */
  readonly stripsPerVector: number;
  readonly strips: number;
}

/**
 * The strip map of an N-column matrix whose columns share kept rows in vectors of `vectorLength`.
 * @example stripMap(100, 32).strips // 3 full vectors × 4 strips + ⌈4 / 8⌉ = 13
 */
export function stripMap(cols: number, vectorLength: number): StripMap {
  const vectors = Math.ceil(cols / vectorLength);
  const stripsPerVector = Math.ceil(vectorLength / NR);
  const lastWidth = cols - (vectors - 1) * vectorLength;
  const strips = (vectors - 1) * stripsPerVector + Math.ceil(lastWidth / NR);
  return { cols, vectorLength, vectors, stripsPerVector, strips };
}

/** First strip of vector `v`. */
export function firstStrip(map: StripMap, v: number): number {
  return v * map.stripsPerVector;
}

/** First column of strip `s`. */
export function stripColumn(map: StripMap, s: number): number {
  const v = Math.floor(s / map.stripsPerVector);
  return v * map.vectorLength + (s - v * map.stripsPerVector) * NR;
}

/** Valid columns of strip `s` (≤ NR; less at the end of a vector or of the matrix). */
export function stripWidth(map: StripMap, s: number): number {
  const v = Math.floor(s / map.stripsPerVector);
  const vectorEnd = Math.min(map.cols, (v + 1) * map.vectorLength);
  return Math.min(NR, vectorEnd - stripColumn(map, s));
}
