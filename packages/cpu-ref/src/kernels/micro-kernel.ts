/** Rows of C in one register tile (the plan's `thread.m`). */
export const MR = 4;
/** Columns of C in one register tile (the plan's `thread.n`); also the width of a packed B strip. */
export const NR = 8;

// Write-back scratch for edge tiles (fewer than MR rows or NR columns valid).
const edge = new Float64Array(MR * NR);

/**
 * The register tile: `C[rows×cols] += Ap · Bp` for one 4×8 tile of C, over `depth` steps.
 *
 * - `ap` holds a packed A panel: step p's four A values at `ap[ao + 4p .. ao + 4p + 3]` (rows of the tile);
 * - `bp` holds a packed B strip: step p's eight B values at `bp[bo + 8p .. bo + 8p + 7]` (columns of the tile);
 * - the 32 partial sums live in float64 locals (registers or stack slots) and are added to C once, so C is
 *   touched once per K stage, not once per step.
 * Edge tiles (rows < 4 or cols < 8) compute the full tile from zero-padded panels and store only the valid part.
 * The first K stage stores (`accumulate` false), later ones add, so C never needs zeroing.
 *
 * @example microKernel4x8(ap, 0, bp, 0, 256, c, 0, n, 4, 8, true); // c[0..3][0..7] += Ap(4×256) · Bp(256×8)
 */
export function microKernel4x8(
  ap: Float64Array,
  ao: number,
  bp: Float32Array,
  bo: number,
  depth: number,
  c: Float32Array,
  co: number,
  ldc: number,
  rows: number,
  cols: number,
  accumulate: boolean,
): void {
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c04 = 0, c05 = 0, c06 = 0, c07 = 0;
  let c10 = 0, c11 = 0, c12 = 0, c13 = 0, c14 = 0, c15 = 0, c16 = 0, c17 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c24 = 0, c25 = 0, c26 = 0, c27 = 0;
  let c30 = 0, c31 = 0, c32 = 0, c33 = 0, c34 = 0, c35 = 0, c36 = 0, c37 = 0;
  const end = ao + depth * MR;
  for (; ao < end; ao += MR, bo += NR) {
    const a0 = ap[ao], a1 = ap[ao + 1], a2 = ap[ao + 2], a3 = ap[ao + 3];
    const b0 = bp[bo], b1 = bp[bo + 1], b2 = bp[bo + 2], b3 = bp[bo + 3];
    const b4 = bp[bo + 4], b5 = bp[bo + 5], b6 = bp[bo + 6], b7 = bp[bo + 7];
    c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3; c04 += a0 * b4; c05 += a0 * b5; c06 += a0 * b6; c07 += a0 * b7;
    c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3; c14 += a1 * b4; c15 += a1 * b5; c16 += a1 * b6; c17 += a1 * b7;
    c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3; c24 += a2 * b4; c25 += a2 * b5; c26 += a2 * b6; c27 += a2 * b7;
    c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3; c34 += a3 * b4; c35 += a3 * b5; c36 += a3 * b6; c37 += a3 * b7;
  }
  if (rows === MR && cols === NR && accumulate) {
    c[co] += c00; c[co + 1] += c01; c[co + 2] += c02; c[co + 3] += c03; c[co + 4] += c04; c[co + 5] += c05; c[co + 6] += c06; c[co + 7] += c07;
    co += ldc;
    c[co] += c10; c[co + 1] += c11; c[co + 2] += c12; c[co + 3] += c13; c[co + 4] += c14; c[co + 5] += c15; c[co + 6] += c16; c[co + 7] += c17;
    co += ldc;
    c[co] += c20; c[co + 1] += c21; c[co + 2] += c22; c[co + 3] += c23; c[co + 4] += c24; c[co + 5] += c25; c[co + 6] += c26; c[co + 7] += c27;
    co += ldc;
    c[co] += c30; c[co + 1] += c31; c[co + 2] += c32; c[co + 3] += c33; c[co + 4] += c34; c[co + 5] += c35; c[co + 6] += c36; c[co + 7] += c37;
    return;
  }
  if (rows === MR && cols === NR) {
    c[co] = c00; c[co + 1] = c01; c[co + 2] = c02; c[co + 3] = c03; c[co + 4] = c04; c[co + 5] = c05; c[co + 6] = c06; c[co + 7] = c07;
    co += ldc;
    c[co] = c10; c[co + 1] = c11; c[co + 2] = c12; c[co + 3] = c13; c[co + 4] = c14; c[co + 5] = c15; c[co + 6] = c16; c[co + 7] = c17;
    co += ldc;
    c[co] = c20; c[co + 1] = c21; c[co + 2] = c22; c[co + 3] = c23; c[co + 4] = c24; c[co + 5] = c25; c[co + 6] = c26; c[co + 7] = c27;
    co += ldc;
    c[co] = c30; c[co + 1] = c31; c[co + 2] = c32; c[co + 3] = c33; c[co + 4] = c34; c[co + 5] = c35; c[co + 6] = c36; c[co + 7] = c37;
    return;
  }
  edge[0] = c00; edge[1] = c01; edge[2] = c02; edge[3] = c03; edge[4] = c04; edge[5] = c05; edge[6] = c06; edge[7] = c07;
  edge[8] = c10; edge[9] = c11; edge[10] = c12; edge[11] = c13; edge[12] = c14; edge[13] = c15; edge[14] = c16; edge[15] = c17;
  edge[16] = c20; edge[17] = c21; edge[18] = c22; edge[19] = c23; edge[20] = c24; edge[21] = c25; edge[22] = c26; edge[23] = c27;
  edge[24] = c30; edge[25] = c31; edge[26] = c32; edge[27] = c33; edge[28] = c34; edge[29] = c35; edge[30] = c36; edge[31] = c37;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) c[co + i * ldc + j] = (accumulate ? c[co + i * ldc + j] : 0) + edge[i * NR + j];
  }
}
