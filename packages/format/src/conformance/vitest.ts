import { afterAll, beforeAll, describe, it } from 'vitest';
import type { BackendAvailability, NMBackend } from '../backend.js';
import { type ConformanceScale, conformanceCases } from './cases.js';

/** Environment variable listing backends that must be available (comma-separated); CI sets it. */
export const REQUIRE_BACKENDS_ENV = 'NMKIT_REQUIRE_BACKENDS';

/** Options of {@link describeConformance}. */
export interface ConformanceOptions {
  /** Creates the backend under test; must not throw (report unavailability instead). */
  readonly create: () => Promise<BackendAvailability>;
  /** `quick` for slow software drivers (default `full`). */
  readonly scale?: ConformanceScale;
  /** Known gaps: case id → why this backend does not pass it yet. Each is reported as skipped with its reason. */
  readonly knownGaps?: Readonly<Record<string, string>>;
  /** Per-test timeout in ms (default 120 000). */
  readonly timeoutMs?: number;
}

/** True when `name` is listed in NMKIT_REQUIRE_BACKENDS, so unavailability must fail rather than skip. */
export function isBackendRequired(name: string): boolean {
  const list = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[REQUIRE_BACKENDS_ENV];
  return (list ?? '').split(',').map((s) => s.trim()).includes(name);
}

/**
 * Replays the whole conformance suite against one backend, in one line from the backend's tests.
 * An unavailable backend shows as skipped with its reason, unless it is listed in `NMKIT_REQUIRE_BACKENDS`.
 * @example describeConformance('cpu', { create: () => cpuProvider.create() });
 */
export function describeConformance(name: string, options: ConformanceOptions): void {
  const timeout = options.timeoutMs ?? 120_000;
  describe(`conformance: ${name}`, () => {
    let availability: BackendAvailability | undefined;
    let backend: NMBackend | undefined;
    beforeAll(async () => {
      availability = await options.create();
      if (availability.available) backend = availability.backend;
    }, timeout);
    afterAll(async () => {
      await backend?.dispose();
    });

    it('is available', (ctx) => {
      if (availability?.available) return;
      const reason = availability ? availability.reason : 'create() did not finish';
      if (isBackendRequired(name)) throw new Error(`${name} is required (${REQUIRE_BACKENDS_ENV}) but unavailable: ${reason}`);
      console.warn(`[conformance] ${name} skipped: ${reason}`);
      ctx.skip(`unavailable: ${reason}`);
    });

    for (const testCase of conformanceCases(options.scale)) {
      const gap = options.knownGaps?.[testCase.id];
      it(
        testCase.id,
        async (ctx) => {
          if (gap) return ctx.skip(`known gap: ${gap}`);
          if (!backend) {
            if (isBackendRequired(name)) throw new Error(`${name} is required but unavailable`);
            return ctx.skip('backend unavailable');
          }
          await testCase.run(backend);
        },
        timeout,
      );
    }
  });
}
