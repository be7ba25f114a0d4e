import { defineConfig } from 'tsup';

export default defineConfig({
  // worker.js is the worker thread's script, loaded by URL from beside index.js / index.cjs.
  entry: { index: 'src/index.ts', worker: 'src/worker.ts' },
  format: ['esm', 'cjs'],
  dts: { entry: { index: 'src/index.ts' } },
  sourcemap: true,
  clean: true,
  target: 'es2022',
  // import.meta.url (locating worker.js) in the CommonJS build too.
  shims: true,
  // No shared chunk: dist/worker.js stays one self-contained file that can be copied beside any bundle.
  splitting: false,
});
