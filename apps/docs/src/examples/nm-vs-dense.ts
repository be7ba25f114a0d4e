/**
 * Live example 2: N:M against dense on the same backend (WebGPU, else the CPU kernel). Both results are
 * verified against the CPU before anything is timed; the speedup is dense time / N:M time.
 */
import { cpuProvider, cpuReferenceProvider } from '@nmkit/cpu-ref';
import {
  BackendRegistry,
  compareWithReference,
  decompress,
  density,
  nmPattern,
  pruneByMagnitude,
  randomDense,
  referenceSpmm,
} from '@nmkit/format';
import { webgpuProvider } from '@nmkit/webgpu';

/** The problem: C[M×N] = A[M×K]·B[K×N] with B pruned to keep:group, vectors of V columns. */
export interface NmVsDenseOptions {
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly keep: number;
  readonly group: number;
  readonly vectorLength: number;
  /** Timed runs of each kernel (after 2 warm-up runs). */
  readonly repeats?: number;
}

// WebGPU first; the cpu backend's blocked kernels (on the calling thread: browsers have no worker_threads) next.
const registry = new BackendRegistry().register(webgpuProvider).register(cpuProvider).register(cpuReferenceProvider);
let resolution: ReturnType<BackendRegistry['resolve']> | undefined;

export async function runNmVsDense({ m, n, k, keep, group, vectorLength, repeats = 5 }: NmVsDenseOptions) {
  resolution ??= registry.resolve(); // the backend (and its GPU device) is created once
  const { backend, skipped } = await resolution;
  const pattern = nmPattern(keep, group, vectorLength);
  const a = randomDense(m, k, 1);
  const sparse = pruneByMagnitude(randomDense(k, n, 2), pattern);

  const nmWeights = await backend.prepare(sparse);
  // The dense baseline multiplies by the same weights, zeros included: same result, all the work.
  const denseWeights = backend.prepareDense ? await backend.prepareDense(decompress(sparse)) : undefined;
  try {
    // Verify before timing: each result against the CPU reference (float64, straight from the definition).
    const cpu = referenceSpmm(a, sparse);
    const nm = compareWithReference((await backend.matmul(a, nmWeights)).data, cpu, k);
    const dense = denseWeights ? compareWithReference((await backend.matmul(a, denseWeights)).data, cpu, k) : undefined;
    if (!nm.ok || (dense && !dense.ok)) throw new Error(`${backend.name} disagrees with the CPU (max error ${nm.maxAbsError})`);

    const nmTime = await backend.time(a, nmWeights, { warmup: 2, repeats });
    const denseTime = denseWeights ? await backend.time(a, denseWeights, { warmup: 2, repeats }) : undefined;
    return {
      backend: backend.name,
      device: backend.device,
      skipped, // why each better backend could not run here
      clock: nmTime.clock,
      nmMs: nmTime.medianMs,
      denseMs: denseTime?.medianMs,
      speedup: denseTime ? denseTime.medianMs / nmTime.medianMs : undefined,
      idealSpeedup: 1 / density(pattern),
      maxError: Math.max(nm.maxAbsError, dense?.maxAbsError ?? 0),
      plan: nmTime.plan,
    };
  } finally {
    nmWeights.dispose();
    denseWeights?.dispose();
  }
}
