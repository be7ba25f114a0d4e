// transpose-a: Aᵀ for the kernels that read A transposed (spmm-nm-stream with ATRANS, spmm-nm-tiled with A_T):
// row r of K holds A[0..M)[r] as `quads` vec4s (one per 4 rows of C). Rows of C past M and rows of K past K (up to
// `rows`: whole windows, or the zero row K) are zeros, so the kernels read Aᵀ without bounds tests.
// A workgroup moves a tile of 32 rows of K × 64 rows of C through workgroup memory (8.3 KB, well inside WebGPU's
// default 16 KB), so that both the reads (along K in a row of A) and the writes (along M in a row of Aᵀ) are coalesced.

struct Params { m: u32, k: u32, rows: u32, quads: u32 }

@group(0) @binding(0) var<storage, read> gA: array<f32>;               // M × K
@group(0) @binding(1) var<storage, read_write> gAt: array<vec4<f32>>;  // rows × quads
@group(0) @binding(2) var<uniform> params: Params;

const TILE_K = 32u;
const TILE_M = 64u;
const STRIDE = 65u;  // padded: the transposing stores spread over the banks

var<workgroup> tile: array<f32, TILE_K * STRIDE>;  // [row of K][row of C]

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
