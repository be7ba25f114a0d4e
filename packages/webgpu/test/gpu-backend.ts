import { isBackendRequired } from '@nmkit/format/conformance';
import { createWebGPUBackend, type WebGPUBackend } from '../src/index.js';

/**
 * One backend per test file, or `undefined` (with the reason printed) when there is no adapter here and
 * NMKIT_REQUIRE_BACKENDS does not list webgpu.
 */
export async function gpuBackendOrSkip(): Promise<WebGPUBackend | undefined> {
  const result = await createWebGPUBackend();
  if (result.available) return result.backend as WebGPUBackend;
  if (isBackendRequired('webgpu')) throw new Error(`webgpu is required but unavailable: ${result.reason}`);
  console.warn(`[webgpu tests] skipped: ${result.reason}`);
  return undefined;
}
