import type { KernelJob } from './kernel-job.js';
import { MR, microKernel4x8, NR } from './micro-kernel.js';
import { panelScratch } from './scratch.js';
import { firstStrip, stripColumn, stripMap, stripWidth } from './strips.js';

/**
 * One C tile of the N:M kernel (V ≥ 8), following the tiling plan:
 * - block: `tileRows × tileCols` of C, stepping along K by `stageRows` kept rows (whole windows);
 * - per vector (the plan's warp level) and 4 rows of C: gather those rows of A at the vector's kept rows into a
 *   packed panel, then run the 4×8 register tile over each 8-column strip of the vector for the whole stage.
 * @example for (let t = 0; t < tileCount(job); t++) spmmNMStripsTile(job, t);
 */
export function spmmNMStripsTile(job: KernelJob, tile: number): void {
  const { m, n, k, a, c, packed, rowTable, tileRows, stageRows, vectorLength } = job;
  const keptRows = job.bRows;
  const map = stripMap(n, vectorLength);
  const rowTiles = Math.ceil(m / tileRows);
  const m0 = (tile % rowTiles) * tileRows;
  const rows = Math.min(tileRows, m - m0);
  const panels = Math.ceil(rows / MR);
  const vectorsPerTile = job.tileCols / vectorLength;
  const v0 = Math.floor(tile / rowTiles) * vectorsPerTile;
  const v1 = Math.min(map.vectors, v0 + vectorsPerTile);
  const ap = panelScratch(MR * stageRows);

  for (let w0 = 0; w0 < keptRows; w0 += stageRows) {
    const wc = Math.min(stageRows, keptRows - w0);
    for (let v = v0; v < v1; v++) {
      const kept = v * keptRows + w0; // this vector's kept rows of the stage, contiguous in the table
      const s0 = firstStrip(map, v);
      const s1 = v + 1 === map.vectors ? map.strips : firstStrip(map, v + 1);
      for (let p = 0; p < panels; p++) {
        const panelRows = Math.min(MR, rows - p * MR);
        // Gather 4 rows of A at the vector's kept rows: ap[w·4 + i] = A[m0 + 4p + i][row(w)]. K padding and
        // rows past M read as 0. Only kept rows are read, so pruned entries of A (even NaN) never reach C.
        const a0 = (m0 + p * MR) * k;
        for (let w = 0, d = 0; w < wc; w++, d += MR) {
          const row = rowTable[kept + w];
          if (row < 0) {
            ap[d] = 0; ap[d + 1] = 0; ap[d + 2] = 0; ap[d + 3] = 0;
          } else if (panelRows === MR) {
            ap[d] = a[a0 + row]; ap[d + 1] = a[a0 + k + row]; ap[d + 2] = a[a0 + 2 * k + row]; ap[d + 3] = a[a0 + 3 * k + row];
          } else {
            for (let i = 0; i < MR; i++) ap[d + i] = i < panelRows ? a[a0 + i * k + row] : 0;
          }
        }
        // The panel (wc·4 floats) and the vector's few B strips (wc·8 floats each) stay in L1 across the strips.
        const cRow = (m0 + p * MR) * n;
        for (let s = s0; s < s1; s++) {
          const bo = (s * keptRows + w0) * NR;
          microKernel4x8(ap, 0, packed, bo, wc, c, cRow + stripColumn(map, s), n, panelRows, stripWidth(map, s), w0 > 0);
        }
      }
    }
  }
}
