import { gemmDenseStripsTile } from './gemm-dense-strips.js';
import type { KernelJob } from './kernel-job.js';
import { spmmNMGeneralTile } from './spmm-nm-general.js';
import { spmmNMStripsTile } from './spmm-nm-strips.js';

/**
 * Computes tile `tile` of a job with the job's kernel. Tiles are disjoint blocks of C, so threads may run
 * different tiles of one job at once.
 * @example for (let t = 0; t < tileCount(job); t++) runTile(job, t);
 */
export function runTile(job: KernelJob, tile: number): void {
  switch (job.kernel) {
    case 'spmm-nm-strips':
      spmmNMStripsTile(job, tile);
      break;
    case 'spmm-nm-general':
      spmmNMGeneralTile(job, tile);
      break;
    case 'gemm-dense-strips':
      gemmDenseStripsTile(job, tile);
      break;
    default:
      throw new Error(`unknown CPU kernel "${(job as { kernel: string }).kernel}"`);
  }
}
