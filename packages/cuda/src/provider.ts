import { type BackendAvailability, type BackendProvider, WIDEN_MODES } from '@nmkit/format';
import { CudaBackend } from './cuda-backend.js';
import { diagnoseProbe } from './diagnose.js';
import { loadAddon } from './native-loader.js';
import type { Staging } from './retile.js';
import type { WidenMode } from './widening.js';

/** Environment variable choosing the device index (default 0). */
export const DEVICE_ENV = 'NMKIT_CUDA_DEVICE';

/** Options of {@link createCudaBackend}. */
export interface CudaBackendOptions {
  /** CUDA device index (default: `NMKIT_CUDA_DEVICE`, else 0). */
  readonly device?: number;
  /**
   * How `prepare()` lays out the tiled kernels' row lists: `auto` (default) picks per weights, `union` or
   * `per-vector` force one (for experiments; see retile.ts `Staging`).
   */
  readonly staging?: Staging | 'auto';
  /**
   * Whether `prepare()` also keeps a widened (V = 32) copy of weights with vectors shorter than a warp, such as
   * element-wise 2:4, so that calls above 16 rows run the tiled kernels: `auto` (default) when it holds at most twice
   * the values, `always`, or `never` (see {@link WidenMode}).
   */
  readonly widen?: WidenMode;
  /**
   * Run small calls on the JS thread when the GPU is idle: `matmul` and `matmulDevice` with at most 16 rows, and
   * `upload`/`read` of at most 2¹⁸ floats. They skip the round trip through Node's thread pool, which takes longer
   * than a decode kernel. On the H100 this measured 48–51 instead of 80–98 µs per `matmul` at 1 × 256 × 256, and 30–33
   * instead of 57–71 µs per `matmulDevice`. The price is that such a call blocks the event loop for its own device
   * time (microseconds at those sizes); a call that finds the GPU busy is queued as usual. Default `false`: all device
   * work runs off the JS thread.
   */
  readonly inlineSmallCalls?: boolean;
}

/**
 * Creates the CUDA backend, or says why it cannot run here: addon missing or unloadable, no driver (cudaGetDeviceCount
 * error 35 on machines without one), no such device, or a GPU older than sm_80. Never throws.
 * @example const got = await createCudaBackend({ device: 1 }); if (!got.available) console.log(got.reason, got.fix);
 */
export async function createCudaBackend(options: CudaBackendOptions = {}): Promise<BackendAvailability> {
  const fromEnv = process.env[DEVICE_ENV];
  const device = options.device ?? (fromEnv === undefined || fromEnv === '' ? 0 : Number(fromEnv));
  if (!Number.isSafeInteger(device) || device < 0) {
    const source = options.device !== undefined ? 'options.device' : DEVICE_ENV;
    return { available: false, reason: `${source}=${options.device ?? fromEnv} is not a device index`, fix: 'pass an integer ≥ 0 (0 is the first GPU, as nvidia-smi lists them).' };
  }
  const staging = options.staging ?? 'auto';
  if (!['auto', 'union', 'per-vector'].includes(staging)) {
    return { available: false, reason: `options.staging=${String(staging)} is not a staging mode`, fix: "pass 'auto' (the default), 'union' or 'per-vector'." };
  }
  const widen = options.widen ?? 'auto';
  if (!WIDEN_MODES.includes(widen)) {
    return { available: false, reason: `options.widen=${String(widen)} is not a widening mode`, fix: "pass 'auto' (the default), 'always' or 'never'." };
  }
  const inlineSmallCalls = options.inlineSmallCalls ?? false;
  if (typeof inlineSmallCalls !== 'boolean') {
    return { available: false, reason: `options.inlineSmallCalls=${String(inlineSmallCalls)} is not a boolean`, fix: 'pass true or false (the default).' };
  }
  const load = loadAddon();
  if (!load.ok) return { available: false, reason: load.reason, fix: load.fix };
  try {
    const probe = load.addon.probe(device);
    const problem = diagnoseProbe(probe);
    if (problem) return { available: false, ...problem };
    return { available: true, backend: new CudaBackend(load.addon, probe, device, staging, widen, inlineSmallCalls) };
  } catch (error) {
    return {
      available: false,
      reason: `the CUDA device could not be opened: ${error instanceof Error ? error.message : String(error)}`,
      fix: 'check nvidia-smi, and that no other process holds the GPU in exclusive mode.',
    };
  }
}

/**
 * A registry entry for the CUDA backend on a given device (priority 300: tried first). `create()` never throws.
 * @example new BackendRegistry().register(createCudaProvider({ device: 1 })).register(cpuProvider)
 */
export function createCudaProvider(options: CudaBackendOptions = {}): BackendProvider {
  return { name: 'cuda', priority: 300, create: () => createCudaBackend(options) };
}

/**
 * Registry entry of the CUDA backend on the default device (`NMKIT_CUDA_DEVICE`, else 0).
 * @example new BackendRegistry().register(cudaProvider).register(cpuProvider)
 */
export const cudaProvider: BackendProvider = createCudaProvider();
