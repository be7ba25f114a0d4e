// spmm-nm-stream: small-M C = A · B (M ≤ 64: decode and a little beyond) that streams the weights once, from
// global memory straight into registers. An invocation owns 4 adjacent columns (one vec4 of a compressed row; when
// V % 4 == 0 they share a vector and its indices, else (PERCOL) each column has its own) and up to 4 rows of C; the RG invocations of the row groups
// of one column quad are neighbours in the subgroup, so they read each weight in the same load instruction, and no
// weight is staged in workgroup memory.
// A chunk of CHUNK kept rows has all its weight loads in flight before its FMAs. The kept rows are split into SLICES
// ranges inside the workgroup (summed here in workgroup memory at the end) and into grid-z ranges (partial C each,
// summed by split-k-reduce.wgsl).
// A comes through the cache: one scalar load per row of C and kept row from row-major A, or (ATRANS) one vec4 per
// row group from Aᵀ, padded with zeros to whole windows and to whole row groups (transpose-a.wgsl writes it first).
// DENSE: B is dense (kept row r is row r of K). Ragged: any M ≤ 64, any K (a kept row in K padding never reads A);
// N % 4 == 0 (the backend runs the tiled kernel otherwise).

override MR: u32 = 1;        // rows of C (M)
override RG: u32 = 1;        // row groups: ⌈M / 4⌉ (1 for M ≤ 4)
override RI: u32 = 1;        // rows of C per invocation: min(M, 4)
override KEEP: u32 = 1;
override GROUP: u32 = 1;
override VEC: u32 = 4;       // vector length
override PERCOL: bool = false;  // V % 4 != 0: an invocation's 4 columns may lie in different vectors
override DENSE: bool = false;
override ATRANS: bool = false;
override QUADS: u32 = 32;    // column quads (4 columns) per workgroup
override SLICES: u32 = 4;    // kept-row ranges per workgroup
override CHUNK: u32 = 8;     // kept rows whose weight loads are issued together (≤ MAX_CHUNK)
override WG: u32 = 128;      // RG · QUADS · SLICES

const MAX_CHUNK = 16u;

struct Params {
  m: u32, n: u32, k: u32, keptRows: u32,
  vectors: u32, keptSteps: u32, keptPerSlice: u32, unused0: u32,  // the tiled kernel's layout: stages, stagesPerSplit
  unused1: u32, unused2: u32, unused3: u32, unused4: u32,
}

@group(0) @binding(0) var<storage, read> gA: array<f32>;              // M × K (unused with ATRANS)
@group(0) @binding(1) var<storage, read> gB: array<vec4<f32>>;        // keptRows × N/4 (dense: K × N/4)
@group(0) @binding(2) var<storage, read> gSlots: array<u32>;          // bytes [keptRows][vectors], 4 per word
@group(0) @binding(4) var<storage, read_write> gC: array<vec4<f32>>;  // [grid z][M][N/4]
@group(0) @binding(5) var<uniform> params: Params;
@group(0) @binding(6) var<storage, read> gAt: array<vec4<f32>>;       // ATRANS: [rows of K, padded][RG]

// Slices 1.. hand their sums (RI rows each) to slice 0.
var<workgroup> sSum: array<vec4<f32>, (SLICES - 1u) * RG * QUADS * 4u + 4u>;

// The row of K that kept row r of this vector holds (dense: r itself).
fn rowOf(r: u32, vector: u32) -> u32 {
  if (DENSE) {
    return r;
  }
  let i = r * params.vectors + vector;
  return (r / KEEP) * GROUP + ((gSlots[i >> 2u] >> ((i & 3u) * 8u)) & 0xffu);
}

// acc[i] += A[m0 + i][row] · b for the invocation's rows of C.
fn accumulate(acc: ptr<function, array<vec4<f32>, 4>>, m0: u32, rg: u32, row: u32, b: vec4<f32>) {
  if (ATRANS) {
    let a = gAt[row * RG + rg];
    (*acc)[0] = fma(vec4<f32>(a.x), b, (*acc)[0]);
    (*acc)[1] = fma(vec4<f32>(a.y), b, (*acc)[1]);
    (*acc)[2] = fma(vec4<f32>(a.z), b, (*acc)[2]);
    (*acc)[3] = fma(vec4<f32>(a.w), b, (*acc)[3]);
  } else if (row < params.k) {
    for (var i = 0u; i < RI; i++) {
      if (m0 + i < MR) {
        (*acc)[i] = fma(vec4<f32>(gA[(m0 + i) * params.k + row]), b, (*acc)[i]);
      }
    }
  }
}

// One kept row r: acc[i][j] += A[m0 + i][row of column j] · b[j]. With V % 4 == 0 the 4 columns share `vector`.
fn step(acc: ptr<function, array<vec4<f32>, 4>>, m0: u32, rg: u32, r: u32, vector: u32, quad: u32, b: vec4<f32>) {
  if (!PERCOL) {
    accumulate(acc, m0, rg, rowOf(r, vector), b);
    return;
  }
  var rows: vec4<u32>;
  for (var j = 0u; j < 4u; j++) {
    rows[j] = rowOf(r, (quad * 4u + j) / VEC);
  }
  if (ATRANS) {
    let a0 = gAt[rows.x * RG + rg];
    let a1 = gAt[rows.y * RG + rg];
    let a2 = gAt[rows.z * RG + rg];
    let a3 = gAt[rows.w * RG + rg];
    (*acc)[0] = fma(vec4<f32>(a0.x, a1.x, a2.x, a3.x), b, (*acc)[0]);
    (*acc)[1] = fma(vec4<f32>(a0.y, a1.y, a2.y, a3.y), b, (*acc)[1]);
    (*acc)[2] = fma(vec4<f32>(a0.z, a1.z, a2.z, a3.z), b, (*acc)[2]);
    (*acc)[3] = fma(vec4<f32>(a0.w, a1.w, a2.w, a3.w), b, (*acc)[3]);
  } else {
    for (var i = 0u; i < RI; i++) {
      if (m0 + i < MR) {
        var a = vec4<f32>(0.0);
        for (var j = 0u; j < 4u; j++) {
          if (rows[j] < params.k) {
            a[j] = gA[(m0 + i) * params.k + rows[j]];
          }
        }
        (*acc)[i] = fma(a, b, (*acc)[i]);
      }
    }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  let rg = lid % RG;
  let cell = lid % (RG * QUADS);   // (column quad, row group) inside a slice
  let slice = lid / (RG * QUADS);
  let quads = params.n / 4u;
  let quad = wg.x * QUADS + cell / RG;
  let m0 = rg * 4u;
  var acc: array<vec4<f32>, 4>;
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
        step(&acc, m0, rg, r0 + c, vector, quad, b[c]);
      }
      r0 += CHUNK;
    }
    // The rest of the range, one kept row at a time.
    for (var r = r0; r < end; r++) {
      step(&acc, m0, rg, r, vector, quad, gB[r * quads + quad]);
    }
  }
  if (SLICES > 1u) {
    if (slice > 0u) {
      for (var i = 0u; i < RI; i++) {
        sSum[((slice - 1u) * RG * QUADS + cell) * 4u + i] = acc[i];
      }
    }
    workgroupBarrier();
    if (slice == 0u) {
      for (var t = 1u; t < SLICES; t++) {
        for (var i = 0u; i < RI; i++) {
          acc[i] += sSum[((t - 1u) * RG * QUADS + cell) * 4u + i];
        }
      }
    }
  }
  if (slice == 0u && quad < quads) {
    let base = wg.z * MR * quads;
    for (var i = 0u; i < RI; i++) {
      if (m0 + i < MR) {
        gC[base + (m0 + i) * quads + quad] = acc[i];
      }
    }
  }
}
