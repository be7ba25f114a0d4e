import { type DenseMatrix, DeviceError, type DeviceMatrix, DisposedError, NMError } from '@nmkit/format';
import { BufferUsage } from './gpu-flags.js';
import type { GpuContext } from './gpu-context.js';
import { destroyWhenIdle, submitAndRead } from './readback.js';

/** Usage of every device matrix buffer: kernels bind it, read() copies from it, callers may write into it. */
export const MATRIX_USAGE = BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST;

/**
 * A dense row-major float32 matrix in a GPUBuffer of the WebGPU backend: what `upload()` makes and `matmulDevice()`
 * returns, so that the layers of a model chain on the GPU without copies to the host.
 *
 * Interop: {@link buffer} is the GPUBuffer itself (usage STORAGE | COPY_SRC | COPY_DST, on the backend's
 * `gpuDevice()`): element (r, c) is the f32 at byte offset 4·(r·cols + c). A product's buffer may be larger than
 * rows·cols·4 bytes (the wave-tail kernels keep partial sums after C); bytes past rows·cols·4 are scratch, so bind
 * `{ buffer, size: rows * cols * 4 }`. Work you submit to the device's queue is ordered with the backend's.
 *
 * Dispose: `dispose()` refuses new uses at once; the buffer is destroyed once the calls already using the matrix (a
 * `matmulDevice()` or `read()` that started before) have submitted their work and the GPU has finished it.
 * @example
 * const x = await backend.upload(a);            // A on the GPU
 * const h = await backend.matmulDevice(x, w1);  // stays there
 * const y = await backend.matmulDevice(h, w2);
 * const c = await y.read();                     // one copy to the host
 * x.dispose(); h.dispose(); y.dispose();
 */
export class GpuMatrix implements DeviceMatrix {
  readonly kind = 'device-matrix' as const;
  private released = false;
  private destroyed = false;
  /** Calls (matmulDevice, read) that hold the buffer: dispose() leaves it to the last of them to destroy it. */
  private uses = 0;

  /** Made by the backend: takes ownership of `gpuBuffer` (at least rows·cols·4 bytes on `context`'s device). */
  constructor(
    readonly backend: string,
    readonly rows: number,
    readonly cols: number,
    private readonly gpuBuffer: GPUBuffer,
    /** The device (generation) the buffer lives on: after a device loss the contents are gone. */
    readonly context: GpuContext,
    private readonly onDispose?: (matrix: GpuMatrix) => void,
  ) {}

  /** Device bytes held: the buffer's size (≥ rows·cols·4); 0 once disposed and no call holds it any more. */
  get bytes(): number {
    return this.destroyed ? 0 : this.gpuBuffer.size;
  }

  get disposed(): boolean {
    return this.released;
  }

  /**
   * The GPUBuffer, for your own pipelines: row-major f32, element (r, c) at index r·cols + c; bind its first
   * rows·cols·4 bytes. Do not destroy it: dispose() the matrix.
   * @throws {DisposedError} after dispose().
   */
  get buffer(): GPUBuffer {
    if (this.released) throw this.disposedError();
    return this.gpuBuffer;
  }

  /**
   * Marks a call as using the buffer until it calls `release()` (idempotent); the backend takes it synchronously when
   * a call starts, so that a dispose() right after the call cannot pull the buffer from under it. `binding` is the
   * matrix as the kernels bind it: exactly rows·cols floats, whatever the buffer's padding.
   * @throws {DisposedError} after dispose().
   */
  retain(): { binding: GPUBufferBinding; release: () => void } {
    const binding = matrixBinding(this.buffer, this.rows, this.cols);
    this.uses++;
    let done = false;
    const release = () => {
      if (done) return;
      done = true;
      this.uses--;
      if (this.released && this.uses === 0) this.destroy();
    };
    return { binding, release };
  }

  /** Copies the matrix to the host: a new Float32Array of exactly rows·cols values. */
  async read(): Promise<DenseMatrix> {
    const { binding, release } = this.retain();
    const { rows, cols } = this;
    try {
      if (rows * cols === 0) return { rows, cols, data: new Float32Array(0) };
      if (this.context.lostReason) throw new Error('device lost');
      // Released once submitted: a dispose() meanwhile destroys the buffer when the GPU has done the copy.
      const [bytes] = await submitAndRead(this.context.device, () => {}, [{ buffer: binding.buffer, bytes: rows * cols * 4 }], release);
      return { rows, cols, data: new Float32Array(bytes) };
    } catch (failure) {
      throw this.readFailure(failure);
    } finally {
      release();
    }
  }

  /**
   * Frees the buffer: refuses new uses at once, and destroys the buffer when the calls already using it have submitted
   * their work and the GPU has finished it. Idempotent.
   */
  dispose(): void {
    if (this.released) return;
    this.released = true;
    this.onDispose?.(this);
    if (this.uses === 0) this.destroy();
  }

  /** Once no call is about to submit work on the buffer: destroyed when the work already queued is done. */
  private destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    destroyWhenIdle(this.context.device, [this.gpuBuffer]);
  }

  private disposedError(): DisposedError {
    return new DisposedError(`Device matrix ${this.rows}×${this.cols} on ${this.backend}`, 'upload it again, and dispose it only after its last use.');
  }

  private readFailure(failure: unknown): NMError {
    const lost = this.context.lostReason;
    if (lost) {
      // The caller has now heard of the loss: the backend's next call recovers on a new device without saying so again.
      this.context.lossReported = true;
      return new DeviceError(
        this.backend,
        `the GPU device holding the ${this.rows}×${this.cols} device matrix was lost (${lost}); its contents are gone.`,
        'upload the input again and rerun the products: the backend runs on a new device.',
        { cause: failure },
      );
    }
    if (NMError.isInstance(failure)) return failure;
    return new DeviceError(this.backend, `reading the ${this.rows}×${this.cols} device matrix failed: ${(failure as Error)?.message ?? String(failure)}`, undefined, {
      cause: failure,
    });
  }
}

/** The binding of a rows×cols matrix at the start of `buffer` (≥ 4 bytes: WebGPU refuses empty bindings). */
export function matrixBinding(buffer: GPUBuffer, rows: number, cols: number): GPUBufferBinding {
  return { buffer, offset: 0, size: Math.max(4, rows * cols * 4) };
}
