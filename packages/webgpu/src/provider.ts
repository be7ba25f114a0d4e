import { type BackendAvailability, type BackendProvider, WIDEN_MODES } from '@nmkit/format';
import { type AcquireOptions, createGpuContext, NoGpuError } from './gpu-context.js';
import { WebGPUBackend, type WidenMode } from './webgpu-backend.js';

/** Options of {@link createWebGPUBackend}. */
export interface WebGPUBackendOptions extends AcquireOptions {
  /** Run on this device (it is never destroyed by the backend). Without it, one is requested from the adapter. */
  readonly device?: GPUDevice;
  /** Whether `prepare()` keeps a widened copy of element-wise weights ({@link WidenMode}; default `auto`). */
  readonly widen?: WidenMode;
}

/**
 * Creates the WebGPU backend: on a caller's `GPUDevice`, or on a new device from `navigator.gpu` (browsers)
 * or dawn.node (Node, loaded on demand). Never throws: resolves to the backend or the reason it cannot run.
 * @example
 * const result = await createWebGPUBackend();
 * if (result.available) console.log(result.backend.device);
 */
export async function createWebGPUBackend(options: WebGPUBackendOptions = {}): Promise<BackendAvailability> {
  if (options.widen !== undefined && !WIDEN_MODES.includes(options.widen)) {
    return { available: false, reason: `options.widen=${String(options.widen)} is not a widening mode`, fix: "pass 'auto' (the default), 'always' or 'never'." };
  }
  try {
    const context = await createGpuContext(options);
    const backend = new WebGPUBackend(context, options);
    if (options.widen) backend.widen = options.widen;
    return { available: true, backend };
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
