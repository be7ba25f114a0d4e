#!/usr/bin/env node
// Builds the CUDA addon with node-gyp when nvcc is present; otherwise explains and exits 0, so installing or
// building the package never fails for lack of CUDA (the backend then reports itself unavailable at run time).
//   NMKIT_CUDA_SKIP_BUILD=1   skip on purpose
//   CUDA_HOME / CUDA_PATH     toolkit location (default: /usr/local/cuda when it has nvcc, else the nvcc on PATH's)
//   NMKIT_CUDA_REQUIRE_BUILD=1  fail (exit 1) when the build fails, for CI jobs that must produce the addon
//   --force                    rebuild even when build/Release/nmkit_cuda.node is newer than every source (default: skip)
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const say = (msg) => console.log(`[@nmkit/cuda] ${msg}`);
const required = process.env.NMKIT_CUDA_REQUIRE_BUILD === '1';

if (process.env.NMKIT_CUDA_SKIP_BUILD === '1') {
  say('NMKIT_CUDA_SKIP_BUILD=1: native build skipped; the cuda backend will report itself unavailable.');
  process.exit(0);
}
if (!process.argv.includes('--force') && !isStale()) {
  say('build/Release/nmkit_cuda.node is up to date.');
  process.exit(0);
}
const { cudaHome, nvcc } = findToolkit();
if (!existsSync(nvcc)) {
  say(`nvcc not found at ${nvcc}: native build skipped (set CUDA_HOME, or put nvcc on PATH, to build it). The cuda backend will report itself unavailable.`);
  process.exit(required ? 1 : 0);
}

const gyp = findNodeGyp();
if (!gyp) {
  say('node-gyp not found (neither installed here nor the one npm ships, npm_config_node_gyp): native build skipped.');
  process.exit(required ? 1 : 0);
}
// Node's own headers: no download (machines without internet), the prefix of the running node.
const nodedir = resolve(dirname(process.execPath), '..');
const jobs = String(Math.max(1, cpus().length));
const args = [gyp, 'rebuild', `--nodedir=${nodedir}`, `--jobs=${jobs}`, `--cuda_home=${cudaHome}`];
say(`building the addon with ${nvcc} (${args.slice(1).join(' ')})`);
const started = Date.now();
const result = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
if (result.status !== 0) {
  say(`native build FAILED (exit ${result.status}); the cuda backend will report itself unavailable.`);
  process.exit(required ? 1 : 0);
}
say(`built build/Release/nmkit_cuda.node in ${((Date.now() - started) / 1000).toFixed(1)} s`);

/**
 * The toolkit: CUDA_HOME / CUDA_PATH, else /usr/local/cuda when it has nvcc, else the one of the nvcc on PATH (which
 * may be a wrapper script: its own dry run names the toolkit, `#$ TOP=…`).
 */
function findToolkit() {
  const home = process.env.CUDA_HOME || process.env.CUDA_PATH;
  if (home) return { cudaHome: home, nvcc: join(home, 'bin', 'nvcc') };
  const fallback = { cudaHome: '/usr/local/cuda', nvcc: '/usr/local/cuda/bin/nvcc' };
  if (existsSync(fallback.nvcc)) return fallback;
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const onPath = join(dir, 'nvcc');
    if (!existsSync(onPath)) continue;
    const dryRun = spawnSync(onPath, ['-dryrun', '-E', '-x', 'cu', '/dev/null'], { encoding: 'utf8' });
    const top = /^#\$ TOP=(.+)$/m.exec(`${dryRun.stdout ?? ''}${dryRun.stderr ?? ''}`)?.[1]?.trim();
    const toolkit = top ? resolve(top) : resolve(dirname(realpathSync(onPath)), '..');
    return { cudaHome: toolkit, nvcc: join(toolkit, 'bin', 'nvcc') };
  }
  return fallback;
}

/**
 * node-gyp: this package's own (a devDependency, in the repository), else the one npm ships and names in
 * npm_config_node_gyp while it runs an install script (a user's `npm install @nmkit/cuda`).
 */
function findNodeGyp() {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('node-gyp/package.json')), 'bin', 'node-gyp.js');
  } catch {
    const bundled = process.env.npm_config_node_gyp;
    return bundled && existsSync(bundled) ? bundled : undefined;
  }
}

/** True unless the addon exists and is newer than binding.gyp and every file under native/. */
function isStale() {
  const built = join(root, 'build', 'Release', 'nmkit_cuda.node');
  if (!existsSync(built)) return true;
  const time = statSync(built).mtimeMs;
  const sources = [join(root, 'binding.gyp')];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else sources.push(path);
    }
  };
  walk(join(root, 'native'));
  return sources.some((path) => statSync(path).mtimeMs > time);
}
