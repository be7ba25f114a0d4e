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

  it('names the requested backends that are not registered, and the registered ones', async () => {
    const registry = new BackendRegistry().register(provider('cpu-ref', 0, true)).register(provider('webgpu', 200, false));
    const error = await registry.resolve(['cuda']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect((error as Error).message).toContain('"cuda" is not registered (registered: "webgpu", "cpu-ref")');
    expect((error as Error).message).not.toContain('no backend is registered');
    // A registered but unavailable backend keeps its own reason next to the missing one.
    await expect(registry.resolve(['webgpu', 'cuda', 'metal'])).rejects.toThrow(
      'webgpu: no webgpu device; "cuda", "metal" are not registered (registered: "webgpu", "cpu-ref")',
    );
    await expect(new BackendRegistry().resolve(['cuda'])).rejects.toThrow('"cuda" is not registered (registered: none)');
  });

  it('can be restricted to named backends', async () => {
    const registry = new BackendRegistry().register(provider('cuda', 300, true)).register(provider('cpu', 100, true));
    expect((await registry.resolve(['cpu'])).backend.name).toBe('cpu');
  });
});
