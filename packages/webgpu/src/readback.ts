import { scoped, throwIfFailed } from './error-scopes.js';
import { BufferUsage, MAP_READ } from './gpu-flags.js';

/** A byte range at the start of a buffer to copy back to the host (a multiple of 4 bytes). */
export interface ReadRange {
  readonly buffer: GPUBuffer;
  readonly bytes: number;
}

/**
 * One submission: the work `record` encodes, then copies of `reads` into one MAP_READ staging buffer; resolves to
 * each range's bytes once the GPU is done. With no reads it resolves as soon as the submission's validation and
 * out-of-memory errors are known, without waiting for the GPU. `submitted` runs right after the submission (WebGPU
 * lets buffers the queued work uses be destroyed from then on: the implementation frees them when it is done).
 * @throws {DeviceError} for validation or out-of-memory errors of the submission.
 * @example const [flag] = await submitAndRead(device, (encoder) => record(encoder, run), [{ buffer: flagBuffer, bytes: 4 }]);
 */
export async function submitAndRead(
  device: GPUDevice,
  record: (encoder: GPUCommandEncoder) => void,
  reads: readonly ReadRange[],
  submitted?: () => void,
): Promise<ArrayBuffer[]> {
  const total = reads.reduce((sum, read) => sum + read.bytes, 0);
  const staging = total > 0 ? device.createBuffer({ size: total, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST, label: 'readback' }) : undefined;
  try {
    const errors = scoped(device, () => {
      const encoder = device.createCommandEncoder();
      record(encoder);
      let offset = 0;
      for (const { buffer, bytes } of reads) {
        encoder.copyBufferToBuffer(buffer, 0, staging!, offset, bytes);
        offset += bytes;
      }
      device.queue.submit([encoder.finish()]);
    });
    submitted?.();
    if (!staging) {
      await throwIfFailed(errors);
      return [];
    }
    try {
      await staging.mapAsync(MAP_READ);
    } catch (failure) {
      // A submission that failed validation also fails the map: report the validation message, not the map's.
      await throwIfFailed(errors);
      throw failure;
    }
    await throwIfFailed(errors);
    const mapped = staging.getMappedRange();
    let offset = 0;
    const parts = reads.map(({ bytes }) => {
      const part = mapped.slice(offset, offset + bytes);
      offset += bytes;
      return part;
    });
    staging.unmap();
    return parts;
  } finally {
    staging?.destroy();
  }
}

/**
 * Destroys `buffers` once the work submitted to the device's queue so far has finished. WebGPU would let them be
 * destroyed at once (the implementation keeps a buffer alive for work already queued), but this library never destroys
 * a buffer that queued work still uses (package README, "The dawn.node crash"); calls that return before the GPU is done
 * (`matmulDevice`, a device matrix's `dispose`) free their buffers this way.
 * @example destroyWhenIdle(device, [params, partials]);
 */
export function destroyWhenIdle(device: GPUDevice, buffers: readonly GPUBuffer[]): void {
  if (buffers.length === 0) return;
  const destroy = () => {
    for (const buffer of buffers) buffer.destroy();
  };
  device.queue.onSubmittedWorkDone().then(destroy, destroy);
}
