/**
 * Live example 1: prune a matrix to keep:group with vectors of V columns, look at what the format stores, then
 * multiply by it on the best backend this browser has (WebGPU, else the CPU) and compare with the CPU reference.
 */
import { cpuProvider, cpuReferenceProvider } from '@nmkit/cpu-ref';
import {
  BackendRegistry,
  type CompressedNM,
  compareWithReference,
  compressedLayout,
  maskOf,
  nmPattern,
  pruneByMagnitude,
  randomDense,
  referenceSpmm,
} from '@nmkit/format';
import { webgpuProvider } from '@nmkit/webgpu';

/** Prunes a seeded random K×N matrix by magnitude and returns it with its mask and compressed layout. */
export function pruneMatrix(keep: number, group: number, vectorLength: number, rows = 16, cols = 12) {
  const pattern = nmPattern(keep, group, vectorLength); // a PatternError names the bad field
  const dense = randomDense(rows, cols, 42); // uniform in [-1, 1), the same for every seed 42
  // Per (window of `group` rows, vector of V columns): keep the `keep` rows with the largest Σ|value|.
  const sparse = pruneByMagnitude(dense, pattern);
  return { dense, sparse, mask: maskOf(sparse), layout: compressedLayout(rows, cols, pattern) };
}

// WebGPU first; without an adapter the CPU kernel (one thread in a browser), then the plain reference.
// WebGPU first; the cpu backend's blocked kernels (on the calling thread: browsers have no worker_threads) next.
const registry = new BackendRegistry().register(webgpuProvider).register(cpuProvider).register(cpuReferenceProvider);
let resolution: ReturnType<BackendRegistry['resolve']> | undefined;

/** C = A·B for a random A (M×K) on the resolved backend, checked against the CPU reference in float64. */
export async function multiplyPruned(sparse: CompressedNM, m = 4) {
  resolution ??= registry.resolve();
  const { backend, skipped } = await resolution;
  const a = randomDense(m, sparse.rows, 7);
  const weights = await backend.prepare(sparse); // validated, then uploaded once
  try {
    const c = await backend.matmul(a, weights);
    const cpu = referenceSpmm(a, sparse); // the format's definition, on the CPU
    const check = compareWithReference(c.data, cpu, sparse.rows);
    return { backend: backend.name, device: backend.device, skipped, c, maxError: check.maxAbsError, ok: check.ok };
  } finally {
    weights.dispose();
  }
}
