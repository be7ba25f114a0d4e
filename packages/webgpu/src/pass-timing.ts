import { BufferUsage, MAP_READ } from './gpu-flags.js';

/**
 * Device time of `repeats` compute passes, in ms each, from timestamp queries written at the start and end of every
 * pass: `recordPass` records pass `i` into the encoder with the timestamp writes it must pass to `beginComputePass`.
 * One submission; the resolve and readback buffers go into `owned` (the caller destroys them). The device needs the
 * `timestamp-query` feature, and `repeats` ≤ 2048 (WebGPU's 4096 queries per set).
 */
export async function timePasses(
  device: GPUDevice,
  repeats: number,
  recordPass: (encoder: GPUCommandEncoder, timestampWrites: GPUComputePassTimestampWrites) => void,
  owned: GPUBuffer[],
): Promise<number[]> {
  const querySet = device.createQuerySet({ type: 'timestamp', count: 2 * repeats });
  const resolve = device.createBuffer({ size: 16 * repeats, usage: BufferUsage.QUERY_RESOLVE | BufferUsage.COPY_SRC });
  const readback = device.createBuffer({ size: 16 * repeats, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
  owned.push(resolve, readback);
  try {
    const encoder = device.createCommandEncoder();
    for (let i = 0; i < repeats; i++) {
      recordPass(encoder, { querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 });
    }
    encoder.resolveQuerySet(querySet, 0, 2 * repeats, resolve, 0);
    encoder.copyBufferToBuffer(resolve, 0, readback, 0, 16 * repeats);
    device.queue.submit([encoder.finish()]);
    await readback.mapAsync(MAP_READ);
    const ticks = new BigUint64Array(readback.getMappedRange().slice(0));
    readback.unmap();
    return Array.from({ length: repeats }, (_, i) => Number(ticks[2 * i + 1] - ticks[2 * i]) / 1e6);
  } finally {
    querySet.destroy();
  }
}
