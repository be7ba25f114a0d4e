import { nmPattern, randomCompressed, randomDense } from '@nmkit/format';
import { describe, expect, it } from 'vitest';
import { standIn } from './stand-in-addon.js';

// The planner's plans are cached per weights and M (the stand-in addon records the plan of every call).

describe('plan cache', () => {
  it('reuses the plan of a repeated shape and plans again after the split-K reduction changes', async () => {
    const { backend, calls } = standIn();
    const w = await backend.prepare(randomCompressed(4096, 256, nmPattern(8, 32, 32), 1));
    await backend.matmul(randomDense(64, 4096, 2), w);
    await backend.matmul(randomDense(64, 4096, 3), w);
    await backend.matmul(randomDense(2, 4096, 4), w);
    expect(calls[1].plan).toBe(calls[0].plan); // the same object: no second planning
    expect(Object.isFrozen(calls[0].plan)).toBe(true); // shared, so nobody may change it
    expect(calls[2].plan).not.toEqual(calls[0].plan);
    expect(calls[0].plan.cluster).toBe(1); // 64 × 256 is a small grid: split-K through clusters
    backend.splitKReduction = 'atomic';
    await backend.matmul(randomDense(64, 4096, 5), w);
    expect(calls[3].plan.cluster).toBe(0);
    expect(calls[3].plan.splitK).toBeGreaterThan(1);
  });
});
