import { compareWithReference, type DenseMatrix, type ReferenceResult } from '@nmkit/format';
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
