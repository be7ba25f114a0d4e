import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/cli.ts', 'src/update-readme.ts'],
  format: ['esm'],
  sourcemap: true,
  clean: true,
  target: 'es2022',
  banner: { js: '#!/usr/bin/env node' },
});
