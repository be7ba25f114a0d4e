// Candidate Aᵀ passes for `bench --transposes` (K % 4 == 0, A read as vec4s). Same contract and bindings as
// src/shaders/transpose-a.wgsl's `main_vec4`: Aᵀ has `rows` rows of `quads` vec4s; entries past M or past K are zero.
// Each entry point names its tile; the bench sizes its grid (transposeVariantGrid in bench.ts).

struct Params { m: u32, k: u32, rows: u32, quads: u32 }

@group(0) @binding(0) var<storage, read> gA4: array<vec4<f32>>;        // M × K/4
@group(0) @binding(1) var<storage, read_write> gAt: array<vec4<f32>>;  // rows × quads
@group(0) @binding(2) var<uniform> params: Params;

// A[m][4kq..4kq+3], zero past M or K.
fn loadQuad(m: u32, kq: u32) -> vec4<f32> {
  if (m < params.m && 4u * kq < params.k) {
    return gA4[m * (params.k / 4u) + kq];
  }
  return vec4<f32>(0.0);
}

fn storeQuad(row: u32, quad: u32, v: vec4<f32>) {
  if (row < params.rows && quad < params.quads) {
    gAt[row * params.quads + quad] = v;
  }
}

// --- hoisted: transpose-a.wgsl's 32 K × 64 M tile with both loads issued before the tile is written.
var<workgroup> tile: array<f32, 32u * 65u>;

@compute @workgroup_size(256)
fn hoisted(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  let k0 = wg.x * 32u;
  let m0 = wg.y * 64u;
  let c0 = lid / 8u;
  let c1 = c0 + 32u;
  let r = 4u * (lid % 8u);
  let v0 = loadQuad(m0 + c0, (k0 + r) / 4u);
  let v1 = loadQuad(m0 + c1, (k0 + r) / 4u);
  tile[r * 65u + c0] = v0.x;
  tile[(r + 1u) * 65u + c0] = v0.y;
  tile[(r + 2u) * 65u + c0] = v0.z;
  tile[(r + 3u) * 65u + c0] = v0.w;
  tile[r * 65u + c1] = v1.x;
  tile[(r + 1u) * 65u + c1] = v1.y;
  tile[(r + 2u) * 65u + c1] = v1.z;
  tile[(r + 3u) * 65u + c1] = v1.w;
  workgroupBarrier();
  for (var t = 0u; t < 2u; t++) {
    let e = lid + t * 256u;
    let row = e / 16u;
    let q = e % 16u;
    let base = row * 65u + 4u * q;
    storeQuad(k0 + row, m0 / 4u + q, vec4<f32>(tile[base], tile[base + 1u], tile[base + 2u], tile[base + 3u]));
  }
}

// --- regs: no workgroup memory. A lane owns one quad of K (kq) and QPL quads of M, spaced 4 apart, so a subgroup's
// loads are whole 128-byte rows of A (8 lanes × 16 B per row) and its stores 64-byte runs of Aᵀ (4 lanes × 16 B per
// row). Lane layout: 8 quads of K (lane % 8) × 4 quads of M (lane / 8); 8 subgroups as 2 × 4.
override QPL: u32 = 2u;  // 1..4

@compute @workgroup_size(256)
fn regs(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  let lane = lid % 32u;
  let sub = lid / 32u;
  let kq = wg.x * 16u + (sub % 2u) * 8u + lane % 8u;
  let quadBase = wg.y * (16u * QPL) + (sub / 2u) * (4u * QPL) + lane / 8u;
  var v: array<vec4<f32>, 16>;
  for (var i = 0u; i < QPL; i++) {
    for (var j = 0u; j < 4u; j++) {
      v[4u * i + j] = loadQuad(4u * (quadBase + 4u * i) + j, kq);
    }
  }
  for (var i = 0u; i < QPL; i++) {
    let q = quadBase + 4u * i;
    storeQuad(4u * kq, q, vec4<f32>(v[4u * i].x, v[4u * i + 1u].x, v[4u * i + 2u].x, v[4u * i + 3u].x));
    storeQuad(4u * kq + 1u, q, vec4<f32>(v[4u * i].y, v[4u * i + 1u].y, v[4u * i + 2u].y, v[4u * i + 3u].y));
    storeQuad(4u * kq + 2u, q, vec4<f32>(v[4u * i].z, v[4u * i + 1u].z, v[4u * i + 2u].z, v[4u * i + 3u].z));
    storeQuad(4u * kq + 3u, q, vec4<f32>(v[4u * i].w, v[4u * i + 1u].w, v[4u * i + 2u].w, v[4u * i + 3u].w));
  }
}

// --- swz: a 32 K × 4·QPR M tile of vec4s along M, the quad index XOR-ed with (row of K / 4) % 8, so the scalar
// writes of a subgroup hit 32 banks and the stores read whole vec4s from the tile.
override QPR: u32 = 16u;  // 16 or 32
var<workgroup> tileQ: array<vec4<f32>, 32u * QPR>;

@compute @workgroup_size(256)
fn swz(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  let k0 = wg.x * 32u;
  let m0 = wg.y * 4u * QPR;
  let passes = QPR / 8u;  // 32 rows × QPR quads over 256 lanes
  var v: array<vec4<f32>, 4>;
  for (var p = 0u; p < passes; p++) {
    let e = lid + p * 256u;
    v[p] = loadQuad(m0 + e / 8u, k0 / 4u + e % 8u);
  }
  for (var p = 0u; p < passes; p++) {
    let e = lid + p * 256u;
    let c = e / 8u;
    let r = 4u * (e % 8u);
    let slot = (c / 4u) ^ (e % 8u);  // (row / 4) % 8 == e % 8 for rows r..r+3
    tileQ[r * QPR + slot][c % 4u] = v[p].x;
    tileQ[(r + 1u) * QPR + slot][c % 4u] = v[p].y;
    tileQ[(r + 2u) * QPR + slot][c % 4u] = v[p].z;
    tileQ[(r + 3u) * QPR + slot][c % 4u] = v[p].w;
  }
  workgroupBarrier();
  for (var p = 0u; p < passes; p++) {
    let e = lid + p * 256u;
    let row = e / QPR;
    let q = e % QPR;
    storeQuad(k0 + row, m0 / 4u + q, tileQ[row * QPR + (q ^ ((row / 4u) % 8u))]);
  }
}

// --- copy: not a transpose; the first min(M·K/4, rows·quads) vec4s of A copied straight, as a bandwidth ceiling.
@compute @workgroup_size(256)
fn copy(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = gid.x + gid.y * groups.x * 256u;
  if (i < params.m * params.k / 4u && i < params.rows * params.quads) {
    gAt[i] = gA4[i];
  }
}

// --- readonly / writeonly: the two halves of `copy`, to tell read from write bandwidth. readonly stores only a
// value no input produces (the sum is kept live); writeonly writes an index hash (incompressible).
@compute @workgroup_size(256)
fn read_only_pass(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = gid.x + gid.y * groups.x * 256u;
  if (i < params.m * params.k / 4u && i < params.rows * params.quads) {
    let v = gA4[i];
    if (v.x + v.y + v.z + v.w == 12345.678) {
      gAt[i] = v;
    }
  }
}

@compute @workgroup_size(256)
fn write_only_pass(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = gid.x + gid.y * groups.x * 256u;
  if (i < params.m * params.k / 4u && i < params.rows * params.quads) {
    let h = (i * 2654435761u) ^ (i >> 7u);
    gAt[i] = vec4<f32>(f32(h & 0xffffu), f32(h >> 16u), f32(h ^ 0x5bd1e995u), f32(i));
  }
}

