#!/usr/bin/env node
// Bundles the bench CLI into ONE folder that runs on a machine without node_modules (the H100 test machine):
//
//   gpu-bundle/cli.js                      the CLI with @nmkit/*, tfjs and their deps inlined (esbuild)
//   gpu-bundle/worker.js                   the fast CPU backend's worker-thread script (it is loaded beside cli.js)
//   gpu-bundle/nmkit_cuda.node             the CUDA addon, if built (cli.js points NMKIT_CUDA_ADDON at it)
//   gpu-bundle/node_modules/webgpu/        dawn.node (linux-x64 only) + its small JS loader, kept external
//   gpu-bundle/build-info.json             package versions and the commit it was built from
//
// Usage (from packages/bench, after `pnpm build` at the root): node scripts/bundle-gpu.mjs
// Then on the GPU machine: node packages/bench/gpu-bundle/cli.js paper --backends cuda,webgpu --out $OUT/paper
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const bench = resolve(here, '..');
const packages = resolve(bench, '..');
const out = join(bench, 'gpu-bundle');
const say = (text) => process.stderr.write(`[bundle-gpu] ${text}\n`);

// The bundle inlines each package's dist/, so a dist/ older than its src/ would ship old code under the new commit
// (build-info.json would name a commit whose code is not in the bundle): refuse, and say how to rebuild.
/** The first file under `sourceDir` modified after `builtFile`, or undefined (also when either is missing). */
const newerSource = (sourceDir, builtFile) => {
  if (!existsSync(sourceDir) || !existsSync(builtFile)) return undefined;
  const built = statSync(builtFile).mtimeMs;
  return readdirSync(sourceDir, { recursive: true }).find((f) => statSync(join(sourceDir, String(f))).mtimeMs > built);
};
const stale = [];
for (const name of readdirSync(packages)) {
  const newer = newerSource(join(packages, name, 'src'), join(packages, name, 'dist/index.js'));
  if (newer) stale.push(`${name} (src/${newer} is newer than dist/)`);
}
// The same for the CUDA addon, which is copied as built: it must be newer than every native source.
const addon = join(packages, 'cuda/build/Release/nmkit_cuda.node');
const newerNative = newerSource(join(packages, 'cuda/native'), addon);
if (newerNative) stale.push(`cuda addon (native/${newerNative} is newer than build/Release/nmkit_cuda.node)`);
if (stale.length > 0) {
  say(`stale build: ${stale.join(', ')}. Run \`npx pnpm@12.21.0 -r --filter "./packages/*" run build\` first.`);
  process.exit(1);
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

// A backend package that has not been built is left external: the CLI then lists it as unavailable with the
// import error instead of failing the whole bundle.
const unbuilt = [];
const tolerateMissing = {
  name: 'tolerate-missing-backends',
  setup(b) {
    b.onResolve({ filter: /^@nmkit\/(cuda|webgpu|cpu-ref)$/ }, async (args) => {
      if (args.pluginData?.probing) return undefined;
      const result = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: { probing: true } });
      if (result.errors.length > 0) {
        unbuilt.push(args.path);
        return { path: args.path, external: true };
      }
      return result;
    });
  },
};

// CommonJS dependencies inlined into ESM still call require(); the CUDA addon is found beside cli.js.
const banner = [
  '#!/usr/bin/env node',
  "import { createRequire as __nmkitCreateRequire } from 'node:module';",
  "import { existsSync as __nmkitExists } from 'node:fs';",
  "import { fileURLToPath as __nmkitPath } from 'node:url';",
  'const require = __nmkitCreateRequire(import.meta.url);',
  "{ const addon = __nmkitPath(new URL('./nmkit_cuda.node', import.meta.url)); if (!process.env.NMKIT_CUDA_ADDON && __nmkitExists(addon)) process.env.NMKIT_CUDA_ADDON = addon; }",
].join('\n');

await build({
  entryPoints: { cli: join(bench, 'src/cli.ts') },
  outdir: out,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['webgpu'],
  loader: { '.wgsl': 'text' },
  banner: { js: banner },
  plugins: [tolerateMissing],
  logLevel: 'warning',
});

const cpuWorker = join(packages, 'cpu-ref/dist/worker.js');
if (existsSync(cpuWorker)) {
  await build({
    entryPoints: { worker: cpuWorker },
    outdir: out,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'warning',
  });
} else {
  say(`no ${relative(bench, cpuWorker)}: the cpu backend will be unavailable in the bundle (build @nmkit/cpu-ref first)`);
}

if (existsSync(addon)) copyFileSync(addon, join(out, 'nmkit_cuda.node'));
else say(`no ${relative(bench, addon)}: the cuda backend will be unavailable in the bundle (pnpm --filter @nmkit/cuda build)`);

// dawn.node and its loader, found the way @nmkit/webgpu finds them.
let webgpuVersion = null;
try {
  const requireFromWebgpu = createRequire(join(packages, 'webgpu/package.json'));
  const webgpuRoot = dirname(requireFromWebgpu.resolve('webgpu/package.json'));
  const target = join(out, 'node_modules/webgpu');
  mkdirSync(join(target, 'dist/linux-x64'), { recursive: true });
  for (const file of ['index.js', 'package.json', 'LICENSE.md']) {
    if (existsSync(join(webgpuRoot, file))) copyFileSync(join(webgpuRoot, file), join(target, file));
  }
  copyFileSync(join(webgpuRoot, 'dist/linux-x64/dawn.node'), join(target, 'dist/linux-x64/dawn.node'));
  webgpuVersion = JSON.parse(readFileSync(join(webgpuRoot, 'package.json'), 'utf8')).version;
} catch (error) {
  say(`webgpu (dawn.node) not copied: ${error.message.split('\n')[0]}; the webgpu backend will be unavailable in the bundle`);
}

const version = (dir) => {
  try {
    return JSON.parse(readFileSync(join(packages, dir, 'package.json'), 'utf8')).version;
  } catch {
    return null;
  }
};
let commit = null;
let dirty = null;
try {
  commit = execFileSync('git', ['-C', bench, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
  // Uncommitted changes to tracked files mean the bundle is not exactly that commit.
  dirty = execFileSync('git', ['-C', bench, 'status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim() !== '';
} catch {}
const info = {
  builtAt: new Date().toISOString(),
  commit,
  dirty,
  packages: Object.fromEntries([
    ...['bench', 'format', 'cpu-ref', 'webgpu', 'cuda'].map((p) => [`@nmkit/${p}`, version(p)]),
    ['webgpu', webgpuVersion],
  ]),
  unbuiltBackends: unbuilt,
};
writeFileSync(join(out, 'build-info.json'), `${JSON.stringify(info, null, 2)}\n`);

const sizes = [];
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else sizes.push([relative(out, path), statSync(path).size]);
  }
};
walk(out);
const total = sizes.reduce((s, [, b]) => s + b, 0);
for (const [path, bytes] of sizes) say(`${path.padEnd(40)} ${(bytes / 2 ** 20).toFixed(1)} MiB`);
say(`total ${(total / 2 ** 20).toFixed(1)} MiB in ${relative(process.cwd(), out) || out}${unbuilt.length ? `; not built, left out: ${unbuilt.join(', ')}` : ''}`);
