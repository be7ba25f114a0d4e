import { describe, expect, it } from 'vitest';
import { BackendRegistry, BackendUnavailableError, type BackendProvider, type NMBackend } from '../src/index.js';

const fake = (name: string) => ({ name }) as unknown as NMBackend;
const provider = (name: string, priority: number, available: boolean | 'throws'): BackendProvider => ({
  name,
  priority,
  create: async () => {
    if (available === 'throws') throw new Error('boom');
    return available ? { available: true, backend: fake(name) } : { available: false, reason: `no ${name} device` };
  },
});

describe('BackendRegistry', () => {
  it('resolves the highest-priority available backend and keeps every skip reason', async () => {
    const registry = new BackendRegistry()
      .register(provider('cpu', 100, true))
      .register(provider('cuda', 300, false))
      .register(provider('webgpu', 200, 'throws'));
    expect(registry.names()).toEqual(['cuda', 'webgpu', 'cpu']);
    const { backend, skipped } = await registry.resolve();
    expect(backend.name).toBe('cpu');
    expect(skipped.map((s) => [s.name, s.reason])).toEqual([
      ['cuda', 'no cuda device'],
      ['webgpu', 'provider threw: boom'],
    ]);
  });

  it('throws a BackendUnavailableError listing all reasons when none is available', async () => {
    const registry = new BackendRegistry().register(provider('cuda', 300, false)).register(provider('webgpu', 200, false));
    await expect(registry.resolve()).rejects.toThrow(BackendUnavailableError);
    await expect(registry.resolve()).rejects.toThrow('cuda: no cuda device; webgpu: no webgpu device');
  });

  it('can be restricted to named backends', async () => {
    const registry = new BackendRegistry().register(provider('cuda', 300, true)).register(provider('cpu', 100, true));
    expect((await registry.resolve(['cpu'])).backend.name).toBe('cpu');
  });
});
