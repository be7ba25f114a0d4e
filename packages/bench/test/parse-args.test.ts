import { describe, expect, it } from 'vitest';
import { runCli } from '../src/main.js';
import { parseArgs, parsePattern, parseShape, UsageError } from '../src/parse-args.js';

describe('parseShape / parsePattern', () => {
  it('parses valid shapes and patterns', () => {
    expect(parseShape('256x4096x4096')).toEqual({ m: 256, n: 4096, k: 4096 });
    expect(parseShape('1×315×628')).toEqual({ m: 1, n: 315, k: 628 });
    expect(parsePattern('8:32:32')).toEqual({ keep: 8, group: 32, vectorLength: 32 });
    expect(parsePattern('2:4')).toEqual({ keep: 2, group: 4, vectorLength: 1 });
  });

  it.each(['256x4096', '0x4x4', '4x-4x4', '4x4x4.5', 'axbxc', '4x4x4x4', ''])('rejects the shape "%s" clearly', (text) => {
    expect(() => parseShape(text)).toThrow(UsageError);
    expect(() => parseShape(text)).toThrow(/expected MxNxK/);
  });

  it.each([
    ['8', /expected keep:group/],
    ['8:32:32:1', /expected keep:group/],
    ['a:32', /expected keep:group/],
    ['33:32:32', /keep must be an integer in \[1, group=32\]/],
    ['0:4:1', /keep must be/],
    ['2:300:1', /group must be an integer in \[1, 256\]/],
    ['2:4:0', /vectorLength must be a positive integer/],
  ])('rejects the pattern "%s" naming the problem', (text, message) => {
    expect(() => parsePattern(text)).toThrow(UsageError);
    expect(() => parsePattern(text)).toThrow(message);
  });
});

describe('parseArgs', () => {
  it('reads every flag, in both --flag value and --flag=value forms', () => {
    const o = parseArgs([
      'custom',
      '--shapes',
      '16x64x128,1x8x8',
      '--patterns=8:32:32,2:4:1',
      '--backends',
      'cuda,webgpu',
      '--repeats=20',
      '--warmup',
      '0',
      '--out',
      '/tmp/x',
      '--shard',
      '2/4',
      '--peak',
      '66.9,3000',
      '--baselines',
      'none',
      '--operands=device-matrix',
    ]);
    expect(o.suite).toBe('custom');
    expect(o.shapes).toEqual([
      { m: 16, n: 64, k: 128 },
      { m: 1, n: 8, k: 8 },
    ]);
    expect(o.patterns).toHaveLength(2);
    expect(o.backends).toEqual(['cuda', 'webgpu']);
    expect(o.repeats).toBe(20);
    expect(o.warmup).toBe(0);
    expect(o.out).toBe('/tmp/x');
    expect(o.shard).toEqual({ index: 2, count: 4 });
    expect(o.peak!.flopsPerSecond / 1e12).toBeCloseTo(66.9, 9);
    expect(o.baselines).toEqual([]);
    expect(o.operands).toBe('device-matrix');
    expect(parseArgs(['quick']).operands).toBeUndefined();
  });

  it.each([
    [['nosuch'], /Unknown suite "nosuch"/],
    [['quick', '--shapes', '12x12'], /Bad shape "12x12"/],
    [['quick', '--patterns', '5:4:1'], /Bad pattern "5:4:1"/],
    [['quick', '--backends', 'tpu'], /Unknown backend "tpu"/],
    [['quick', '--repeats', '0'], /Bad --repeats "0"/],
    [['quick', '--warmup', 'x'], /Bad --warmup "x"/],
    [['quick', '--frobnicate', '1'], /Unknown flag --frobnicate/],
    [['quick', '--out'], /--out needs a value/],
    [['quick', '--shard', '5/4'], /Bad --shard "5\/4"/],
    [['custom', '--shapes', '8x8x8'], /custom suite needs both/],
    [['quick', '--operands', 'host'], /Bad --operands "host": expected dense-matrix or device-matrix/],
  ])('rejects %j', (argv, message) => {
    expect(() => parseArgs(argv)).toThrow(UsageError);
    expect(() => parseArgs(argv)).toThrow(message);
  });

  it('makes the CLI exit with status 2 and a clear message on a bad shape, without running anything', async () => {
    let err = '';
    const outcome = await runCli(['custom', '--shapes', '256x4096', '--patterns', '8:32:32'], {
      stdout: { write: () => true },
      stderr: { write: (t: string) => (err += t) },
    });
    expect(outcome.exitCode).toBe(2);
    expect(err).toMatch(/Bad shape "256x4096": expected MxNxK/);
    expect(outcome.results).toBeUndefined();
  });
});
