import type { KernelJob } from './kernel-job.js';
import { MR, microKernel4x8, NR } from './micro-kernel.js';
import { panelScratch } from './scratch.js';
import { stripColumn, stripMap, stripWidth } from './strips.js';

/**
 * One C tile of the dense baseline, blocked exactly like the N:M kernel: `tileRows × tileCols` of C per tile,
 * `stageRows` rows of K per stage with the A block packed once per stage (`ap[(p·kc + kk)·4 + i]`), and the
 * same 4×8 register tile over B strips packed at prepare time.
 * @example for (let t = 0; t < tileCount(job); t++) gemmDenseStripsTile(job, t);
 */
export function gemmDenseStripsTile(job: KernelJob, tile: number): void {
  const { m, n, k, a, c, packed, tileRows, stageRows } = job;
  const map = stripMap(n, n);
  const rowTiles = Math.ceil(m / tileRows);
  const m0 = (tile % rowTiles) * tileRows;
  const rows = Math.min(tileRows, m - m0);
  const panels = Math.ceil(rows / MR);
  const stripsPerTile = job.tileCols / NR;
  const s0 = Math.floor(tile / rowTiles) * stripsPerTile;
  const s1 = Math.min(map.strips, s0 + stripsPerTile);
  const ap = panelScratch(panels * MR * stageRows);

  for (let k0 = 0; k0 < k; k0 += stageRows) {
    const kc = Math.min(stageRows, k - k0);
    for (let r = 0; r < panels * MR; r++) {
      const p = (r / MR) | 0;
      const dst = p * kc * MR + (r - p * MR);
      if (r < rows) {
        const src = (m0 + r) * k + k0;
        for (let kk = 0; kk < kc; kk++) ap[dst + kk * MR] = a[src + kk];
      } else {
        for (let kk = 0; kk < kc; kk++) ap[dst + kk * MR] = 0;
      }
    }
    for (let s = s0; s < s1; s++) {
      const col0 = stripColumn(map, s);
      const width = stripWidth(map, s);
      const bo = (s * k + k0) * NR;
      for (let p = 0; p < panels; p++) {
        microKernel4x8(ap, p * kc * MR, packed, bo, kc, c, (m0 + p * MR) * n + col0, n, Math.min(MR, rows - p * MR), width, k0 > 0);
      }
    }
  }
}
