import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Newest modification time under `dir` (files only; node_modules, dist and caches skipped). */
function newestMtime(dir: string): number {
  if (!existsSync(dir)) return 0;
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (['node_modules', 'dist', 'cache', 'test-artifacts', '.turbo'].includes(entry.name)) continue;
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * Builds the site (typedoc, then `vitepress build`) unless `.vitepress/dist` is newer than every source of it:
 * the pages, the theme, the figure and example code, and the packages' built dist/ (turbo builds before tests).
 * Returns the dist folder.
 */
export function ensureSiteBuilt(docsRoot: string): string {
  const dist = join(docsRoot, '.vitepress', 'dist');
  const index = join(dist, 'index.html');
  const packages = join(docsRoot, '..', '..', 'packages');
  const sources = [
    newestMtime(join(docsRoot, '.vitepress', 'theme')),
    statSync(join(docsRoot, '.vitepress', 'config.ts')).mtimeMs,
    newestMtime(join(docsRoot, 'src')),
    ...['guide', 'examples', 'reference', 'contributing', 'public'].map((d) => newestMtime(join(docsRoot, d))),
    ...['index.md', 'benchmarks.md'].map((f) => statSync(join(docsRoot, f)).mtimeMs),
    ...['format', 'cpu-ref', 'webgpu'].map((p) => newestMtime(join(packages, p, 'dist'))),
    newestMtime(join(packages, 'bench', 'results')),
  ];
  const fresh = existsSync(index) && statSync(index).mtimeMs > Math.max(...sources) && process.env.NMKIT_DOCS_REBUILD !== '1';
  if (!fresh) {
    const bin = (name: string) => join(docsRoot, 'node_modules', '.bin', name);
    execFileSync(bin('typedoc'), [], { cwd: docsRoot, stdio: 'inherit' });
    execFileSync(bin('vitepress'), ['build'], { cwd: docsRoot, stdio: 'inherit' });
  }
  return dist;
}

/** Every page of the built site as a URL path (404.html excluded), e.g. `/guide/what-is-nm.html`. */
export function sitePages(dist: string, dir = ''): string[] {
  const pages: string[] = [];
  for (const entry of readdirSync(join(dist, dir), { withFileTypes: true })) {
    const rel = dir ? `${dir}/${entry.name}` : entry.name;
    if (entry.isDirectory() && entry.name !== 'assets') pages.push(...sitePages(dist, rel));
    else if (entry.name.endsWith('.html') && rel !== '404.html') pages.push(`/${rel}`);
  }
  return pages.sort();
}
