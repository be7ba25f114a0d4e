// spmm-nm-general: one output element per invocation, any pattern and vector length, no staging.
// The fallback when a fast kernel's staging does not fit the device, and the oracle the fast kernels are
// compared against on the GPU. Rows that fall in K padding (row ≥ K) are skipped, never read from A.

override KEEP: u32 = 1;
override GROUP: u32 = 1;
override VEC: u32 = 1;
override DENSE: bool = false;

struct Params {
  m: u32, n: u32, k: u32, keptRows: u32,
  vectors: u32, stages: u32, stagesPerSplit: u32, stageKept: u32,
}

@group(0) @binding(0) var<storage, read> gA: array<f32>;
@group(0) @binding(1) var<storage, read> gB: array<f32>;
@group(0) @binding(2) var<storage, read> gSlots: array<u32>;   // in-window offsets, bytes [keptRows][vectors]
@group(0) @binding(3) var<storage, read> gUnion: array<u32>;   // unused
@group(0) @binding(4) var<storage, read_write> gC: array<f32>;
@group(0) @binding(5) var<uniform> params: Params;

@compute @workgroup_size(16, 16)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let n = id.x;
  let m = id.y;
  if (m >= params.m || n >= params.n) {
    return;
  }
  let vector = n / VEC;
  var acc = 0.0;
  for (var w = 0u; w < params.keptRows; w++) {
    var row = w;
    if (!DENSE) {
      let i = w * params.vectors + vector;
      row = (w / KEEP) * GROUP + ((gSlots[i >> 2u] >> ((i & 3u) * 8u)) & 0xffu);
    }
    if (row < params.k) {
      acc = fma(gA[m * params.k + row], gB[w * params.n + n], acc);
    }
  }
  gC[m * params.n + n] = acc;
}
