// split-tail-reduce: adds the wave-tail partial products into C, in place (see spmm-nm-tiled.wgsl, "tail").
// The buffer holds C (M × N), then partials 1 … splits-1 of the tail rows, each `count` floats; the tail
// starts at element `base` of C. One buffer, so one read_write binding.

struct Params { base: u32, count: u32, splits: u32, partials: u32 }  // partials: first element after C (M·N)

@group(0) @binding(0) var<storage, read_write> gOut: array<f32>;
@group(0) @binding(1) var<uniform> params: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = id.x + id.y * groups.x * 256u;
  if (i >= params.count) {
    return;
  }
  var sum = gOut[params.base + i];
  for (var z = 1u; z < params.splits; z++) {
    sum += gOut[params.partials + (z - 1u) * params.count + i];
  }
  gOut[params.base + i] = sum;
}
