import { DeviceError } from '@nmkit/format';

const NAME = 'webgpu';

/**
 * Runs synchronous encoding and submission inside validation and out-of-memory error scopes. Only synchronous
 * work goes in: error scopes are a per-device stack, and concurrent calls must not interleave their scopes.
 * @example const errors = scoped(device, () => device.queue.submit([encoder.finish()]));
 */
export function scoped(device: GPUDevice, work: () => void): Promise<(GPUError | null)[]> {
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  let failure: { error: unknown } | undefined;
  try {
    work();
  } catch (error) {
    failure = { error };
  }
  // Popped synchronously, in reverse order of pushing, before any other call can push.
  const popped = Promise.all([device.popErrorScope(), device.popErrorScope()]);
  if (failure) {
    popped.catch(() => {});
    throw failure.error;
  }
  return popped;
}

/**
 * Turns errors captured by {@link scoped} into a DeviceError.
 * @example await throwIfFailed(scoped(device, () => device.createBuffer({ size: 4, usage: 0x80 })));
 */
export async function throwIfFailed(errors: Promise<(GPUError | null)[]>): Promise<void> {
  const [validation, memory] = await errors;
  if (memory) throw new DeviceError(NAME, `out of GPU memory: ${memory.message}`, 'free prepared weights or run smaller problems.');
  if (validation) throw new DeviceError(NAME, `WebGPU validation failed: ${validation.message}`);
}

