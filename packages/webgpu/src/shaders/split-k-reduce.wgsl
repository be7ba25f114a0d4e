// split-k-reduce: C = Σ over z of the split-K partial products (WGSL has no float atomics).

struct Params { count: u32, splits: u32, pad0: u32, pad1: u32 }

@group(0) @binding(0) var<storage, read> gPartial: array<f32>;   // [splits][count]
@group(0) @binding(1) var<storage, read_write> gC: array<f32>;   // [count]
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = id.x + id.y * groups.x * 256u;
  if (i >= params.count) {
    return;
  }
  var sum = 0.0;
  for (var z = 0u; z < params.splits; z++) {
    sum += gPartial[z * params.count + i];
  }
  gC[i] = sum;
}
