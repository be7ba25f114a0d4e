import { defineConfig } from 'tsup';

// The benchmark, bundled to dist-bench/cpu-bench.js; its workers run dist/worker.js from the main build.
export default defineConfig({
  entry: { 'cpu-bench': 'bench/cpu-bench.ts' },
  outDir: 'dist-bench',
  format: ['esm'],
  platform: 'node',
  target: 'es2022',
  clean: true,
  external: ['@nmkit/format', '@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-cpu'],
});
