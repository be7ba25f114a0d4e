// spmm-nm-stream: decode-time C = A · B (M ≤ 16) that streams the weights once, from global memory straight into
// registers. An invocation owns 4 adjacent columns (one vec4 of a compressed row: V % 4 == 0, so they share a vector
// and its indices) and every row of C, so no weight is read twice and none is staged in workgroup memory; a subgroup
// reads consecutive vec4s of a row. A chunk of CHUNK kept rows has all its weight loads in flight before its FMAs.
// The kept rows are split into SLICES ranges inside the workgroup (summed here in workgroup memory at the end) and
// into grid-z ranges (partial C each, summed by split-k-reduce.wgsl).
// A comes through the cache: one scalar load per row of C and kept row from row-major A, or (ATRANS) one vec4 per
// 4 rows of C from Aᵀ, padded with zeros to whole windows and to 4 rows (transpose-a.wgsl writes it first).
// DENSE: B is dense (kept row r is row r of K). Ragged: any M ≤ 16, any K (a kept row in K padding never reads A);
// N % 4 == 0 (the backend runs the tiled kernel otherwise).

override MR: u32 = 1;        // rows of C (M)
override KEEP: u32 = 1;
override GROUP: u32 = 1;
override VEC: u32 = 4;       // vector length, a multiple of 4
override DENSE: bool = false;
override ATRANS: bool = false;
override QUADS: u32 = 32;    // column quads (4 columns) per slice row of the workgroup
override SLICES: u32 = 4;    // kept-row ranges per workgroup
override CHUNK: u32 = 8;     // kept rows whose weight loads are issued together (≤ MAX_CHUNK)
override WG: u32 = 128;      // QUADS · SLICES

const MAX_ROWS = 16u;
const MAX_CHUNK = 16u;

struct Params {
  m: u32, n: u32, k: u32, keptRows: u32,
  vectors: u32, keptSteps: u32, keptPerSlice: u32, unused0: u32,  // the tiled kernel's layout: stages, stagesPerSplit
  unused1: u32, unused2: u32, unused3: u32, unused4: u32,
}

@group(0) @binding(0) var<storage, read> gA: array<f32>;              // M × K (unused with ATRANS)
@group(0) @binding(1) var<storage, read> gB: array<vec4<f32>>;        // keptRows × N/4 (dense: K × N/4)
@group(0) @binding(2) var<storage, read> gSlots: array<u32>;          // bytes [keptRows][vectors], 4 per word
@group(0) @binding(3) var<storage, read> gAt: array<vec4<f32>>;       // ATRANS: [rows of K, padded][⌈M/4⌉]
@group(0) @binding(4) var<storage, read_write> gC: array<vec4<f32>>;  // [grid z][M][N/4]
@group(0) @binding(5) var<uniform> params: Params;

// Slices 1.. hand 4 rows of their sums at a time to slice 0.
var<workgroup> sSum: array<vec4<f32>, (SLICES - 1u) * QUADS * 4u + 4u>;

// The row of K that kept row r of this vector holds (dense: r itself).
fn rowOf(r: u32, vector: u32) -> u32 {
  if (DENSE) {
    return r;
  }
  let i = r * params.vectors + vector;
  return (r / KEEP) * GROUP + ((gSlots[i >> 2u] >> ((i & 3u) * 8u)) & 0xffu);
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  let lane = lid % QUADS;
  let slice = lid / QUADS;
  let quads = params.n / 4u;
  let quad = wg.x * QUADS + lane;
  let aQuads = (MR + 3u) / 4u;
  var acc: array<vec4<f32>, MAX_ROWS>;
  if (quad < quads) {
    let vector = (quad * 4u) / VEC;
    let first = (wg.z * SLICES + slice) * params.keptPerSlice;
    let end = min(first + params.keptPerSlice, params.keptRows);
    var r0 = first;
    // Whole chunks: every weight load of the chunk in flight, then its FMAs.
    loop {
      if (r0 + CHUNK > end) {
        break;
      }
      var b: array<vec4<f32>, MAX_CHUNK>;
      for (var c = 0u; c < CHUNK; c++) {
        b[c] = gB[(r0 + c) * quads + quad];
      }
      for (var c = 0u; c < CHUNK; c++) {
        let row = rowOf(r0 + c, vector);
        if (ATRANS) {
          for (var j = 0u; j < aQuads; j++) {
            let a = gAt[row * aQuads + j];
            acc[4u * j] = fma(vec4<f32>(a.x), b[c], acc[4u * j]);
            acc[4u * j + 1u] = fma(vec4<f32>(a.y), b[c], acc[4u * j + 1u]);
            acc[4u * j + 2u] = fma(vec4<f32>(a.z), b[c], acc[4u * j + 2u]);
            acc[4u * j + 3u] = fma(vec4<f32>(a.w), b[c], acc[4u * j + 3u]);
          }
        } else if (row < params.k) {
          for (var m = 0u; m < MR; m++) {
            acc[m] = fma(vec4<f32>(gA[m * params.k + row]), b[c], acc[m]);
          }
        }
      }
      r0 += CHUNK;
    }
    // The rest of the range, one kept row at a time.
    for (var r = r0; r < end; r++) {
      let b = gB[r * quads + quad];
      let row = rowOf(r, vector);
      if (ATRANS) {
        for (var j = 0u; j < aQuads; j++) {
          let a = gAt[row * aQuads + j];
          acc[4u * j] = fma(vec4<f32>(a.x), b, acc[4u * j]);
          acc[4u * j + 1u] = fma(vec4<f32>(a.y), b, acc[4u * j + 1u]);
          acc[4u * j + 2u] = fma(vec4<f32>(a.z), b, acc[4u * j + 2u]);
          acc[4u * j + 3u] = fma(vec4<f32>(a.w), b, acc[4u * j + 3u]);
        }
      } else if (row < params.k) {
        for (var m = 0u; m < MR; m++) {
          acc[m] = fma(vec4<f32>(gA[m * params.k + row]), b, acc[m]);
        }
      }
    }
  }
  for (var m0 = 0u; m0 < MR; m0 += 4u) {
    if (slice > 0u) {
      for (var j = 0u; j < 4u; j++) {
        sSum[((slice - 1u) * QUADS + lane) * 4u + j] = acc[m0 + j];
      }
    }
    workgroupBarrier();
    if (slice == 0u) {
      for (var t = 1u; t < SLICES; t++) {
        for (var j = 0u; j < 4u; j++) {
          acc[m0 + j] += sSum[((t - 1u) * QUADS + lane) * 4u + j];
        }
      }
    }
    workgroupBarrier();
  }
  if (slice == 0u && quad < quads) {
    let base = wg.z * MR * quads;
    for (var m = 0u; m < MR; m++) {
      gC[base + m * quads + quad] = acc[m];
    }
  }
}
