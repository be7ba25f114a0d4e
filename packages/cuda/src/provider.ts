import type { BackendAvailability, BackendProvider } from '@nmkit/format';
import { CudaBackend } from './cuda-backend.js';
import { diagnoseProbe } from './diagnose.js';
import { loadAddon } from './native-loader.js';

/** Environment variable choosing the device index (default 0). */
export const DEVICE_ENV = 'NMKIT_CUDA_DEVICE';

/**
 * Creates the CUDA backend, or says why it cannot run here: addon missing or unloadable, no driver (cudaGetDeviceCount
 * error 35 on machines without one), no device, or a GPU older than sm_80. Never throws.
 * @example const got = await createCudaBackend(); if (!got.available) console.log(got.reason, got.fix);
 */
export async function createCudaBackend(): Promise<BackendAvailability> {
  const load = loadAddon();
  if (!load.ok) return { available: false, reason: load.reason, fix: load.fix };
  const device = Number(process.env[DEVICE_ENV] ?? 0) || 0;
  try {
    const probe = load.addon.probe(device);
    const problem = diagnoseProbe(probe);
    if (problem) return { available: false, ...problem };
    return { available: true, backend: new CudaBackend(load.addon, probe, device) };
  } catch (error) {
    return {
      available: false,
      reason: `the CUDA device could not be opened: ${error instanceof Error ? error.message : String(error)}`,
      fix: 'check nvidia-smi, and that no other process holds the GPU in exclusive mode.',
    };
  }
}

/**
 * Registry entry of the CUDA backend (priority 300: tried first).
 * @example new BackendRegistry().register(cudaProvider).register(cpuProvider)
 */
export const cudaProvider: BackendProvider = { name: 'cuda', priority: 300, create: createCudaBackend };
