import type { DeviceMatrix } from './backend.js';
import { type DenseMatrix, assertDenseMatrix } from './dense.js';
import { DisposedError } from './errors.js';

/**
 * A {@link DeviceMatrix} held in host memory: the device matrix of backends whose device is the host (`cpu`,
 * `cpu-ref`) and of test backends. It owns its array, so later changes to the array it was made from do not reach it.
 * @example
 * upload(a) { assertDenseMatrix(a, 'A'); return Promise.resolve(HostDeviceMatrix.copyOf(this.name, a)); }
 */
export class HostDeviceMatrix implements DeviceMatrix {
  readonly kind = 'device-matrix' as const;
  private data: Float32Array | undefined;

  /** Takes `data` (rows·cols floats) without copying: the caller hands it over. */
  constructor(
    readonly backend: string,
    readonly rows: number,
    readonly cols: number,
    data: Float32Array,
  ) {
    this.data = data;
  }

  /** A device matrix holding a copy of `matrix` (validated as operand `name`). */
  static copyOf(backend: string, matrix: DenseMatrix, name = 'A'): HostDeviceMatrix {
    assertDenseMatrix(matrix, name);
    return new HostDeviceMatrix(backend, matrix.rows, matrix.cols, matrix.data.slice());
  }

  get bytes(): number {
    return this.data ? this.data.byteLength : 0;
  }

  get disposed(): boolean {
    return this.data === undefined;
  }

  /** The held matrix without a copy, for the owning backend's kernels. @throws {DisposedError} */
  view(): DenseMatrix {
    if (!this.data) throw this.disposedError();
    return { rows: this.rows, cols: this.cols, data: this.data };
  }

  async read(): Promise<DenseMatrix> {
    const { rows, cols, data } = this.view();
    return { rows, cols, data: data.slice() };
  }

  dispose(): void {
    this.data = undefined;
  }

  private disposedError(): DisposedError {
    return new DisposedError(`Device matrix ${this.rows}×${this.cols} on ${this.backend}`, 'upload it again, and dispose it only after its last use.');
  }
}
