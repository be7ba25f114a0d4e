import { type DenseMatrix, type DeviceMatrix, DisposedError } from '@nmkit/format';
import type { NativeMatrix } from './native-types.js';

/**
 * A dense row-major float32 matrix in CUDA device memory: the activations of a chain of
 * {@link CudaBackend.matmulDevice} calls. `dispose()` frees it at once for new calls; a call already running on it
 * keeps the buffer until it ends (the addon holds a reference), and the addon's finalizer frees a forgotten one.
 * @example const x = await cuda.upload(a); const y = await cuda.matmulDevice(x, w); x.dispose(); const c = await y.read();
 */
export class CudaMatrix implements DeviceMatrix {
  readonly kind = 'device-matrix' as const;
  private native: NativeMatrix | undefined;

  constructor(
    readonly backend: string,
    readonly rows: number,
    readonly cols: number,
    native: NativeMatrix,
    private readonly reader: (native: NativeMatrix) => Promise<Float32Array>,
    private readonly onDispose: (matrix: CudaMatrix) => void,
  ) {
    this.native = native;
  }

  get bytes(): number {
    return this.native?.bytes ?? 0;
  }

  get disposed(): boolean {
    return this.native === undefined;
  }

  /** The addon's handle, for the backend. @throws {DisposedError} after dispose() */
  get handle(): NativeMatrix {
    if (!this.native) {
      throw new DisposedError(`Device matrix ${this.rows}×${this.cols} on ${this.backend}`, 'upload it again, and dispose it only after its last use.');
    }
    return this.native;
  }

  async read(): Promise<DenseMatrix> {
    // A disposed matrix is a typed error here, not an addon failure.
    return { rows: this.rows, cols: this.cols, data: await this.reader(this.handle) };
  }

  dispose(): void {
    if (!this.native) return;
    this.native.free();
    this.native = undefined;
    this.onDispose(this);
  }
}
