import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

function run(command: string, args: string[]): string | null {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).trim();
  } catch {
    return null;
  }
}

function readJson(url: URL): Record<string, unknown> | null {
  try {
    const path = fileURLToPath(url);
    return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * Versions of the nmkit packages and their runtime dependencies: from `build-info.json` next to the entry point
 * (written by the GPU bundle, which carries no package.json files), else from the workspace's package.json files.
 */
function packageVersions(): Record<string, string | null> {
  const bundled = readJson(new URL('./build-info.json', import.meta.url));
  if (bundled?.packages) return bundled.packages as Record<string, string | null>;
  const versions: Record<string, string | null> = {};
  for (const name of ['bench', 'format', 'cpu-ref', 'webgpu', 'cuda']) {
    // src/ and dist/ both sit one level below the package, so the workspace is two levels up.
    const json = readJson(new URL(`../../${name}/package.json`, import.meta.url));
    versions[`@nmkit/${name}`] = (json?.version as string | undefined) ?? null;
  }
  const webgpu = readJson(new URL('../../webgpu/node_modules/webgpu/package.json', import.meta.url));
  versions.webgpu = (webgpu?.version as string | undefined) ?? null;
  return versions;
}

/**
 * Everything needed to interpret and reproduce a run: date, command line, commit, Node, OS, CPU, memory, load,
 * GPU and driver (from nvidia-smi when present), package versions and the Vulkan driver selection.
 * @example const env = collectEnvironment(process.argv.slice(2));
 */
export function collectEnvironment(argv: readonly string[]): Record<string, unknown> {
  const cpus = os.cpus();
  const gitRoot = fileURLToPath(new URL('.', import.meta.url));
  const build = readJson(new URL('./build-info.json', import.meta.url));
  const commit = build?.commit ? null : run('git', ['-C', gitRoot, 'rev-parse', 'HEAD']);
  const status = commit ? run('git', ['-C', gitRoot, 'status', '--porcelain', '--untracked-files=no']) : null;
  const gpu = run('nvidia-smi', ['--query-gpu=name,driver_version,memory.total,clocks.max.sm', '--format=csv,noheader']);
  return {
    date: new Date().toISOString(),
    command: `nmkit-bench ${argv.join(' ')}`.trim(),
    argv: [...argv],
    // A bundle's build-info.json names the code that runs; the checkout around it (a copy on a GPU machine, say)
    // may be at any commit, so git is asked only when there is no bundle.
    commit: (build?.commit as string | undefined) ?? commit ?? null,
    commitSource: build?.commit ? 'build-info.json (bundle built from this commit)' : commit ? 'git rev-parse HEAD' : null,
    dirty: build?.commit ? ((build.dirty as boolean | undefined) ?? null) : status === null ? null : status.length > 0,
    node: process.version,
    v8: process.versions.v8,
    platform: `${process.platform}-${process.arch}`,
    os: `${os.type()} ${os.release()}`,
    cpu: cpus[0]?.model ?? 'unknown',
    logicalCores: cpus.length,
    totalMemoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
    gpu: gpu ? gpu.split('\n') : null,
    packages: packageVersions(),
    vulkanDriver: process.env.VK_DRIVER_FILES ?? process.env.VK_ICD_FILENAMES ?? null,
  };
}
