import { type DenseMatrix, type DeviceMatrix, LastUse } from '@nmkit/format';
import type { NativeMatrix } from './native-types.js';

/**
 * A dense float32 matrix in CUDA device memory: the activations of a chain of {@link CudaBackend.matmulDevice} calls.
 * The addon keeps it row-major, or as Aᵀ (its column form: what the tiled kernels read and write), or both: a tiled
 * product's C is made in the column form, so the next tiled layer reads it with no transpose, and an uploaded A gets
 * its column form at its first tiled use and keeps it for the next. {@link CudaMatrix.bytes} counts both; `read()`
 * always returns row-major values. `dispose()` refuses new calls at once and frees the buffer after the calls
 * already running on it (a NaN rerun on the original weights included); the addon's finalizer frees a forgotten one.
 * @example const x = await cuda.upload(a); const y = await cuda.matmulDevice(x, w); x.dispose(); const c = await y.read();
 */
export class CudaMatrix implements DeviceMatrix {
  readonly kind = 'device-matrix' as const;
  private native: NativeMatrix | undefined;
  private readonly lastUse = new LastUse(
    () => {
      this.native?.free();
      this.native = undefined;
    },
    () => `Device matrix ${this.rows}×${this.cols} on ${this.backend}`,
    'upload it again, and dispose it only after its last use.',
  );

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
    return this.lastUse.disposed;
  }

  /**
   * Runs `body` on the addon's handle, the matrix held until it ends: the handle is taken synchronously, so a
   * dispose() right after a call starts frees the buffer only after the call. @throws {DisposedError} after dispose()
   */
  holding<T>(body: (native: NativeMatrix) => Promise<T>): Promise<T> {
    const native = this.native;
    return this.lastUse.holding(() => body(native!));
  }

  read(): Promise<DenseMatrix> {
    return this.holding(async (native) => ({ rows: this.rows, cols: this.cols, data: await this.reader(native) }));
  }

  dispose(): void {
    if (this.lastUse.dispose()) this.onDispose(this);
  }
}
