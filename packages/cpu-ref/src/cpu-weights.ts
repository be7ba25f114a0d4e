import { DisposedError, type NMPattern, type PreparedWeights } from '@nmkit/format';
import type { KernelName } from './kernels/kernel-job.js';

/** The packed arrays the CPU kernels read. */
export interface CpuWeightArrays {
  readonly kernel: KernelName;
  /** B packed for the kernel (strips of 8 columns, or the compressed values as they are). */
  readonly packed: Float32Array;
  /** Absolute kept-row table (empty for dense). */
  readonly rowTable: Int32Array;
  /** Rows of packed B: kept rows W for N:M, K for dense. */
  readonly bRows: number;
}

/**
 * Weights prepared by the `cpu` backend: packed once at prepare time into shared memory (when worker threads
 * are in use), so every multiplication hands the same buffers to the workers without copying.
 * @example const w = await cpu.prepare(sparse); await cpu.matmul(a, w); w.dispose();
 */
export class CpuWeights implements PreparedWeights {
  private arrays: CpuWeightArrays | undefined;
  private readonly ownBytes: number;
  /**
   * A widened copy (format `widenVectors`, V = 8; dense where it keeps every row) that products with a finite A run
   * instead, for weights with V < 8; undefined when the backend keeps none.
   */
  wide: CpuWeights | undefined;

  constructor(
    readonly backend: string,
    readonly kind: 'nm' | 'dense',
    readonly rows: number,
    readonly cols: number,
    readonly pattern: NMPattern | undefined,
    arrays: CpuWeightArrays,
  ) {
    this.arrays = arrays;
    this.ownBytes = arrays.packed.byteLength + arrays.rowTable.byteLength;
  }

  /** Bytes of the packed arrays, the widened copy's included. */
  get bytes(): number {
    return this.ownBytes + (this.wide?.bytes ?? 0);
  }

  get disposed(): boolean {
    return this.arrays === undefined;
  }

  /**
   * The packed arrays.
   * @throws {DisposedError} after dispose().
   */
  get packed(): CpuWeightArrays {
    if (!this.arrays) throw new DisposedError(`Weights ${this.rows}×${this.cols} on ${this.backend}`);
    return this.arrays;
  }

  /** Drops the buffers (shared memory is freed once no job still uses it). Idempotent. */
  dispose(): void {
    this.arrays = undefined;
    this.wide?.dispose();
  }
}
