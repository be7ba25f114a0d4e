import { type NMBackend, nmPattern } from '@nmkit/format';
import { describe, expect, it } from 'vitest';
import { runSuite } from '../src/run-suite.js';
import { resolveSuite } from '../src/suites.js';
import { referenceBackend } from './reference-backend.js';

const suite = resolveSuite('custom', {
  shapes: [
    { m: 3, n: 40, k: 64 },
    { m: 9, n: 40, k: 64 },
  ],
  patterns: [nmPattern(2, 4, 4)],
  warmup: 0,
  repeats: 1,
});

/** The reference backend with `overrides` in place, counting prepare calls. */
function variant(overrides: Partial<NMBackend>): NMBackend & { prepares: number } {
  const backend: NMBackend & { prepares: number } = {
    ...referenceBackend((inner) => ({
      prepare: async (w) => {
        backend.prepares++;
        return inner.prepare(w);
      },
    })),
    prepares: 0,
    ...overrides,
  };
  return backend;
}

const run = (backend: NMBackend) => runSuite({ suite, backends: [backend], baselines: [], seed: 1, peakFor: () => undefined });

describe('runSuite preparation', () => {
  it('prepares each weight matrix once for all rows of A', async () => {
    const backend = variant({});
    const { cases } = await run(backend);
    expect(cases.map((c) => c.measurement.status)).toEqual(['ok', 'ok']);
    expect(backend.prepares).toBe(1);
  });

  it('reports a failed prepare as an error on every shape, trying it once', async () => {
    let attempts = 0;
    const backend = variant({
      prepare: async () => {
        attempts++;
        throw new Error('out of device memory');
      },
    });
    const { cases } = await run(backend);
    expect(cases.map((c) => c.measurement.status)).toEqual(['error', 'error']);
    expect(cases[1].measurement.reason).toBe('prepare failed: out of device memory');
    expect(attempts).toBe(1);
  });

  it('skips shapes the backend refuses, with its reason, without preparing', async () => {
    const backend = variant({ check: () => ({ ok: false, reason: 'too large for this device' }) });
    const { cases } = await run(backend);
    expect(cases.map((c) => [c.measurement.status, c.measurement.reason])).toEqual([
      ['skipped', 'too large for this device'],
      ['skipped', 'too large for this device'],
    ]);
    expect(backend.prepares).toBe(0);
  });
});
