#!/usr/bin/env node
// Builds the CUDA addon with node-gyp when nvcc is present; otherwise explains and exits 0, so installing or
// building the package never fails for lack of CUDA (the backend then reports itself unavailable at run time).
//   NMKIT_CUDA_SKIP_BUILD=1   skip on purpose
//   CUDA_HOME / CUDA_PATH     toolkit location (default /usr/local/cuda)
//   NMKIT_CUDA_REQUIRE_BUILD=1  fail (exit 1) when the build fails, for CI jobs that must produce the addon
//   --force                    rebuild even when build/Release/nmkit_cuda.node is newer than every source (default: skip)
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
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
const cudaHome = process.env.CUDA_HOME || process.env.CUDA_PATH || '/usr/local/cuda';
const nvcc = join(cudaHome, 'bin', 'nvcc');
if (!existsSync(nvcc)) {
  say(`nvcc not found at ${nvcc}: native build skipped (set CUDA_HOME to build it). The cuda backend will report itself unavailable.`);
  process.exit(required ? 1 : 0);
}

const require = createRequire(import.meta.url);
let gyp;
try {
  gyp = join(dirname(require.resolve('node-gyp/package.json')), 'bin', 'node-gyp.js');
} catch {
  say('node-gyp is not installed (it is a devDependency): native build skipped.');
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
