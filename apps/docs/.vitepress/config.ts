import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type DefaultTheme } from 'vitepress';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Sidebar entries for the API pages typedoc generated into api/ (one page per package entry point). */
function apiSidebar(): DefaultTheme.SidebarItem[] {
  const dir = join(root, 'api');
  if (!existsSync(dir)) return [];
  const pages = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.md') && f !== 'index.md');
  return pages
    .map((file) => {
      const title = /^#\s+(.+)$/m.exec(readFileSync(join(dir, file), 'utf8'))?.[1] ?? file;
      return { text: title.replace(/\\/g, ''), link: `/api/${file.replace(/\.md$/, '').split(sep).join('/')}` };
    })
    .sort((a, b) => a.text.localeCompare(b.text));
}

export default defineConfig({
  title: 'nmkit',
  description: 'N:M structured-sparse matrix multiplication for JavaScript: CPU, WebGPU and CUDA backends.',
  lang: 'en-US',
  head: [['link', { rel: 'icon', type: 'image/svg+xml', href: '/favicon.svg' }]],
  srcExclude: ['README.md', 'test-artifacts/**', 'test/**', 'src/**'],
  lastUpdated: false,
  cleanUrls: false,
  // The site has no external links to crawl; a dead internal link fails the build.
  ignoreDeadLinks: false,
  themeConfig: {
    nav: [
      { text: 'Guide', link: '/guide/what-is-nm' },
      { text: 'Examples', link: '/examples/prune' },
      { text: 'Reference', link: '/reference/format' },
      { text: 'API', link: '/api/' },
      { text: 'Benchmarks', link: '/benchmarks' },
    ],
    sidebar: [
      {
        text: 'Guide',
        items: [
          { text: 'What N:M sparsity is', link: '/guide/what-is-nm' },
          { text: 'Quick start', link: '/guide/quick-start' },
        ],
      },
      {
        text: 'Live examples',
        items: [
          { text: 'Prune a matrix', link: '/examples/prune' },
          { text: 'N:M against dense', link: '/examples/nm-vs-dense' },
        ],
      },
      {
        text: 'Reference',
        items: [
          { text: 'Format and container file', link: '/reference/format' },
          { text: 'Tiling plan and performance model', link: '/reference/tiling-and-performance' },
          { text: 'Contributing a backend', link: '/contributing/backend' },
          { text: 'Benchmark results', link: '/benchmarks' },
        ],
      },
      { text: 'API', link: '/api/', items: apiSidebar() },
    ],
    search: { provider: 'local' },
    outline: { level: [2, 3] },
  },
  vite: {
    build: {
      // Dawn for Node is the webgpu package's Node-only path; browsers use navigator.gpu.
      rollupOptions: { external: ['webgpu'] },
      chunkSizeWarningLimit: 2000,
    },
    ssr: { external: ['webgpu'] },
  },
});
