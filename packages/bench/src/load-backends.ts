import type { BackendProvider, NMBackend } from '@nmkit/format';

/** One backend the bench tried to create. */
export type BackendReport =
  | { readonly name: string; readonly available: true; readonly backend: NMBackend }
  | { readonly name: string; readonly available: false; readonly reason: string; readonly fix?: string };

/** Where each backend's provider lives. Imports are static strings so a bundler can follow them. */
const PROVIDERS: readonly { name: string; module: string; exportName: string; load: () => Promise<unknown> }[] = [
  { name: 'cuda', module: '@nmkit/cuda', exportName: 'cudaProvider', load: () => import('@nmkit/cuda') },
  { name: 'webgpu', module: '@nmkit/webgpu', exportName: 'webgpuProvider', load: () => import('@nmkit/webgpu') },
  { name: 'cpu', module: '@nmkit/cpu-ref', exportName: 'cpuProvider', load: () => import('@nmkit/cpu-ref') },
  { name: 'cpu-ref', module: '@nmkit/cpu-ref', exportName: 'cpuReferenceProvider', load: () => import('@nmkit/cpu-ref') },
];

function message(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0] : String(error);
}

function isProvider(value: unknown): value is BackendProvider {
  return typeof value === 'object' && value !== null && typeof (value as BackendProvider).create === 'function';
}

/**
 * Imports each named backend package and creates its backend. Never throws: a package that is missing, fails
 * to import, lacks its provider, or reports itself unavailable is returned with the reason (and fix, if known).
 * @example const reports = await loadBackends(['cuda', 'cpu']); reports.filter((r) => r.available);
 */
export async function loadBackends(names: readonly string[]): Promise<BackendReport[]> {
  const reports: BackendReport[] = [];
  for (const spec of PROVIDERS) {
    if (!names.includes(spec.name)) continue;
    let provider: unknown;
    try {
      const module = (await spec.load()) as Record<string, unknown>;
      provider = module[spec.exportName];
    } catch (error) {
      reports.push({
        name: spec.name,
        available: false,
        reason: `cannot import ${spec.module}: ${message(error)}`,
        fix: `build it: pnpm --filter ${spec.module} build`,
      });
      continue;
    }
    if (!isProvider(provider)) {
      reports.push({ name: spec.name, available: false, reason: `${spec.module} does not export a provider named ${spec.exportName}` });
      continue;
    }
    try {
      const result = await provider.create();
      reports.push(
        result.available
          ? { name: spec.name, available: true, backend: result.backend }
          : { name: spec.name, available: false, reason: result.reason, fix: result.fix },
      );
    } catch (error) {
      reports.push({ name: spec.name, available: false, reason: `${spec.exportName}.create() threw: ${message(error)}` });
    }
  }
  return reports;
}
