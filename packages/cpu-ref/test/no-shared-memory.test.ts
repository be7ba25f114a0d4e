import { compareWithReference, nmPattern, randomCompressed, randomDense, referenceSpmm } from '@nmkit/format';
import { afterEach, describe, expect, it } from 'vitest';
import { createCpuBackend } from '../src/index.js';

// A browser page without cross-origin isolation has no SharedArrayBuffer global: the single-threaded path must work.
describe('cpu backend without SharedArrayBuffer', () => {
  const saved = globalThis.SharedArrayBuffer;
  afterEach(() => {
    globalThis.SharedArrayBuffer = saved;
  });

  it('multiplies on the calling thread', async () => {
    const backend = await createCpuBackend({ threads: 1 });
    // biome-ignore lint/suspicious/noExplicitAny: simulating a global that does not exist
    delete (globalThis as any).SharedArrayBuffer;
    const sparse = randomCompressed(96, 70, nmPattern(8, 32, 32), 5);
    const a = randomDense(9, 96, 6);
    const weights = await backend.prepare(sparse);
    const c = await backend.matmul(a, weights);
    expect(compareWithReference(c.data, referenceSpmm(a, sparse), 96).ok).toBe(true);
    await backend.dispose();
  });
});
