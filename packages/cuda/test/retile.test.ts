import { type CompressedNM, compressedLayout, nmPattern, randomCompressed, randomDense, referenceSpmm } from '@nmkit/format';
import { describe, expect, it } from 'vitest';
import { PER_VECTOR_MIN_FILL, padValues, retileForKernels, retileIndices, type Staging, stageKeptRows, TILE_N, UNUSED_ROW, WARP_N, ZERO_ROW } from '../src/index.js';

/**
 * What the tiled kernel computes, on the CPU, from the layout the kernels get (no group, no original indices). Union
 * staging finds a kept row's staged row through its slot; per-vector staging reads staged row warpCol·ks + r, as the
 * kernel does, without the slots.
 */
function emulateTiled(a: { rows: number; cols: number; data: Float32Array }, matrix: CompressedNM, staging: Staging = 'union'): Float64Array {
  const layout = retileForKernels(matrix, staging);
  const { values, ldb } = padValues(matrix, layout.stages * layout.ks);
  const M = a.rows;
  const N = matrix.cols;
  const c = new Float64Array(M * N);
  for (let tile = 0; tile < layout.tilesN; tile++) {
    for (let stage = 0; stage < layout.stages; stage++) {
      const list = layout.rows.subarray((tile * layout.stages + stage) * layout.srows, (tile * layout.stages + stage + 1) * layout.srows);
      for (let r = 0; r < layout.ks; r++) {
        const w = stage * layout.ks + r;
        for (let col = tile * TILE_N; col < Math.min(N, (tile + 1) * TILE_N); col++) {
          const warpCol = Math.floor((col - tile * TILE_N) / WARP_N);
          const slot =
            layout.staging === 'per-vector' ? warpCol * layout.ks + r : layout.slots[(tile * layout.stages + stage) * layout.slotStride + warpCol * layout.ks + r];
          const row = list[slot];
          expect(row).not.toBe(UNUSED_ROW);
          for (let m = 0; m < M; m++) {
            const av = row === ZERO_ROW ? 0 : a.data[m * a.cols + row];
            c[m * N + col] += av * values[w * ldb + col];
          }
        }
      }
    }
  }
  return c;
}

describe('host-side index re-tiling', () => {
  const cases: [string, number, number, number, number, number, number][] = [
    // name, M, K, N, keep, group, V
    ['16:32 V=32 even (32-kept-row stages)', 5, 128, 256, 16, 32, 32],
    ['16:32 V=32 ragged K (32-kept-row stages, zero rows)', 3, 150, 200, 16, 32, 32],
    ['12:32 V=32 ragged K (24-kept-row stages)', 3, 170, 200, 12, 32, 32],
    ['4:32 V=32 ragged K and N', 3, 200, 300, 4, 32, 32],
    ['2:4 V=64', 4, 36, 150, 2, 4, 64],
    ['12:32 V=128, K < group', 2, 19, 130, 12, 32, 128],
    ['3:7 V=32 odd window', 3, 50, 70, 3, 7, 32],
    ['100:200 V=32 window longer than a stage', 2, 450, 64, 100, 200, 32],
  ];
  for (const [name, M, K, N, keep, group, V] of cases) {
    it(`computes the reference product from the re-tiled layout (${name})`, () => {
      const matrix = randomCompressed(K, N, nmPattern(keep, group, V), 11);
      const a = randomDense(M, K, 12);
      const got = emulateTiled(a, matrix);
      const want = referenceSpmm(a, matrix).values;
      for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i], 9);
    });
    it(`computes the reference product from per-vector row lists (${name})`, () => {
      const matrix = randomCompressed(K, N, nmPattern(keep, group, V), 13);
      const a = randomDense(M, K, 14);
      const got = emulateTiled(a, matrix, 'per-vector');
      const want = referenceSpmm(a, matrix).values;
      for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i], 9);
    });
  }

  it('per-vector staging lists each warp-column\'s 16 kept rows in order (64 rows, duplicates kept)', () => {
    const matrix = randomCompressed(512, 256, nmPattern(4, 32, 32), 7);
    const union = retileIndices(matrix, 16);
    const perVector = retileIndices(matrix, 16, 'per-vector');
    expect(perVector.staging).toBe('per-vector');
    expect(perVector.srows).toBe(64);
    expect(union.srows).toBeLessThanOrEqual(64);
    // Every union list entry's row appears in the per-vector list of the same (tile, stage), and vice versa.
    for (let i = 0; i < perVector.tilesN * perVector.stages; i++) {
      const pv = new Set(perVector.rows.subarray(i * 64, (i + 1) * 64));
      const un = new Set([...union.rows.subarray(i * union.srows, (i + 1) * union.srows)].filter((row) => row !== UNUSED_ROW));
      expect(pv).toEqual(un);
    }
    // More rows staged than the union (a row two vectors use travels twice): 16 of 32 per window against about 13.
    expect(perVector.loadedFraction).toBeCloseTo(0.5, 2);
    expect(union.loadedFraction).toBeLessThan(0.45);
  });

  it('picks per-vector lists where the union fills most of them (4:32 and 8:32 at V = 32), else the union', () => {
    expect(retileForKernels(randomCompressed(1024, 512, nmPattern(4, 32, 32), 3)).staging).toBe('per-vector');
    expect(retileForKernels(randomCompressed(1024, 512, nmPattern(8, 32, 32), 3)).staging).toBe('per-vector');
    // V = 128: the four warp-columns of a tile share one vector, the union is a quarter of the per-vector lists.
    const shared = retileForKernels(randomCompressed(1024, 512, nmPattern(4, 32, 128), 3));
    expect(shared.staging).toBe('union');
    expect(shared.meanRows).toBeLessThan(PER_VECTOR_MIN_FILL * 64);
    expect(retileForKernels(randomCompressed(1024, 512, nmPattern(4, 32, 32), 3), 'union').staging).toBe('union');
  });

  it('keeps union staging for long stages (per-vector lists would pass 64 rows)', () => {
    const matrix = randomCompressed(256, 128, nmPattern(16, 32, 32), 3);
    const layout = retileForKernels(matrix, 'per-vector');
    expect(layout.ks).toBe(32);
    expect(layout.staging).toBe('union');
  });

  it('stages only the union of rows the block uses: ≈41 % of A at 4:32 with 4 vectors per block', () => {
    const matrix = randomCompressed(4096, 512, nmPattern(4, 32, 32), 5);
    const layout = retileIndices(matrix);
    expect(layout.ks).toBe(16); // four windows merged per stage
    expect(layout.loadedFraction).toBeGreaterThan(0.3);
    expect(layout.loadedFraction).toBeLessThan(0.5);
    expect(layout.srows).toBeLessThanOrEqual(64);
  });

  it('stages whole windows at low sparsity and adds a zero row only where K is padded', () => {
    const even = retileIndices(randomCompressed(256, 128, nmPattern(16, 32, 32), 6));
    expect(even.srows).toBe(32); // one whole window per stage
    expect(Array.from(even.rows).includes(ZERO_ROW)).toBe(false);
    const ragged = retileIndices(randomCompressed(230, 128, nmPattern(16, 32, 32), 6));
    expect(Array.from(ragged.rows).includes(ZERO_ROW)).toBe(true);
  });

  it('sorts each row list and pads it with unused entries; slots stay inside the list', () => {
    const matrix = randomCompressed(320, 256, nmPattern(8, 32, 32), 7);
    const layout = retileIndices(matrix);
    expect(layout.slotStride % 16).toBe(0);
    for (let i = 0; i < layout.tilesN * layout.stages; i++) {
      const list = Array.from(layout.rows.subarray(i * layout.srows, (i + 1) * layout.srows)).filter((r) => r !== UNUSED_ROW);
      expect(list).toEqual([...list].sort((x, y) => x - y));
      for (let j = 0; j < layout.ks * 4; j++) expect(layout.slots[i * layout.slotStride + j]).toBeLessThan(list.length);
    }
  });

  it('takes the longest stage of 32, 24 or 16 kept rows whose row lists fit 64 rows', () => {
    expect(stageKeptRows(nmPattern(16, 32, 32))).toBe(32);
    expect(stageKeptRows(nmPattern(2, 4, 32))).toBe(32);
    expect(stageKeptRows(nmPattern(12, 32, 32))).toBe(24);
    expect(stageKeptRows(nmPattern(8, 32, 32))).toBe(16);
    const twelve = retileForKernels(randomCompressed(300, 200, nmPattern(12, 32, 32), 3));
    expect(twelve.ks).toBe(24);
    expect(twelve.srows).toBeLessThanOrEqual(64);
    const half = retileForKernels(randomCompressed(300, 200, nmPattern(16, 32, 32), 3));
    expect(half.ks).toBe(32);
    expect(half.srows).toBeLessThanOrEqual(64);
    // 33:64 has density above ½, but a 32-kept-row stage cuts 64-row windows and its four vectors use more than 64
    // rows between them: back to 16.
    const long = randomCompressed(640, 256, nmPattern(33, 64, 32), 3);
    expect(retileIndices(long, 32).srows).toBeGreaterThan(64);
    expect(retileForKernels(long).ks).toBe(16);
    expect(retileForKernels(randomCompressed(300, 200, nmPattern(8, 32, 32), 3)).ks).toBe(16);
  });

  it('stages 16 kept rows, merging short windows and cutting long ones', () => {
    const merged = retileIndices(randomCompressed(128, 128, nmPattern(4, 32, 32), 9));
    expect(merged.stages).toBe(1); // 4 windows of 4 kept rows
    const cut = retileIndices(randomCompressed(128, 128, nmPattern(12, 32, 32), 9));
    expect(cut.stages).toBe(3); // 48 kept rows: stages cut windows 1 and 2
    expect(cut.srows).toBeLessThanOrEqual(48);
  });

  it('pads values to 16-byte rows and whole stages with zeros', () => {
    const matrix = randomCompressed(64, 10, nmPattern(2, 4, 32), 8);
    const kept = compressedLayout(64, 10, matrix.pattern).keptRows;
    const { values, ldb } = padValues(matrix, kept + 3);
    expect(ldb).toBe(12);
    expect(values.length).toBe((kept + 3) * 12);
    expect(values[ldb + 3]).toBe(matrix.values[10 + 3]);
    expect(values[ldb + 10]).toBe(0);
    expect(values[kept * ldb]).toBe(0);
  });

  it('refuses an index outside its window instead of staging a row of another stage', () => {
    const matrix = randomCompressed(64, 64, nmPattern(4, 32, 32), 2);
    const broken = { ...matrix, indices: matrix.indices.slice() };
    broken.indices[3] = 40; // kept row 1 of vector 1: offset 40 ≥ group 32
    expect(() => retileForKernels(broken)).toThrow(/index 40 of kept row 1, vector 1 is not < group 32/);
  });

  it('re-tiles a tall K: 256 stages over 2²⁰ rows, every slot naming its row', () => {
    // 1:256 over K = 2²⁰: a union stage spans 16 windows (4096 rows of A). N = 32: warp-columns 1–3 stage the zero row.
    const matrix = randomCompressed(2 ** 20, 32, nmPattern(1, 256, 32), 4);
    const layout = retileIndices(matrix, 16);
    expect(layout.stages).toBe(256);
    expect(layout.srows).toBe(17);
    for (let s = 0; s < layout.stages; s++) {
      const list = layout.rows.subarray(s * layout.srows, (s + 1) * layout.srows);
      for (let r = 0; r < 16; r++) expect(list[layout.slots[s * layout.slotStride + r]]).toBe(s * 4096 + r * 256 + matrix.indices[s * 16 + r]);
    }
  });

  it('refuses vector lengths that are not multiples of 32', () => {
    expect(() => retileIndices(randomCompressed(32, 16, nmPattern(2, 4, 16), 1))).toThrow(/multiple of 32/);
  });
});
