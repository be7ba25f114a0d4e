import { NR } from './micro-kernel.js';
import { stripMap } from './strips.js';

/**
 * The three CPU kernels:
 * - `spmm-nm-strips`: N:M with V ≥ 8: per vector, gather the kept A columns into a packed panel, then 4×8
 *   register tiles over B strips packed at prepare time;
 * - `spmm-nm-general`: N:M with V < 8 (element-wise 2:4 and the like): row by row, float64 accumulators;
 * - `gemm-dense-strips`: the dense baseline, same panels and register tiles.
 */
export type KernelName = 'spmm-nm-strips' | 'spmm-nm-general' | 'gemm-dense-strips';

/**
 * Everything a kernel needs for one C = A·B, as plain typed arrays (shared memory in workers, ordinary
 * memory on the calling thread). C may hold garbage: the first K stage stores, later stages add.
 */
export interface KernelJob {
  readonly kernel: KernelName;
  readonly m: number;
  readonly n: number;
  readonly k: number;
  /** Pattern (dense: keep = group = 1, vectorLength = N). */
  readonly keep: number;
  readonly group: number;
  readonly vectorLength: number;
  /** Rows of packed B: kept rows W for N:M, K for dense. */
  readonly bRows: number;
  /** Cache block of C rows per tile (multiple of 4). */
  readonly tileRows: number;
  /** Cache block of C columns per tile (multiple of V for N:M, of 8 for dense). */
  readonly tileCols: number;
  /** B rows per K stage: kept rows (multiple of keep) for N:M, dense rows for dense. */
  readonly stageRows: number;
  /** A, M×K row-major. */
  readonly a: Float32Array;
  /** C, M×N row-major (overwritten). */
  readonly c: Float32Array;
  /** B as packed by `packNMStrips`, `packDenseStrips` or (general kernel) the compressed values as they are. */
  readonly packed: Float32Array;
  /** Absolute dense row of each kept row (−1 = K padding): vector-major for strips, row-major for general. */
  readonly rowTable: Int32Array;
}

/** Number of C tiles of a job (the unit of work handed to threads). */
export function tileCount(job: KernelJob): number {
  const { rowTiles, colTiles } = tileGrid(job);
  return rowTiles * colTiles;
}

/** Tiles along M and along N. */
export function tileGrid(job: KernelJob): { rowTiles: number; colTiles: number } {
  const rowTiles = Math.ceil(job.m / job.tileRows);
  if (job.kernel === 'gemm-dense-strips') {
    return { rowTiles, colTiles: Math.ceil(stripMap(job.n, job.n).strips / (job.tileCols / NR)) };
  }
  const vectors = Math.ceil(job.n / job.vectorLength);
  return { rowTiles, colTiles: Math.ceil(vectors / (job.tileCols / job.vectorLength)) };
}
