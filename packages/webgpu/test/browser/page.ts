// The browser page: imports the real package source (bundled by esbuild), runs the quick conformance cases
// through navigator.gpu and publishes the results on window.__nmkit for the test to read.
import { createWebGPUBackend } from '../../src/index.js';
import { runConformance } from '../../scripts/run-conformance.js';

interface PageReport {
  available: boolean;
  reason?: string;
  device?: string;
  results?: { id: string; ok: boolean; ms: number; error?: string }[];
  error?: string;
}

const target = globalThis as unknown as { __nmkit?: PageReport; document?: { body: { textContent: string } } };

async function main(): Promise<PageReport> {
  const created = await createWebGPUBackend();
  if (!created.available) return { available: false, reason: created.reason };
  const backend = created.backend;
  try {
    const results = await runConformance(backend, 'quick');
    return { available: true, device: backend.device, results };
  } finally {
    await backend.dispose();
  }
}

main().then(
  (report) => {
    target.__nmkit = report;
  },
  (error: unknown) => {
    target.__nmkit = { available: false, error: String((error as Error)?.stack ?? error) };
  },
);
