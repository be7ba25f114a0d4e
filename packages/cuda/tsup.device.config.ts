import { defineConfig } from 'tsup';

// One self-contained ESM file for the GPU machine (no node_modules there): the conformance / stress / benchmark
// runner with @nmkit/format bundled in. The addon is loaded from NMKIT_CUDA_ADDON.
export default defineConfig({
  entry: { 'device-run': 'scripts/device-run.ts' },
  outDir: 'build/device',
  format: ['esm'],
  platform: 'node',
  target: 'node20',
  bundle: true,
  noExternal: [/.*/],
  clean: true,
  dts: false,
  sourcemap: false,
  shims: true,
});
