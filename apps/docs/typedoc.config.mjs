// @ts-check
/**
 * API reference: typedoc over @nmkit/format (main and conformance entry points) and every backend package's
 * src/index.ts that exists, written as Markdown pages into api/ (git-ignored) for VitePress.
 */
import { existsSync } from 'node:fs';

const candidates = [
  '../../packages/format/src/index.ts',
  '../../packages/format/src/conformance/index.ts',
  '../../packages/cpu-ref/src/index.ts',
  '../../packages/webgpu/src/index.ts',
  '../../packages/cuda/src/index.ts',
];

/** @type {Partial<import('typedoc').TypeDocOptions & import('typedoc-plugin-markdown').PluginOptions>} */
const config = {
  entryPoints: candidates.filter((path) => existsSync(new URL(path, import.meta.url))),
  entryPointStrategy: 'resolve',
  tsconfig: './tsconfig.typedoc.json',
  plugin: ['typedoc-plugin-markdown', './typedoc-module-names.mjs'],
  out: './api',
  cleanOutputDir: true,
  readme: 'none',
  name: 'API reference',
  // Backends' own types (WebGPU, Node addons) are not all visible from here; the packages typecheck themselves.
  skipErrorChecking: true,
  excludePrivate: true,
  excludeInternal: true,
  excludeExternals: true,
  outputFileStrategy: 'modules',
  entryFileName: 'index',
  hidePageHeader: true,
  hideBreadcrumbs: true,
  useCodeBlocks: true,
  parametersFormat: 'table',
  interfacePropertiesFormat: 'table',
  classPropertiesFormat: 'table',
  typeDeclarationFormat: 'table',
  enumMembersFormat: 'table',
  sort: ['kind', 'source-order'],
  disableSources: true,
  logLevel: 'Warn',
  validation: { notExported: false, invalidLink: true, rewrittenLink: true },
};

export default config;
