import type { NMBackend } from '@nmkit/format';
import { type ConformanceScale, conformanceCases } from '@nmkit/format/conformance';

/** One case's outcome. */
export interface CaseResult {
  readonly id: string;
  readonly ok: boolean;
  readonly ms: number;
  readonly error?: string;
}

/**
 * Runs the conformance cases (no test framework: usable in a browser page and in a plain Node script).
 * @example const results = await runConformance(backend, 'quick'); results.every((r) => r.ok)
 */
export async function runConformance(backend: NMBackend, scale: ConformanceScale, log?: (line: string) => void): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  for (const testCase of conformanceCases(scale)) {
    const start = performance.now();
    try {
      await testCase.run(backend);
      results.push({ id: testCase.id, ok: true, ms: performance.now() - start });
    } catch (error) {
      results.push({ id: testCase.id, ok: false, ms: performance.now() - start, error: String((error as Error)?.message ?? error) });
    }
    const last = results[results.length - 1];
    log?.(`${last.ok ? 'pass' : 'FAIL'} ${last.id} (${last.ms.toFixed(0)} ms)${last.error ? `: ${last.error}` : ''}`);
  }
  return results;
}
