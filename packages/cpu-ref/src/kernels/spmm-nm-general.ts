import type { KernelJob } from './kernel-job.js';

let accumulators = new Float64Array(0);

/**
 * One C tile of the general N:M kernel, for vectors narrower than a register tile (V < 8, e.g. element-wise
 * 2:4): each row of C accumulates in float64 over every kept row, reading A only at kept rows.
 * `packed` is the compressed `values` (W×N) and `rowTable` is row-major (W × vectors).
 * @example for (let t = 0; t < tileCount(job); t++) spmmNMGeneralTile(job, t);
 */
export function spmmNMGeneralTile(job: KernelJob, tile: number): void {
  const { m, n, k, a, c, packed, rowTable, tileRows, vectorLength } = job;
  const keptRows = job.bRows;
  const vectors = Math.ceil(n / vectorLength);
  const rowTiles = Math.ceil(m / tileRows);
  const m0 = (tile % rowTiles) * tileRows;
  const m1 = Math.min(m, m0 + tileRows);
  const vectorsPerTile = job.tileCols / vectorLength;
  const v0 = Math.floor(tile / rowTiles) * vectorsPerTile;
  const v1 = Math.min(vectors, v0 + vectorsPerTile);
  const c0 = v0 * vectorLength;
  const c1 = Math.min(n, v1 * vectorLength);
  if (accumulators.length < c1 - c0) accumulators = new Float64Array(c1 - c0);
  const acc = accumulators;
  for (let row = m0; row < m1; row++) {
    acc.fill(0, 0, c1 - c0);
    const aRow = row * k;
    for (let w = 0; w < keptRows; w++) {
      const bRow = w * n;
      for (let v = v0; v < v1; v++) {
        const kept = rowTable[w * vectors + v];
        if (kept < 0) continue;
        const av = a[aRow + kept];
        const end = Math.min(n, (v + 1) * vectorLength);
        for (let col = v * vectorLength; col < end; col++) acc[col - c0] += av * packed[bRow + col];
      }
    }
    const cRow = row * n;
    for (let col = c0; col < c1; col++) c[cRow + col] = acc[col - c0];
  }
}
