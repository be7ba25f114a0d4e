/**
 * The Node-only path: loads Dawn through the `webgpu` npm package. Imported dynamically by {@link acquireGpu}
 * only when there is no `navigator.gpu`, so browser bundles never evaluate it.
 */

/** Dawn instance flags: exact device timestamps (no quantisation) for `time()`. */
const DAWN_FLAGS = ['disable-dawn-features=timestamp_quantization'];

/** Dawn flags: ours, plus any in `NMKIT_DAWN_FLAGS` (`;`-separated `create()` options, e.g. for benchmarks). */
function nodeFlags(): string[] {
  const extra = process.env.NMKIT_DAWN_FLAGS;
  return extra ? [...DAWN_FLAGS, ...extra.split(';').filter((s) => s)] : DAWN_FLAGS;
}

/**
 * Creates a `GPU` object from dawn.node and installs its WebGPU globals (`GPUBufferUsage`, ...) where missing.
 * Keep the returned object only while it is needed: a live reference keeps the Node process alive.
 * @example const gpu = await loadNodeGpu(); const adapter = await gpu.requestAdapter();
 */
export async function loadNodeGpu(flags: readonly string[] = nodeFlags()): Promise<GPU> {
  const dawn = await import('webgpu');
  const globals = dawn.globals as Record<string, unknown>;
  const target = globalThis as Record<string, unknown>;
  for (const [key, value] of Object.entries(globals)) {
    if (!(key in target)) target[key] = value;
  }
  return dawn.create([...flags]);
}
