import { PatternError } from './errors.js';

/**
 * A vector-wise N:M sparsity pattern for the weight operand B (K×N).
 *
 * Along K, rows are cut into windows of `group` consecutive rows; in each window exactly `keep` rows are kept,
 * and the kept set is shared by `vectorLength` consecutive columns (a "vector"). `vectorLength = 1` is
 * element-wise N:M, such as NVIDIA's 2:4. (We avoid the names N and M, which belong to the GEMM.)
 *
 * @example
 * const p = nmPattern(8, 32, 32); // 75 % sparse, vectors of 32 columns
 */
export interface NMPattern {
  /** Rows kept per window, 1 ≤ keep ≤ group. */
  readonly keep: number;
  /** Window length along K, 1 ≤ group ≤ 256 (offsets must fit in a byte). */
  readonly group: number;
  /** Columns that share one selection, ≥ 1. */
  readonly vectorLength: number;
}

/** Largest window length: in-window offsets are stored as one byte. */
export const MAX_GROUP = 256;

/**
 * Builds and validates a pattern.
 * @throws {PatternError} when a field is not an integer in range.
 * @example nmPattern(2, 4, 1) // NVIDIA-style 2:4, element-wise
 */
export function nmPattern(keep: number, group: number, vectorLength = 1): NMPattern {
  const pattern = { keep, group, vectorLength };
  assertPattern(pattern);
  return pattern;
}

/**
 * Throws a {@link PatternError} unless `pattern` is a valid N:M pattern.
 * @example assertPattern({ keep: 8, group: 32, vectorLength: 32 })
 */
export function assertPattern(pattern: NMPattern): void {
  const { keep, group, vectorLength } = pattern ?? ({} as NMPattern);
  if (!Number.isInteger(group) || group < 1 || group > MAX_GROUP) {
    throw new PatternError(
      `Invalid pattern ${describePattern(pattern)}: group must be an integer in [1, ${MAX_GROUP}].`,
      'use a window length such as 4, 8, 16 or 32.',
    );
  }
  if (!Number.isInteger(keep) || keep < 1 || keep > group) {
    throw new PatternError(
      `Invalid pattern ${describePattern(pattern)}: keep must be an integer in [1, group=${group}].`,
      'keep is how many rows of each window survive pruning, e.g. 2 for 2:4.',
    );
  }
  if (!Number.isInteger(vectorLength) || vectorLength < 1) {
    throw new PatternError(
      `Invalid pattern ${describePattern(pattern)}: vectorLength must be a positive integer.`,
      'use 1 for element-wise N:M or 32 for warp-wide vectors.',
    );
  }
}

/** Fraction of weights kept, ρ = keep / group. */
export function density(pattern: NMPattern): number {
  return pattern.keep / pattern.group;
}

/** Fraction of weights pruned, 1 − ρ. */
export function sparsity(pattern: NMPattern): number {
  return 1 - density(pattern);
}

/** Human-readable form, e.g. `8:32 (V=32)`. */
export function describePattern(pattern: NMPattern | undefined): string {
  if (!pattern) return String(pattern);
  return `${pattern.keep}:${pattern.group} (V=${pattern.vectorLength})`;
}

/** True when two patterns are identical. */
export function samePattern(a: NMPattern, b: NMPattern): boolean {
  return a.keep === b.keep && a.group === b.group && a.vectorLength === b.vectorLength;
}
