import type { BackendCapabilities, DeviceMatrix, PreparedWeights } from './backend.js';
import { assertRunnableOnDevice, assertUploadable } from './backend-checks.js';
import { type DenseMatrix, assertDenseMatrix } from './dense.js';
import { DisposedError, ShapeError } from './errors.js';

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
 * The device matrices of a host backend: its `upload()` and `matmulDevice()` (validated as the device backends
 * validate theirs), and `disposeAll()` for the backend's own dispose(), as device backends free theirs.
 * @example private readonly matrices = new HostMatrixSet('cpu', CAPABILITIES); upload(a) { return this.matrices.upload(a); }
 */
export class HostMatrixSet {
  private readonly live = new Set<HostDeviceMatrix>();

  constructor(
    private readonly backend: string,
    private readonly capabilities: BackendCapabilities,
  ) {}

  /** A tracked device matrix holding a copy of A. @throws {ShapeError} {@link LimitError} */
  upload(a: DenseMatrix): HostDeviceMatrix {
    assertUploadable(this.backend, this.capabilities, a);
    return this.track(HostDeviceMatrix.copyOf(this.backend, a, 'A', this.forget));
  }

  /**
   * C = A·B for a device matrix A of this backend: validates the operands, runs `multiply` on A's array (no copy)
   * and keeps C as a tracked device matrix.
   */
  async product(a: DeviceMatrix, weights: PreparedWeights, multiply: (a: DenseMatrix) => Promise<DenseMatrix>): Promise<HostDeviceMatrix> {
    assertRunnableOnDevice(this.backend, this.capabilities, a, weights);
    if (!(a instanceof HostDeviceMatrix)) throw new ShapeError(`${this.backend}: A must come from upload() or matmulDevice() of this backend.`);
    const c = await multiply(a.view());
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
