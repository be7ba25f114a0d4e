import { type CompressedNM, compareWithReference, type DenseMatrix, type MatmulShape, type NMPattern, randomCompressed, randomDense, type ReferenceResult, referenceSpmm, type TilingPlan } from '@nmkit/format';
import { isBackendRequired } from '@nmkit/format/conformance';
import { afterAll, beforeAll, expect } from 'vitest';
import { createWebGPUBackend, type KernelOptions, type WebGPUBackend, type WebGPUBackendOptions } from '../src/index.js';

/**
 * Kernel tests run the weights they are given: no widened copies of element-wise weights (widen.test.ts and the
 * conformance suite run those).
 */
const KERNEL_TESTS: WebGPUBackendOptions = { widen: 'never' };

/**
 * One backend per test file, or `undefined` (with the reason printed) when there is no adapter here and
 * NMKIT_REQUIRE_BACKENDS does not list webgpu.
 */
export async function gpuBackendOrSkip(options: WebGPUBackendOptions = KERNEL_TESTS): Promise<WebGPUBackend | undefined> {
  const result = await createWebGPUBackend(options);
  if (result.available) return result.backend as WebGPUBackend;
  if (isBackendRequired('webgpu')) throw new Error(`webgpu is required but unavailable: ${result.reason}`);
  console.warn(`[webgpu tests] skipped: ${result.reason}`);
  return undefined;
}

/** Checks C against the float64 reference within the format's error bound; a failure names the first mismatch. */
export function expectClose(c: DenseMatrix, ref: ReferenceResult, terms: number, what: string): void {
  const result = compareWithReference(c.data, ref, terms);
  expect(result.firstMismatch, `${what}: first mismatch (row, col, got, expected, bound)`).toBeUndefined();
  expect(result.ok).toBe(true);
}

/** Registers this file's backend ({@link gpuBackendOrSkip} before its tests, disposed after them); call the getter inside a test. */
export function gpuBackendPerFile(options: WebGPUBackendOptions = KERNEL_TESTS): () => WebGPUBackend | undefined {
  let backend: WebGPUBackend | undefined;
  beforeAll(async () => {
    backend = await gpuBackendOrSkip(options);
  });
  afterAll(async () => {
    await backend?.dispose();
  });
  return () => backend;
}

/**
 * A with NaN and Inf in every column of K that no kept row of `sparse` uses (a correct kernel never reads them), and
 * the same A with zeros there (for the reference); `poisoned` counts those columns.
 */
function poisonPrunedColumns(a: DenseMatrix, sparse: CompressedNM): { a: DenseMatrix; clean: DenseMatrix; poisoned: number } {
  const { keep, group, vectorLength } = sparse.pattern;
  const n = sparse.cols;
  const vectors = Math.ceil(n / vectorLength);
  const kept = new Set<number>();
  for (let r = 0; r < sparse.values.length / n; r++) {
    for (let v = 0; v < vectors; v++) kept.add(Math.floor(r / keep) * group + sparse.indices[r * vectors + v]);
  }
  const poisonedA = { ...a, data: a.data.slice() };
  const clean = { ...a, data: a.data.slice() };
  let poisoned = 0;
  for (let k = 0; k < a.cols; k++) {
    if (kept.has(k)) continue;
    poisoned++;
    for (let m = 0; m < a.rows; m++) {
      poisonedA.data[m * a.cols + k] = m % 2 ? Number.NaN : Number.POSITIVE_INFINITY;
      clean.data[m * a.cols + k] = 0;
    }
  }
  return { a: poisonedA, clean, poisoned };
}

/**
 * Multiplies an A poisoned by {@link poisonPrunedColumns} (random weights and A from `seed`) with `options` as the
 * backend's kernel options (reset afterwards), under `plan` if given: C must be finite and equal the product with zeros
 * there. Returns the kernel's name.
 */
export async function expectPoisonHarmless(
  backend: WebGPUBackend,
  shape: MatmulShape,
  pattern: NMPattern,
  options: KernelOptions,
  seed: number,
  plan?: TilingPlan,
): Promise<string> {
  const sparse = randomCompressed(shape.k, shape.n, pattern, seed);
  const { a, clean, poisoned } = poisonPrunedColumns(randomDense(shape.m, shape.k, seed + 1), sparse);
  expect(poisoned).toBeGreaterThan(0);
  const weights = await backend.prepare(sparse);
  backend.kernelOptions = options;
  try {
    const c = await backend.matmul(a, weights, plan ? { plan } : {});
    expect(c.data.every(Number.isFinite)).toBe(true);
    expectClose(c, referenceSpmm(clean, sparse), shape.k, 'poisoned A');
    return backend.lastKernel ?? '';
  } finally {
    backend.kernelOptions = {};
    weights.dispose();
  }
}
