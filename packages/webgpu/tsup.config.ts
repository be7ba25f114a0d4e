import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  // WGSL sources ship inside the bundle as strings.
  loader: { '.wgsl': 'text' },
  external: ['webgpu'],
});
