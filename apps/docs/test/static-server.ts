import { readFile, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

/** A running static server; `missing` lists every path it answered 404 for. */
export interface StaticServer {
  readonly origin: string;
  readonly missing: string[];
  close(): Promise<void>;
}

/**
 * Serves a built VitePress site on 127.0.0.1 (a free port), as a static host would: `/x/` → `/x/index.html`,
 * `/x` → `/x.html` (clean URLs), correct MIME types (module scripts need text/javascript), 404 otherwise.
 * @example const server = await serveStatic('.vitepress/dist'); await page.goto(`${server.origin}/`);
 */
export async function serveStatic(root: string): Promise<StaticServer> {
  const base = normalize(root);
  const missing: string[] = [];
  const server: Server = createServer(async (request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
    const file = await resolveFile(base, path);
    if (!file) {
      missing.push(path);
      response.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${path}`);
      return;
    }
    const body = await readFile(file);
    response.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    missing,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function resolveFile(base: string, path: string): Promise<string | undefined> {
  const candidate = normalize(join(base, path));
  if (candidate !== base && !candidate.startsWith(base + sep)) return undefined; // no escaping the root
  for (const file of [candidate, join(candidate, 'index.html'), `${candidate}.html`]) {
    try {
      if ((await stat(file)).isFile()) return file;
    } catch {
      // try the next form
    }
  }
  return undefined;
}
