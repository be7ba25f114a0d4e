import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { isBackendRequired } from '@nmkit/format/conformance';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The quick conformance cases in headless Chromium (Debian's package, SwiftShader WebGPU), through the real
// browser path of the package (navigator.gpu, no Node code). Skipped with a reason when Chromium is absent,
// unless NMKIT_REQUIRE_BACKENDS lists 'webgpu-browser'.
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveChromium = existsSync(chromiumPath);
const required = isBackendRequired('webgpu-browser');
const root = resolve(import.meta.dirname, '..');

let server: Server | undefined;
let pageScript = '';

beforeAll(async () => {
  if (!haveChromium) return;
  const bundle = await build({
    entryPoints: [join(root, 'test/browser/page.ts')],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    loader: { '.wgsl': 'text' },
    // The Node-only loader is never reached in a browser; keep its `import('webgpu')` out of the bundle.
    external: ['webgpu'],
    // The conformance cases without their vitest wrapper.
    alias: { '@nmkit/format/conformance': resolve(root, '../format/src/conformance/cases.ts') },
    logLevel: 'warning',
  });
  pageScript = bundle.outputFiles[0].text;
  server = createServer((request, response) => {
    if (request.url === '/page.js') {
      response.writeHead(200, { 'content-type': 'text/javascript' });
      response.end(pageScript);
    } else {
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end('<!doctype html><meta charset="utf-8"><title>nmkit webgpu</title><script type="module" src="/page.js"></script>');
    }
  });
  await new Promise<void>((done) => server!.listen(0, '127.0.0.1', done));
});

afterAll(async () => {
  await new Promise((done) => (server ? server.close(done) : done(undefined)));
});

describe('webgpu in headless Chromium', () => {
  it('runs every quick conformance case through navigator.gpu and passes', async (ctx) => {
    if (!haveChromium) {
      if (required) throw new Error(`webgpu-browser is required but Chromium is missing at ${chromiumPath}`);
      return ctx.skip(`no Chromium at ${chromiumPath} (set CHROMIUM_PATH)`);
    }
    const browser = await chromium.launch({
      executablePath: chromiumPath,
      headless: true,
      // Playwright gives the browser a fresh temporary profile (it refuses --user-data-dir here).
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--enable-unsafe-webgpu',
      ],
    });
    try {
      const page = await browser.newPage();
      const logs: string[] = [];
      page.on('console', (message) => logs.push(message.text()));
      page.on('pageerror', (error) => logs.push(`page error: ${error.message}`));
      const { port } = server!.address() as AddressInfo;
      await page.goto(`http://127.0.0.1:${port}/`);
      await page.waitForFunction(() => (globalThis as { __nmkit?: unknown }).__nmkit !== undefined, undefined, { timeout: 170_000 });
      const report = (await page.evaluate(() => (globalThis as { __nmkit?: unknown }).__nmkit)) as {
        available: boolean;
        reason?: string;
        device?: string;
        error?: string;
        results?: { id: string; ok: boolean; error?: string }[];
      };
      expect(report.error, logs.join('\n')).toBeUndefined();
      expect(report.available, `no WebGPU in Chromium: ${report.reason}`).toBe(true);
      const failures = report.results!.filter((r) => !r.ok).map((r) => `${r.id}: ${r.error}`);
      console.log(`[browser] ${report.device}: ${report.results!.length - failures.length}/${report.results!.length} quick cases passed`);
      expect(failures).toEqual([]);
      expect(report.results!.length).toBeGreaterThan(70);
    } finally {
      await browser.close();
    }
  }, 200_000);
});
