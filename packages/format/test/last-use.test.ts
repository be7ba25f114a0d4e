import { describe, expect, it } from 'vitest';
import { DisposedError, LastUse } from '../src/index.js';

describe('LastUse', () => {
  it('frees at dispose() when nothing holds the object, once', () => {
    let freed = 0;
    const use = new LastUse(() => freed++, () => 'Thing 2×3');
    expect(use.dispose()).toBe(true);
    expect(use.dispose()).toBe(false);
    expect([freed, use.disposed]).toEqual([1, true]);
  });

  it('defers the free to the end of the last call holding the object, and refuses new calls at once', async () => {
    let freed = 0;
    const use = new LastUse(() => freed++, () => 'Thing 2×3', 'make another.');
    let finish: () => void = () => {};
    const first = use.holding(() => new Promise<string>((resolve) => (finish = () => resolve('done'))));
    const second = use.holding(async () => 'quick');
    expect(use.held).toBe(true);
    use.dispose();
    expect(freed).toBe(0);
    await expect(use.holding(async () => 'late')).rejects.toThrow(DisposedError);
    await expect(use.holding(async () => 'late')).rejects.toThrow(/Thing 2×3 has been disposed.*make another/);
    expect(await second).toBe('quick');
    expect(freed).toBe(0); // the first call still holds it
    finish();
    expect(await first).toBe('done');
    expect([freed, use.held]).toEqual([1, false]);
  });

  it('releases the hold when the call fails', async () => {
    let freed = 0;
    const use = new LastUse(() => freed++, () => 'Thing');
    const failing = use.holding(async () => {
      throw new Error('boom');
    });
    use.dispose();
    await expect(failing).rejects.toThrow('boom');
    expect(freed).toBe(1);
  });
});
