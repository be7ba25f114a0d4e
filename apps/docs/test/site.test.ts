import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isBackendRequired } from '@nmkit/format/conformance';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureSiteBuilt, sitePages } from './site-build.js';
import { type StaticServer, serveStatic } from './static-server.js';

const docsRoot = fileURLToPath(new URL('..', import.meta.url));
const artifacts = join(docsRoot, 'test-artifacts');
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const missingBrowser = existsSync(chromiumPath) ? undefined : `no Chromium at ${chromiumPath} (apt-get install chromium, or set CHROMIUM_PATH)`;

// Without Chromium the site cannot be driven: skipped with the reason, unless CI requires it (docs-browser).
if (missingBrowser && isBackendRequired('docs-browser')) {
  throw new Error(`docs-browser is required (NMKIT_REQUIRE_BACKENDS) but ${missingBrowser}`);
}
if (missingBrowser) console.warn(`[docs] browser tests skipped: ${missingBrowser}`);

/** Largest |WebGPU − CPU reference| accepted: the examples' inputs are in [-1, 1) and K ≤ 512. */
const MAX_ERROR = 1e-3;

describe.skipIf(missingBrowser !== undefined)('docs site in Chromium (WebGPU on SwiftShader)', () => {
  let server: StaticServer;
  let browser: Browser;
  let profile: string;
  let pages: string[] = [];

  beforeAll(async () => {
    const dist = ensureSiteBuilt(docsRoot);
    pages = sitePages(dist);
    server = await serveStatic(dist);
    profile = await mkdtemp(join(tmpdir(), 'nmkit-docs-chromium-'));
    browser = await chromium.launch({
      executablePath: chromiumPath,
      // shared/notes/toolchain.md: headless Debian Chromium exposes a SwiftShader WebGPU adapter with these flags.
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
      env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? profile },
    });
    mkdirSync(artifacts, { recursive: true });
  }, 150_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (profile) await rm(profile, { recursive: true, force: true });
  });

  /** Opens a page and records every console error, uncaught exception, failed request and hydration warning. */
  async function open(path: string, withoutWebGPU = false): Promise<{ page: Page; problems: string[] }> {
    const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
    // A browser without WebGPU: hide navigator.gpu before any page script runs.
    if (withoutWebGPU) await page.addInitScript(() => Object.defineProperty(navigator, 'gpu', { value: undefined }));
    const problems: string[] = [];
    page.on('console', (message) => {
      const text = message.text();
      if (message.type() === 'error' || /hydration/i.test(text)) problems.push(`console ${message.type()}: ${text}`);
    });
    page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
    page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()} (${request.failure()?.errorText})`));
    page.on('response', (response) => {
      if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.url()}`);
    });
    await page.goto(`${server.origin}${path}`, { waitUntil: 'networkidle' });
    return { page, problems };
  }

  it('has every page the sidebar promises', () => {
    for (const path of [
      '/index.html',
      '/guide/what-is-nm.html',
      '/guide/quick-start.html',
      '/examples/prune.html',
      '/examples/nm-vs-dense.html',
      '/reference/format.html',
      '/reference/tiling-and-performance.html',
      '/contributing/backend.html',
      '/benchmarks.html',
      '/api/index.html',
    ]) {
      expect(pages, `${path} was not built`).toContain(path);
    }
    expect(pages.filter((p) => p.startsWith('/api/')).length, 'typedoc pages').toBeGreaterThanOrEqual(4);
  });

  it('loads every page without console errors, failed requests or hydration mismatches', async () => {
    const failures: string[] = [];
    for (const path of pages) {
      const { page, problems } = await open(path);
      const title = await page.title();
      if (!/nmkit/.test(title)) problems.push(`unexpected title "${title}"`);
      await page.close();
      failures.push(...problems.map((p) => `${path}: ${p}`));
    }
    expect(failures).toEqual([]);
    expect(server.missing).toEqual([]);
  }, 120_000);

  it('draws the generated figures and tables', async () => {
    const { page, problems } = await open('/guide/what-is-nm.html');
    expect(await page.locator('.nm-figure svg').count()).toBe(3);
    expect(await page.locator('.nm-figure svg title').first().textContent()).toContain('2:4');
    // The model's table: 4 values of M × 4 series, generated from performanceModel.
    expect(await page.locator('table tbody tr').count()).toBeGreaterThanOrEqual(16);
    await page.screenshot({ path: join(artifacts, 'what-is-nm.png'), fullPage: true });
    await page.close();

    const format = await open('/reference/format.html');
    const dump = await format.page.locator('.nm-dump tbody tr').count();
    expect(dump, 'the annotated container dump').toBeGreaterThan(16);
    await format.page.close();
    const bench = await open('/benchmarks.html');
    const runs = await bench.page.locator('[data-testid=results-index] tbody tr').count();
    const empty = await bench.page.locator('[data-testid=no-results]').count();
    expect(runs > 0 || empty === 1, 'either a results index or "no results yet"').toBe(true);
    // Runs timed on device matrices are labelled, one index row each, so they are not mistaken for the default runs.
    const resultsRoot = join(docsRoot, '../../packages/bench/results');
    const deviceRuns = readdirSync(resultsRoot).filter((name) => {
      const file = join(resultsRoot, name, 'results.json');
      return existsSync(file) && (JSON.parse(readFileSync(file, 'utf8')) as { settings?: { operands?: string } }).settings?.operands === 'device-matrix';
    }).length;
    const labelled = await bench.page.locator('[data-testid=results-index] tbody tr', { hasText: '(device-matrix operands)' }).count();
    expect(labelled, 'device-matrix runs labelled in the index').toBe(deviceRuns);
    await bench.page.close();
    expect([...problems, ...format.problems, ...bench.problems]).toEqual([]);
  }, 60_000);

  it('prunes interactively and multiplies on WebGPU, matching the CPU', async () => {
    const { page, problems } = await open('/examples/prune.html');
    const example = page.getByTestId('prune-example');
    await page.waitForSelector('[data-testid=prune-example][data-status=done]', { timeout: 60_000 });
    expect(await example.getAttribute('data-backend')).toBe('webgpu');
    expect(await example.getAttribute('data-ok')).toBe('true');
    expect(Number(await example.getAttribute('data-max-error'))).toBeLessThan(MAX_ERROR);
    // Default 2:4, V = 4 on 16×12: 4 windows × 2 kept rows of values, 12 of 16 columns… half the mask is 1.
    expect(await page.locator('[data-testid=values-grid] tr').count()).toBe(8);
    expect(await page.locator('[data-testid=mask-grid] td', { hasText: /^1$/ }).count()).toBe(16 * 12 / 2);

    // Change the pattern to 1:4 with V = 3: a new mask, new arrays, a new product on the GPU.
    await page.getByTestId('keep').fill('1');
    await page.getByTestId('vector-length').selectOption('3');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=values-grid] tr').length === 4);
    await page.waitForSelector('[data-testid=prune-example][data-status=done]', { timeout: 60_000 });
    expect(await page.locator('[data-testid=indices-grid] tr:first-child td').count()).toBe(4); // ⌈12 / 3⌉ vectors
    expect(await page.locator('[data-testid=mask-grid] td', { hasText: /^1$/ }).count()).toBe(16 * 12 / 4);
    expect(await example.getAttribute('data-backend')).toBe('webgpu');
    expect(Number(await example.getAttribute('data-max-error'))).toBeLessThan(MAX_ERROR);

    // A bad pattern is reported, not thrown.
    await page.getByTestId('keep').fill('5');
    await expect.poll(() => page.getByTestId('pattern-error').textContent()).toContain('keep must be');
    await page.getByTestId('keep').fill('2');
    await page.waitForSelector('[data-testid=prune-example][data-status=done]', { timeout: 60_000 });
    await page.screenshot({ path: join(artifacts, 'example-prune.png'), fullPage: true });
    await page.close();
    expect(problems).toEqual([]);
  }, 120_000);

  it('runs N:M against dense on WebGPU and shows time, speedup and maximum error', async () => {
    const { page, problems } = await open('/examples/nm-vs-dense.html');
    await page.getByTestId('run').click();
    await page.waitForSelector('[data-testid=nm-vs-dense][data-status=done], [data-testid=nm-vs-dense][data-status=error]', {
      timeout: 120_000,
    });
    const example = page.getByTestId('nm-vs-dense');
    const error = await page.getByTestId('nm-vs-dense-error').count() ? await page.getByTestId('nm-vs-dense-error').textContent() : '';
    expect(error).toBe('');
    expect(await example.getAttribute('data-status')).toBe('done');
    expect(await example.getAttribute('data-backend')).toBe('webgpu');
    expect(Number(await example.getAttribute('data-max-error'))).toBeLessThan(MAX_ERROR);
    const speedup = Number(await example.getAttribute('data-speedup'));
    expect(Number.isFinite(speedup) && speedup > 0, `speedup ${speedup}`).toBe(true);
    const table = await page.getByTestId('nm-vs-dense-result').textContent();
    expect(table).toMatch(/N:M kernel \(median\)\s*[\d.]+ ms/);
    expect(table).toMatch(/dense baseline \(median\)\s*[\d.]+ ms/);
    await page.screenshot({ path: join(artifacts, 'example-nm-vs-dense.png'), fullPage: true });
    await page.close();
    expect(problems).toEqual([]);
  }, 180_000);

  it('falls back to the CPU when the browser has no WebGPU, with the reason', async () => {
    const { page, problems } = await open('/examples/prune.html', true);
    await page.waitForSelector('[data-testid=prune-example][data-status=done]', { timeout: 60_000 });
    const example = page.getByTestId('prune-example');
    expect(await example.getAttribute('data-backend')).toBe('cpu');
    expect(await example.getAttribute('data-ok')).toBe('true');
    expect(await page.getByTestId('prune-result').textContent()).toContain('webgpu (');
    await page.screenshot({ path: join(artifacts, 'example-prune-cpu-fallback.png'), fullPage: true });
    await page.close();
    expect(problems).toEqual([]);
  }, 60_000);
});
