// transpose-a: Aᵀ for the kernels that read A transposed (spmm-nm-stream with ATRANS, spmm-nm-tiled with A_T):
// row r of K holds A[0..M)[r] as `quads` vec4s (one per 4 rows of C). Rows of C past M and rows of K past K (up to
// `rows`: whole windows, or the zero row K) are zeros, so the kernels read Aᵀ without bounds tests.
// A workgroup moves a tile of 32 rows of K × 64 rows of C through workgroup memory (8.3 KB, well inside WebGPU's
// default 16 KB), so that both the reads (along K in a row of A) and the writes (along M in a row of Aᵀ) are coalesced.
// Entry points: `main` reads A as scalars (any K); `main_vec4` (K % 4 == 0) as vec4s, a quarter of the load
// instructions (gA4 is the same buffer; each entry point uses one of the two bindings).

struct Params { m: u32, k: u32, rows: u32, quads: u32 }

@group(0) @binding(0) var<storage, read> gA: array<f32>;               // M × K (main)
@group(0) @binding(0) var<storage, read> gA4: array<vec4<f32>>;        // M × K/4 (main_vec4)
@group(0) @binding(1) var<storage, read_write> gAt: array<vec4<f32>>;  // rows × quads
@group(0) @binding(2) var<uniform> params: Params;

const TILE_K = 32u;
const TILE_M = 64u;
const STRIDE = 65u;  // padded: the transposing stores spread over the banks

var<workgroup> tile: array<f32, TILE_K * STRIDE>;  // [row of K][row of C]

// Writes the tile (rows k0… of K × rows m0… of C, staged in `tile`) to Aᵀ as vec4s along M.
fn storeTile(lid: u32, k0: u32, m0: u32) {
  for (var t = 0u; t < TILE_K * TILE_M / 4u / 256u; t++) {
    let e = lid + t * 256u;
    let row = k0 + e / (TILE_M / 4u);
    let q = e % (TILE_M / 4u);
    let quad = m0 / 4u + q;
    if (row < params.rows && quad < params.quads) {
      let base = (e / (TILE_M / 4u)) * STRIDE + 4u * q;
      gAt[row * params.quads + quad] = vec4<f32>(tile[base], tile[base + 1u], tile[base + 2u], tile[base + 3u]);
    }
  }
}

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  let k0 = wg.x * TILE_K;
  let m0 = wg.y * TILE_M;
  for (var t = 0u; t < TILE_K * TILE_M / 256u; t++) {
    let e = lid + t * 256u;
    let m = m0 + e / TILE_K;
    let k = k0 + e % TILE_K;
    var v = 0.0;
    if (m < params.m && k < params.k) {
      v = gA[m * params.k + k];
    }
    tile[(e % TILE_K) * STRIDE + e / TILE_K] = v;
  }
  workgroupBarrier();
  storeTile(lid, k0, m0);
}

// K % 4 == 0: invocation e loads 4 consecutive K of one row of A (8 per row of the tile); with STRIDE ≡ 1 (mod 32) a
// subgroup's 4 × 8 scalar stores land on 32 different banks.
@compute @workgroup_size(256)
fn main_vec4(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  let k0 = wg.x * TILE_K;
  let m0 = wg.y * TILE_M;
  for (var t = 0u; t < TILE_K * TILE_M / 4u / 256u; t++) {
    let e = lid + t * 256u;
    let c = e / (TILE_K / 4u);
    let r = 4u * (e % (TILE_K / 4u));
    let m = m0 + c;
    let k = k0 + r;
    var v = vec4<f32>(0.0);
    if (m < params.m && k < params.k) {
      v = gA4[(m * params.k + k) / 4u];
    }
    tile[r * STRIDE + c] = v.x;
    tile[(r + 1u) * STRIDE + c] = v.y;
    tile[(r + 2u) * STRIDE + c] = v.z;
    tile[(r + 3u) * STRIDE + c] = v.w;
  }
  workgroupBarrier();
  storeTile(lid, k0, m0);
}
