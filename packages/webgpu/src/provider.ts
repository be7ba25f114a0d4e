import type { BackendAvailability, BackendProvider } from '@nmkit/format';
import { type AcquireOptions, createGpuContext, NoGpuError } from './gpu-context.js';
import { WebGPUBackend } from './webgpu-backend.js';

/** Options of {@link createWebGPUBackend}. */
export interface WebGPUBackendOptions extends AcquireOptions {
  /** Run on this device (it is never destroyed by the backend). Without it, one is requested from the adapter. */
  readonly device?: GPUDevice;
}

/**
 * Creates the WebGPU backend: on a caller's `GPUDevice`, or on a new device from `navigator.gpu` (browsers)
 * or dawn.node (Node, loaded on demand). Never throws: resolves to the backend or the reason it cannot run.
 * @example
 * const result = await createWebGPUBackend();
 * if (result.available) console.log(result.backend.device);
 */
export async function createWebGPUBackend(options: WebGPUBackendOptions = {}): Promise<BackendAvailability> {
  try {
    const context = await createGpuContext(options);
    return { available: true, backend: new WebGPUBackend(context, options) };
  } catch (error) {
    if (error instanceof NoGpuError) return { available: false, reason: error.reason, fix: error.fix };
    return { available: false, reason: `WebGPU initialisation failed: ${(error as Error)?.message ?? String(error)}` };
  }
}

/**
 * Registry entry for the WebGPU backend (priority 200: after CUDA, before the CPU backends).
 * @example const registry = new BackendRegistry().register(webgpuProvider).register(cpuReferenceProvider);
 */
export const webgpuProvider: BackendProvider = {
  name: 'webgpu',
  priority: 200,
  create: () => createWebGPUBackend(),
};
