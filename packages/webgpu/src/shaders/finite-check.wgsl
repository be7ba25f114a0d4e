// finite-check: sets `flag` when A holds a NaN or ±Inf (exponent bits all ones). Runs beside a multiplication on
// widened weights, where a pruned row is a stored zero and 0 · NaN would reach C: the backend reruns the call on the
// original weights when the flag is set. Grid-stride over the words of A; one atomic per invocation that saw one.

struct Params { count: u32, pad0: u32, pad1: u32, pad2: u32 }

@group(0) @binding(0) var<storage, read> gA: array<u32>;               // the bits of A's M · K floats
@group(0) @binding(1) var<storage, read_write> gFlag: atomic<u32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let stride = groups.x * 256u;
  var bad = 0u;
  for (var i = id.x; i < params.count; i += stride) {
    bad |= u32((gA[i] & 0x7f800000u) == 0x7f800000u);
  }
  if (bad != 0u) {
    atomicOr(&gFlag, 1u);
  }
}
