import { type CompressedNM, type MatmulShape, type NMPattern, WIDEN_MAX_GROWTH, type WidenMode, widenedCopy, widenedCopyBound } from '@nmkit/format';
import { DECODE_ROWS } from './planner.js';
import { hasTiledPath, WARP_N } from './retile.js';

/**
 * Whether `prepare()` also keeps a widened copy of weights whose vectors are shorter than a warp (V not a multiple
 * of 32: element-wise 2:4 and the like), for the tiled kernels (format `widenVectors`, {@link WidenMode}): under
 * `auto` when the copy holds at most {@link WIDEN_MAX_GROWTH}× the values (2:4, 4:8 and 16:32 with V = 1 qualify;
 * 1:4 with V = 1 would be 4×).
 */
export { WIDEN_MAX_GROWTH, type WidenMode };

/**
 * Calls with more rows than this run widened weights on the tiled kernels; up to it the streaming and narrow decode
 * kernels read the compressed weights, whose fewer bytes are what counts there.
 */
export const WIDE_MIN_ROWS = DECODE_ROWS;

/** The widened copy (V = 32) that prepare() keeps of these weights under `mode`, or undefined when it keeps none. */
export function widenedCopyFor(weights: CompressedNM, mode: WidenMode): CompressedNM | undefined {
  return hasTiledPath(weights.pattern) ? undefined : widenedCopy(weights, WARP_N, mode);
}

/**
 * What check() can say without the weights: the widened pattern prepare() would use for a call of this shape, from
 * the largest union the pattern allows (format `widestWidenedPattern`), or undefined.
 */
export function widenedPatternBound(shape: MatmulShape, pattern: NMPattern, mode: WidenMode): NMPattern | undefined {
  if (hasTiledPath(pattern) || shape.m <= WIDE_MIN_ROWS) return undefined;
  return widenedCopyBound(pattern, WARP_N, mode);
}
