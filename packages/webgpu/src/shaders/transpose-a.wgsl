// transpose-a: Aᵀ for spmm-nm-stream with ATRANS: row r of K holds A[0..M)[r] as ⌈M/4⌉ vec4s (one per row group),
// rows of C past M and rows of K past K (padding up to whole windows) are zeros, so the stream kernel reads Aᵀ
// without bounds tests.

struct Params { m: u32, k: u32, rows: u32, quads: u32 }   // rows: K padded; quads: ⌈M/4⌉

@group(0) @binding(0) var<storage, read> gA: array<f32>;            // M × K
@group(0) @binding(1) var<storage, read_write> gAt: array<vec4<f32>>;  // rows × quads
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = id.x + id.y * groups.x * 256u;
  if (i >= params.rows * params.quads) {
    return;
  }
  let row = i / params.quads;
  let m0 = (i % params.quads) * 4u;
  var v = vec4<f32>(0.0);
  if (row < params.k) {
    for (var t = 0u; t < 4u; t++) {
      if (m0 + t < params.m) {
        v[t] = gA[(m0 + t) * params.k + row];
      }
    }
  }
  gAt[i] = v;
}
