// Bundles the benchmark (and the crash reproduction) into device-bundle/ (git-ignored) for the GPU machine:
// one ESM file per entry point, dawn.node where the bundled `webgpu` loader looks for it, and the CUDA addon
// when it is built (for cuBLAS in the same run). Run from packages/webgpu: node scripts/bundle-device.mjs
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { build } from 'esbuild';

const root = resolve(import.meta.dirname, '..');
const out = join(root, 'device-bundle');
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'dist', 'linux-x64'), { recursive: true });
await build({
  entryPoints: {
    bench: join(root, 'scripts/bench.ts'),
    repro: join(root, 'repro/dawn-crash.mjs'),
    'default-kernels': join(root, 'scripts/default-kernels.ts'),
  },
  outdir: out,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  loader: { '.wgsl': 'text' },
  alias: { '@nmkit/cuda': resolve(root, '../cuda/src/index.ts') },
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  logLevel: 'warning',
});
const webgpuDir = dirname(createRequire(join(root, 'package.json')).resolve('webgpu'));
copyFileSync(join(webgpuDir, 'dist/linux-x64/dawn.node'), join(out, 'dist/linux-x64/dawn.node'));
const addon = resolve(root, '../cuda/build/Release/nmkit_cuda.node');
if (existsSync(addon)) copyFileSync(addon, join(out, 'nmkit_cuda.node'));
console.log(`bundled into ${out}${existsSync(addon) ? ' (with the CUDA addon)' : ''}`);
