import { type CompressedNM, compareWithReference, type DenseMatrix, type ReferenceResult } from '@nmkit/format';
import { isBackendRequired } from '@nmkit/format/conformance';
import { afterAll, beforeAll, expect } from 'vitest';
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

/** Checks C against the float64 reference within the format's error bound; a failure names the first mismatch. */
export function expectClose(c: DenseMatrix, ref: ReferenceResult, terms: number, what: string): void {
  const result = compareWithReference(c.data, ref, terms);
  expect(result.firstMismatch, `${what}: first mismatch (row, col, got, expected, bound)`).toBeUndefined();
  expect(result.ok).toBe(true);
}

/** Registers this file's backend ({@link gpuBackendOrSkip} before its tests, disposed after them); call the getter inside a test. */
export function gpuBackendPerFile(): () => WebGPUBackend | undefined {
  let backend: WebGPUBackend | undefined;
  beforeAll(async () => {
    backend = await gpuBackendOrSkip();
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
export function poisonPrunedColumns(a: DenseMatrix, sparse: CompressedNM): { a: DenseMatrix; clean: DenseMatrix; poisoned: number } {
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
