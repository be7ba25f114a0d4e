import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { README_BEGIN, README_END, readmeResultsBlock, spliceReadme } from '../src/readme-results.js';

const results = resolve(__dirname, '../results');

describe('README results block', () => {
  it('is generated from the published results, never typed by hand (the README is up to date)', () => {
    const readme = readFileSync(resolve(__dirname, '../../../README.md'), 'utf8');
    expect(spliceReadme(readme, readmeResultsBlock(results))).toBe(readme);
  });

  it('splices between the markers and appends when they are missing', () => {
    expect(spliceReadme(`a\n${README_BEGIN}\nold\n${README_END}\nb`, 'NEW')).toBe('a\nNEW\nb');
    expect(spliceReadme('a\n', 'NEW')).toBe('a\n\nNEW\n');
  });
});
