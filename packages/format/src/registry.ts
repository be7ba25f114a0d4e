import type { BackendAvailability, BackendProvider, NMBackend } from './backend.js';
import { BackendUnavailableError } from './errors.js';

/** One backend the registry tried, and what came of it. */
export interface ProbeReport {
  readonly name: string;
  readonly priority: number;
  readonly available: boolean;
  readonly reason?: string;
  readonly fix?: string;
}

/** The chosen backend plus why every higher-priority one was skipped. */
export interface Resolution {
  readonly backend: NMBackend;
  readonly skipped: readonly ProbeReport[];
}

/**
 * Backends registered with a priority and resolved in order, keeping every failure reason.
 * @example
 * const registry = new BackendRegistry().register(cudaProvider).register(cpuProvider);
 * const { backend, skipped } = await registry.resolve();
 */
export class BackendRegistry {
  private readonly providers: BackendProvider[] = [];

  /** Adds a provider (replacing one with the same name). Returns `this` for chaining. */
  register(provider: BackendProvider): this {
    const i = this.providers.findIndex((p) => p.name === provider.name);
    if (i >= 0) this.providers.splice(i, 1);
    this.providers.push(provider);
    this.providers.sort((a, b) => b.priority - a.priority);
    return this;
  }

  /** Registered provider names, best first. */
  names(): string[] {
    return this.providers.map((p) => p.name);
  }

  /**
   * Creates the highest-priority backend that is available (restricted to `only` if given).
   * @throws {BackendUnavailableError} listing every backend's reason when none is available.
   */
  async resolve(only?: readonly string[]): Promise<Resolution> {
    const skipped: ProbeReport[] = [];
    for (const provider of this.providers) {
      if (only && !only.includes(provider.name)) continue;
      const result = await safeCreate(provider);
      if (result.available) return { backend: result.backend, skipped };
      skipped.push({ name: provider.name, priority: provider.priority, available: false, reason: result.reason, fix: result.fix });
    }
    const reasons = skipped.map((s) => `${s.name}: ${s.reason}`);
    // Name what was asked for but never registered, and what is, so a typo or a missing register() call shows.
    const unregistered = only ? only.filter((name) => !this.providers.some((p) => p.name === name)) : [];
    if (unregistered.length > 0) {
      const registered = this.names();
      reasons.push(
        `${unregistered.map((name) => `"${name}"`).join(', ')} ${unregistered.length === 1 ? 'is' : 'are'} not registered ` +
          `(registered: ${registered.length > 0 ? registered.map((name) => `"${name}"`).join(', ') : 'none'})`,
      );
    }
    throw new BackendUnavailableError(
      only ? only.join('|') : 'any',
      reasons.join('; ') || (only ? 'the list of requested backends is empty' : 'no backend is registered'),
      'install a backend package (@nmkit/cpu-ref works everywhere) and register its provider.',
    );
  }

  /** Tries every provider and returns all backends that are available plus the reasons of the others. */
  async createAll(): Promise<{ backends: NMBackend[]; reports: ProbeReport[] }> {
    const backends: NMBackend[] = [];
    const reports: ProbeReport[] = [];
    for (const provider of this.providers) {
      const result = await safeCreate(provider);
      if (result.available) backends.push(result.backend);
      reports.push(
        result.available
          ? { name: provider.name, priority: provider.priority, available: true }
          : { name: provider.name, priority: provider.priority, available: false, reason: result.reason, fix: result.fix },
      );
    }
    return { backends, reports };
  }
}

/** A provider that breaks its promise not to throw is reported as unavailable with the error it threw. */
async function safeCreate(provider: BackendProvider): Promise<BackendAvailability> {
  try {
    return await provider.create();
  } catch (error) {
    return { available: false, reason: `provider threw: ${error instanceof Error ? error.message : String(error)}` };
  }
}
