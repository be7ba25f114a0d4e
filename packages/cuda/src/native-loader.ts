import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NativeAddon } from './native-types.js';

/** Environment variable naming a built `nmkit_cuda.node` to load before the usual places. */
export const ADDON_PATH_ENV = 'NMKIT_CUDA_ADDON';

/** One place the loader looked, and what went wrong there. */
export interface AddonAttempt {
  readonly path: string;
  readonly error: string;
}

/** The addon, or a diagnosis (reason + fix) that keeps every attempt. */
export type AddonLoad =
  | { readonly ok: true; readonly addon: NativeAddon; readonly path: string }
  | { readonly ok: false; readonly reason: string; readonly fix: string; readonly attempts: readonly AddonAttempt[] };

/** The package root: both `src/` (tests) and `dist/` (built) sit one level below it. */
function packageRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..');
}

/**
 * Every place the binary may be, in order: `$NMKIT_CUDA_ADDON`, `build/Release`, `build/Debug`, `prebuilds/linux-x64`.
 * @example addonCandidates()[0] // '/…/node_modules/@nmkit/cuda/build/Release/nmkit_cuda.node' unless the env var is set
 */
export function addonCandidates(env: Record<string, string | undefined> = process.env): string[] {
  const root = packageRoot();
  const list = [
    join(root, 'build', 'Release', 'nmkit_cuda.node'),
    join(root, 'build', 'Debug', 'nmkit_cuda.node'),
    join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'nmkit_cuda.node'),
  ];
  const own = env[ADDON_PATH_ENV];
  return own ? [resolve(own), ...list] : list;
}

/**
 * Loads the native addon, trying each candidate and turning failures into a diagnosis with fixes (sharp-style).
 * Never throws.
 * @example const load = loadAddon(); if (!load.ok) console.log(load.reason, load.fix);
 */
export function loadAddon(candidates: readonly string[] = addonCandidates()): AddonLoad {
  const require = createRequire(import.meta.url);
  const attempts: AddonAttempt[] = [];
  for (const path of candidates) {
    if (!existsSync(path)) {
      attempts.push({ path, error: 'no such file' });
      continue;
    }
    try {
      const addon = require(path) as NativeAddon;
      if (typeof addon?.probe !== 'function' || typeof addon?.Context !== 'function') {
        attempts.push({ path, error: 'not an nmkit_cuda addon (no probe/Context export)' });
        continue;
      }
      return { ok: true, addon, path };
    } catch (error) {
      attempts.push({ path, error: error instanceof Error ? error.message : String(error) });
    }
  }
  return { ok: false, ...diagnoseLoadFailure(attempts), attempts };
}

/** Turns the loader's attempts into one reason and a fix, naming each path tried. */
export function diagnoseLoadFailure(attempts: readonly AddonAttempt[]): { reason: string; fix: string } {
  const found = attempts.filter((a) => a.error !== 'no such file');
  const looked = attempts.map((a) => a.path).join(', ');
  const build = `install the CUDA toolkit (nvcc; CUDA_HOME, default /usr/local/cuda) and run "pnpm --filter @nmkit/cuda run build" (node scripts/build-native.mjs), or set ${ADDON_PATH_ENV} to a built nmkit_cuda.node`;
  if (found.length === 0) {
    return { reason: `the native addon is not built (looked in ${looked})`, fix: build };
  }
  const details = found.map((a) => `${a.path}: ${a.error}`).join('; ');
  const text = details.toLowerCase();
  if (text.includes('node_module_version') || text.includes('was compiled against a different node.js')) {
    return { reason: `the addon was built for another Node.js version (${details})`, fix: `rebuild it with this Node.js: ${build}` };
  }
  if (text.includes('elf') || text.includes('wrong elf class') || text.includes('exec format')) {
    return { reason: `the addon was built for another platform (${details})`, fix: `rebuild it on ${process.platform}-${process.arch}: ${build}` };
  }
  if (text.includes('glibc') || text.includes('glibcxx') || text.includes('cxxabi')) {
    return { reason: `the addon needs a newer C/C++ runtime than this system has (${details})`, fix: `rebuild it on this system: ${build}` };
  }
  return { reason: `the addon failed to load (${details})`, fix: build };
}
