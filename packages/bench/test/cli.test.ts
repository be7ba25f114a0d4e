import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LiveTable } from '../src/live-table.js';
import { runCli } from '../src/main.js';
import type { BenchResults } from '../src/results.js';

const dir = mkdtempSync(join(tmpdir(), 'nmkit-bench-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('nmkit-bench quick, end to end on the CPU backends', () => {
  it('runs, prints a plain table off a TTY, and writes JSON with the environment, Markdown and SVG', async () => {
    let stdout = '';
    let stderr = '';
    const out = join(dir, 'quick');
    const outcome = await runCli(['quick', '--backends', 'cpu-ref,cpu', '--repeats', '1', '--warmup', '0', '--out', out], {
      stdout: { write: (t: string) => (stdout += t), isTTY: false },
      stderr: { write: (t: string) => (stderr += t) },
    });
    expect(stderr).toBe('');
    expect(outcome.exitCode).toBe(0);
    expect(stdout).not.toContain('\x1b[');
    expect(stdout).toMatch(/× own dense/);
    expect(stdout).toMatch(/16:32 V=32\s+cpu-ref/);

    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as BenchResults;
    expect(results.schema).toBe('nmkit-bench/1');
    expect(results.suite).toBe('quick');
    const env = results.environment;
    for (const key of ['date', 'command', 'commit', 'node', 'cpu', 'logicalCores', 'os', 'packages', 'loadAverage']) {
      expect(env, key).toHaveProperty(key);
    }
    expect(env.node).toBe(process.version);
    expect(env.command).toBe('nmkit-bench quick --backends cpu-ref,cpu --repeats 1 --warmup 0 --out ' + out);
    expect((env.packages as Record<string, string>)['@nmkit/format']).toMatch(/^\d+\.\d+\.\d+/);
    // Every selected backend is listed, available or with the reason it is not.
    const names = results.backends.map((b) => b.name);
    expect(names).toEqual(expect.arrayContaining(['cpu-ref', 'cpu']));
    for (const b of results.backends) expect(b.available || typeof b.reason === 'string').toBe(true);
    const ran = results.backends.filter((b) => b.benchmarked && b.name !== 'tfjs (baseline)').map((b) => b.name);
    expect(ran).toContain('cpu-ref');
    // Every case of every benchmarked backend was verified and timed.
    expect(results.cases).toHaveLength(2 * 3 * ran.length);
    for (const c of results.cases) {
      expect(c.measurement.status, `${c.backend} ${JSON.stringify(c.shape)}`).toBe('ok');
      expect(c.metrics!.effectiveTflops).toBeGreaterThan(0);
      expect(c.metrics!.speedupOverOwnDense).toBeGreaterThan(0);
    }
    expect(results.baselines.some((b) => b.id === 'cpu-ref-dense' && b.measurement.status === 'ok')).toBe(true);
    for (const f of ['summary.md', 'speedup.svg', 'roofline.svg']) expect(existsSync(join(out, f))).toBe(true);
    expect(readFileSync(join(out, 'summary.md'), 'utf8')).toContain('nmkit-bench quick --backends cpu-ref,cpu');

    // `render` regenerates the Markdown and charts from the JSON alone.
    const rendered = join(dir, 'rendered');
    const again = await runCli(['render', join(out, 'results.json'), '--out', rendered], {
      stdout: { write: () => true },
      stderr: { write: () => true },
    });
    expect(again.exitCode).toBe(0);
    expect(readFileSync(join(rendered, 'summary.md'), 'utf8')).toBe(readFileSync(join(out, 'summary.md'), 'utf8'));

    // `merge` joins runs (shards) of one suite into one folder.
    const merged = join(dir, 'merged');
    const joined = await runCli(['merge', join(out, 'results.json'), join(out, 'results.json'), '--out', merged], {
      stdout: { write: () => true },
      stderr: { write: () => true },
    });
    expect(joined.exitCode).toBe(0);
    const all = JSON.parse(readFileSync(join(merged, 'results.json'), 'utf8')) as BenchResults;
    expect(all.cases).toHaveLength(2 * results.cases.length);
    expect(all.environment.mergedRuns).toHaveLength(2);
  }, 120_000);
});

describe('LiveTable', () => {
  it('draws a progress bar with ANSI only on a TTY', () => {
    let tty = '';
    const table = new LiveTable({ write: (t: string) => (tty += t), isTTY: true }, false);
    table.start(2);
    table.step('256×1024×1024 8:32:32 on cpu');
    table.finish();
    expect(tty).toContain('\r\x1b[2K[');
    expect(tty).toContain('0/2 256×1024×1024 8:32:32 on cpu');
  });
});
