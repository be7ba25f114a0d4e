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

  /** Takes `data` (rows·cols floats) without copying: the caller hands it over. `onDispose` runs once, at dispose(). */
  constructor(
    readonly backend: string,
    readonly rows: number,
    readonly cols: number,
    data: Float32Array,
    private readonly onDispose?: (matrix: HostDeviceMatrix) => void,
  ) {
    this.data = data;
  }

  /** A device matrix holding a copy of `matrix` (validated as operand `name`). */
  static copyOf(backend: string, matrix: DenseMatrix, name = 'A', onDispose?: (matrix: HostDeviceMatrix) => void): HostDeviceMatrix {
    assertDenseMatrix(matrix, name);
    return new HostDeviceMatrix(backend, matrix.rows, matrix.cols, matrix.data.slice(), onDispose);
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
    if (!this.data) return;
    this.data = undefined;
    this.onDispose?.(this);
  }

  private disposedError(): DisposedError {
    return new DisposedError(`Device matrix ${this.rows}×${this.cols} on ${this.backend}`, 'upload it again, and dispose it only after its last use.');
  }
}

/**
 * The device matrices of a host backend: made through it, disposed with it (`disposeAll()` from the backend's own
 * dispose(), as device backends free theirs).
 * @example private readonly matrices = new HostMatrixSet('cpu'); upload(a) { return this.matrices.copyOf(a); }
 */
export class HostMatrixSet {
  private readonly live = new Set<HostDeviceMatrix>();

  constructor(private readonly backend: string) {}

  /** A tracked device matrix holding a copy of A (validated). */
  copyOf(a: DenseMatrix): HostDeviceMatrix {
    return this.track(HostDeviceMatrix.copyOf(this.backend, a, 'A', this.forget));
  }

  /** A tracked device matrix that takes over `c`'s array (a product the backend just made). */
  adopt(c: DenseMatrix): HostDeviceMatrix {
    return this.track(new HostDeviceMatrix(this.backend, c.rows, c.cols, c.data, this.forget));
  }

  /** Disposes every live matrix. */
  disposeAll(): void {
    for (const matrix of [...this.live]) matrix.dispose();
  }

  private readonly forget = (matrix: HostDeviceMatrix) => {
    this.live.delete(matrix);
  };

  private track(matrix: HostDeviceMatrix): HostDeviceMatrix {
    this.live.add(matrix);
    return matrix;
  }
}
