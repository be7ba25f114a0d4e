// spmm-nm-tiled: C = A · B with B N:M-sparse (or dense), hierarchical blocking.
//
// Levels (the shared TilingPlan mapped onto WGSL):
//   workgroup  BM × BN tile of C; per stage it stages in workgroup memory
//              sA: A_ROWS rows of K × BM (transposed, so an invocation's TM rows are one vec4 load),
//              sB: KEPT compressed rows × BN, sSlot: the sA row each (kept row, vector) reads;
//   subgroup   consecutive invocation indices run along N, so a subgroup is a strip of the tile whose
//              invocations share A reads (broadcast) and read B as consecutive vec4s;
//   invocation TM × TN register tile: TN/4 vec4 column groups, TM rows as TM/4 vec4s. COLMAP 0: the groups
//              sit at tx·4 and tx·4 + BN/2 (a subgroup's vec4 reads of sB are consecutive); COLMAP 1: they
//              are consecutive (TN columns of one vector, so one slot and one set of sA reads serve them all),
//              and sB rows are XOR-swizzled so that a subgroup's vec4 reads still cover every bank.
// Variants through override constants (set at pipeline creation, part of the pipeline cache key):
//   SLOT_MODE 0 no slots: kept row w reads staged row w (dense; or, with UNION, lists in kept order: a block inside
//             one vector stages exactly its vector's kept rows), 1 one slot per SLOT_COLS columns (4, VEC or BN; VEC % 4 == 0),
//             2 one slot per column; SLOT_OFFSETS: a slot is the sA offset (row · (BM/4 + 1)) of the row it
//             reads, else the row itself (multiplied at each use);
//   UNION     stage only the A rows some vector of this column block uses (rows listed per block and stage in
//             gUnion at prepare time; gSlots then holds positions in that list): high sparsity, and long windows
//             cut into parts (a stage is KEPT kept rows by rank of every window, KEPT dividing KEEP; BK unused);
//   grid z    split-K: each z slice covers stagesPerSplit stages and writes its own partial C.
//   tail      (TAIL) wave-tail split: grid rows from tailRowBlock on are the last row blocks, each repeated tailSplits
//             times, each copy covering tailStagesPerSplit stages; copy 0 writes C, copy s > 0 writes partial
//             s - 1 after C in the same buffer (rows from the tail's first row), and split-tail-reduce.wgsl adds
//             them into C. Fills the last, partly empty wave of a large grid with shorter work items.
//   A_T       A is staged from Aᵀ (transpose-a.wgsl, a pass of its own): one vec4 load per 4 rows of the tile
//             instead of 4 scalar loads from 4 rows of A; row K of Aᵀ and its columns past M are zeros, so the load
//             needs no bounds tests (rows ≥ K, including unused union entries, read row K).
//   B_VEC     N % 4 == 0: B is staged as vec4 loads (gB4, the same buffer as gB) instead of 4 scalar loads.
// Ragged everything: rows ≥ M, columns ≥ N and K rows ≥ K are zero-filled when staged, never read from A.

override BM: u32 = 64;
override BN: u32 = 64;
override TM: u32 = 8;
override TN: u32 = 8;
override KEEP: u32 = 1;
override GROUP: u32 = 1;
override VEC: u32 = 1;
override BK: u32 = 32;          // dense K rows per stage (whole windows; unused by window-part union stages)
override KEPT: u32 = 32;        // compressed rows per stage: BK / GROUP · KEEP, or a divisor of KEEP (window parts)
override A_ROWS: u32 = 32;      // staged A rows: BK, or the longest union list
override SLOT_MODE: u32 = 0u;
override UNION: bool = false;
override SLOT_COLS: u32 = 4u;   // columns per slot entry: 1 (mode 2), 4, VEC or BN (mode 1)
override SLOTS_PER_ROW: u32 = 16;  // BN / SLOT_COLS
override COLMAP: u32 = 0u;      // invocation columns: 0 split halves, 1 consecutive (swizzled sB)
override SLOT_OFFSETS: bool = true;  // sSlot holds sA offsets (row · stride) instead of sA rows
override WG: u32 = 64;          // (BM / TM) · (BN / TN)
override PREFETCH: bool = false; // register double buffering; needs each *_TRIPS ≤ 8
override PREFETCH_A: bool = true;  // with PREFETCH: A goes through registers (else loaded after the stage's FMAs; A_TRIPS 0)
override PREFETCH_B: bool = true;  // with PREFETCH: B and slots go through registers (else after the FMAs; B/S_TRIPS 0)
override A_TRIPS: u32 = 1;      // ⌈A_ROWS · BM/4 / WG⌉: staging loads per invocation
override B_TRIPS: u32 = 1;      // ⌈KEPT · BN/4 / WG⌉
override S_TRIPS: u32 = 1;      // ⌈KEPT · SLOTS_PER_ROW / WG⌉
override KCHUNK: u32 = 0u;      // > 0: the kept-row loop runs in chunks of KCHUNK unrolled rows (KEPT % KCHUNK == 0)
override PAD_WORDS: u32 = 0u;    // unused words after sSlot (an experiment: workgroup memory per workgroup vs occupancy)
override TAIL: bool = false;     // wave-tail split compiled in (a pipeline of its own: the rest pay nothing for it)
override UNROLL: bool = true;   // false on CPU drivers: a run-time trip count keeps LLVM from unrolling (compile time)
override A_T: bool = false;     // stage A from Aᵀ (gAt), one vec4 per 4 rows of the tile
override B_VEC: bool = false;   // stage B as vec4 loads (gB4; N % 4 == 0)

struct Params {
  m: u32, n: u32, k: u32, keptRows: u32,
  vectors: u32, stages: u32, stagesPerSplit: u32, stageKept: u32,  // stageKept = KEPT, at run time
  tailRowBlock: u32, tailSplits: u32, tailStagesPerSplit: u32,  // no tail: tailRowBlock ≥ grid rows
  aQuads: u32,  // A_T: vec4s per row of Aᵀ (M padded to whole row blocks)
}

@group(0) @binding(0) var<storage, read> gA: array<f32>;          // M × K
@group(0) @binding(1) var<storage, read> gB: array<f32>;          // keptRows × N (dense: K × N)
@group(0) @binding(2) var<storage, read> gSlots: array<u32>;      // bytes [keptRows][vectors], 4 per word
@group(0) @binding(3) var<storage, read> gUnion: array<u32>;      // [colBlocks][stages][A_ROWS] rows of K
@group(0) @binding(4) var<storage, read_write> gC: array<f32>;    // [splitK][M][N], or C then the tail partials
@group(0) @binding(5) var<uniform> params: Params;
@group(0) @binding(6) var<storage, read> gAt: array<vec4<f32>>;    // A_T: (K + 1) × aQuads, row K zero
@group(0) @binding(7) var<storage, read> gB4: array<vec4<f32>>;    // B_VEC: gB as vec4s

var<workgroup> sA: array<vec4<f32>, A_ROWS * (BM / 4u + 1u)>;   // A_ROWS × BM (+1 vec4 pad per row)
var<workgroup> sB: array<vec4<f32>, KEPT * (BN / 4u)>;          // KEPT × BN
var<workgroup> sSlot: array<u32, KEPT * SLOTS_PER_ROW + PAD_WORDS>;  // KEPT × SLOTS_PER_ROW sA offsets (+ unused padding)
var<private> n0: u32;      // first column of the block
var<private> m0: u32;      // first row of the block
var<private> blockX: u32;  // column block index (union lists)

// Column group g (4 columns) of invocation tx, counted from the block's first column.
fn colGroup(tx: u32, g: u32) -> u32 {
  if (COLMAP == 1u) {
    return tx * (TN / 4u) + g;
  }
  return tx + g * (BN / TN);
}

// Where column group c4 lives in a row of sB. COLMAP 1: invocation tx reads groups 2tx and 2tx + 1 (TN = 8);
// flipping the low bit in every odd run of 8 groups spreads a subgroup's 16 reads over all 8 vec4 banks
// (2 wavefronts, as consecutive reads), where unswizzled they would hit only the even (or odd) banks.
fn sBCol(c4: u32) -> u32 {
  if (COLMAP == 1u) {
    return c4 ^ ((c4 >> 3u) & (TN / 4u - 1u));
  }
  return c4;
}

fn slotByte(w: u32, v: u32) -> u32 {
  let i = w * params.vectors + v;
  return (gSlots[i >> 2u] >> ((i & 3u) * 8u)) & 0xffu;
}

// Element e of a stage's A tile. Scalar: row r = e % A_ROWS of K, rows 4·(e / A_ROWS) … +3 of the block's M;
// consecutive invocations walk along K (coalesced global reads), each gathering 4 rows of A for one K row, stored
// as one vec4 of the transposed tile. A_T: row e / (BM/4) of K, vec4 e % (BM/4) of it, one load from Aᵀ
// (consecutive invocations read consecutive vec4s of one row).
fn loadA(e: u32, stage: u32) -> vec4<f32> {
  var r = e % A_ROWS;
  if (A_T) {
    r = e / (BM / 4u);
  }
  var row = stage * BK + r;
  if (UNION) {
    row = gUnion[(blockX * params.stages + stage) * A_ROWS + r];
  }
  if (A_T) {
    return gAt[min(row, params.k) * params.aQuads + m0 / 4u + e % (BM / 4u)];
  }
  let m = m0 + 4u * (e / A_ROWS);
  var v = vec4<f32>(0.0);
  if (row < params.k) {
    for (var j = 0u; j < 4u; j++) {
      if (m + j < params.m) {
        v[j] = gA[(m + j) * params.k + row];
      }
    }
  }
  return v;
}

fn storeA(e: u32, v: vec4<f32>) {
  if (A_T) {
    sA[(e / (BM / 4u)) * (BM / 4u + 1u) + e % (BM / 4u)] = v;
    return;
  }
  sA[(e % A_ROWS) * (BM / 4u + 1u) + e / A_ROWS] = v;
}

fn storeB(e: u32, v: vec4<f32>) {
  sB[(e / (BN / 4u)) * (BN / 4u) + sBCol(e % (BN / 4u))] = v;
}

// Element e of a stage's B tile: kept row e / (BN/4), 4 consecutive columns.
fn loadB(e: u32, stage: u32) -> vec4<f32> {
  let c = n0 + 4u * (e % (BN / 4u));
  let w = stage * KEPT + e / (BN / 4u);
  var v = vec4<f32>(0.0);
  if (B_VEC) {
    if (w < params.keptRows && c < params.n) {
      v = gB4[(w * params.n + c) / 4u];
    }
    return v;
  }
  if (w < params.keptRows) {
    for (var j = 0u; j < 4u; j++) {
      if (c + j < params.n) {
        v[j] = gB[w * params.n + c + j];
      }
    }
  }
  return v;
}

// The sA offset of a staged slot (SLOT_OFFSETS: the slot is the offset; else it is the row).
fn slotOffset(slot: u32) -> u32 {
  if (SLOT_OFFSETS) {
    return slot;
  }
  return slot * (BM / 4u + 1u);
}

// Which staged A row kept row e / SLOTS_PER_ROW reads for the e % SLOTS_PER_ROW-th column (group); with
// SLOT_OFFSETS as its offset in sA (premultiplied by the row stride: one multiply per stage, not per use).
fn loadSlot(e: u32, stage: u32) -> u32 {
  let s = e % SLOTS_PER_ROW;
  let w = e / SLOTS_PER_ROW;
  let col = n0 + SLOT_COLS * s;
  // Kept rows past the end of B (last stage) must read a zero row of sA, never a real one: A may hold
  // NaN/Inf where B is pruned. Past K that is the window's own first row; in a union tile its last row, which is
  // unused (zero) in a stage short of kept rows, the only stage that has kept rows past the end of B.
  var slot = (w / KEEP) * GROUP;
  if (UNION) {
    slot = A_ROWS - 1u;
  }
  if (col < params.n && stage * KEPT + w < params.keptRows) {
    slot = slotByte(stage * KEPT + w, col / VEC);
    if (!UNION) {
      slot += (w / KEEP) * GROUP;
    }
  }
  if (SLOT_OFFSETS) {
    return slot * (BM / 4u + 1u);
  }
  return slot;
}

// Stages a whole stage straight into workgroup memory.
fn stageDirect(lid: u32, stage: u32) {
  for (var e = lid; e < A_ROWS * (BM / 4u); e += WG) {
    storeA(e, loadA(e, stage));
  }
  for (var e = lid; e < KEPT * (BN / 4u); e += WG) {
    storeB(e, loadB(e, stage));
  }
  if (SLOT_MODE != 0u) {
    for (var e = lid; e < KEPT * SLOTS_PER_ROW; e += WG) {
      sSlot[e] = loadSlot(e, stage);
    }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  // Which tile and which stages: grid row wg.y, or (TAIL) a copy of a tail row block (see the header).
  var rowBlock = wg.y;
  var stageBegin = wg.z * params.stagesPerSplit;
  var stageEnd = min(params.stages, stageBegin + params.stagesPerSplit);
  if (TAIL && wg.y >= params.tailRowBlock) {
    let t = wg.y - params.tailRowBlock;
    rowBlock = params.tailRowBlock + t / params.tailSplits;
    stageBegin = (t % params.tailSplits) * params.tailStagesPerSplit;
    stageEnd = min(params.stages, stageBegin + params.tailStagesPerSplit);
  }
  n0 = wg.x * BN;
  m0 = rowBlock * BM;
  blockX = wg.x;
  let threadsN = BN / TN;
  let tx = lid % threadsN;
  let ty = lid / threadsN;
  let aStride = BM / 4u + 1u;

  var acc: array<vec4<f32>, 16>;  // rC: TM rows × TN/4 column groups, acc[r · TN/4 + g]
  // Register prefetch (PREFETCH): the next stage's global reads are issued before this stage's FMAs and land
  // in registers (rA, rB, rS), so their latency hides behind the math; one workgroup buffer suffices.
  var rA: array<vec4<f32>, 8>;
  var rB: array<vec4<f32>, 8>;
  var rS: array<u32, 8>;

  if (PREFETCH && stageBegin < stageEnd) {
    stageDirect(lid, stageBegin);
  }
  for (var stage = stageBegin; stage < stageEnd; stage++) {
    if (!PREFETCH) {
      stageDirect(lid, stage);
    }
    workgroupBarrier();
    let prefetch = PREFETCH && stage + 1u < stageEnd;
    if (prefetch) {
      for (var t = 0u; t < A_TRIPS; t++) {
        let e = lid + t * WG;
        if (e < A_ROWS * (BM / 4u)) {
          rA[t] = loadA(e, stage + 1u);
        }
      }
      for (var t = 0u; t < B_TRIPS; t++) {
        let e = lid + t * WG;
        if (e < KEPT * (BN / 4u)) {
          rB[t] = loadB(e, stage + 1u);
        }
      }
      if (SLOT_MODE != 0u) {
        for (var t = 0u; t < S_TRIPS; t++) {
          let e = lid + t * WG;
          if (e < KEPT * SLOTS_PER_ROW) {
            rS[t] = loadSlot(e, stage + 1u);
          }
        }
      }
    }

    // A constant trip count (the last stage's missing rows are zeros in sB and read zero rows of sA), so the
    // compiler can unroll the whole stage; on CPU drivers the same count comes from the uniform instead.
    // KCHUNK: only KCHUNK rows are unrolled (the inner loop's constant trip count) and the outer bound comes
    // from the uniform, so the compiler cannot unroll (and schedule loads across) the whole stage: bounds
    // register pressure for long N:M stages. KCHUNK 0: the outer loop is the stage's one kept-row loop and the
    // inner one runs once (no second loop with a run-time bound around the rows).
    let keptBound = select(select(params.stageKept, KEPT, UNROLL), params.stageKept, KCHUNK != 0u);
    // One slot (sA offset) serves all of an invocation's columns when they lie in one vector (COLMAP 1, a
    // slot entry spanning ≥ TN columns) or when every row is kept: then A is read once per kept row.
    let oneSlot = SLOT_MODE == 0u || (SLOT_MODE == 1u && COLMAP == 1u && SLOT_COLS % TN == 0u);
    for (var w0 = 0u; w0 < keptBound; w0 += max(KCHUNK, 1u)) {
      for (var wc = 0u; wc < max(KCHUNK, 1u); wc++) {
        let w = w0 + wc;
        if (oneSlot) {
          var base = w * aStride + ty * (TM / 4u);
          if (SLOT_MODE == 1u) {
            base = slotOffset(sSlot[w * SLOTS_PER_ROW + (tx * TN) / SLOT_COLS]) + ty * (TM / 4u);
          }
          var a: array<vec4<f32>, 4>;  // TM/4 ≤ 4
          for (var i = 0u; i < TM / 4u; i++) {
            a[i] = sA[base + i];
          }
          for (var g = 0u; g < TN / 4u; g++) {
            let b = sB[w * (BN / 4u) + sBCol(colGroup(tx, g))];
            for (var i = 0u; i < TM / 4u; i++) {
              let r = 4u * i;
              acc[(r + 0u) * (TN / 4u) + g] = fma(vec4<f32>(a[i].x), b, acc[(r + 0u) * (TN / 4u) + g]);
              acc[(r + 1u) * (TN / 4u) + g] = fma(vec4<f32>(a[i].y), b, acc[(r + 1u) * (TN / 4u) + g]);
              acc[(r + 2u) * (TN / 4u) + g] = fma(vec4<f32>(a[i].z), b, acc[(r + 2u) * (TN / 4u) + g]);
              acc[(r + 3u) * (TN / 4u) + g] = fma(vec4<f32>(a[i].w), b, acc[(r + 3u) * (TN / 4u) + g]);
            }
          }
          continue;
        }
        for (var g = 0u; g < TN / 4u; g++) {
          let c4 = colGroup(tx, g);
          let b = sB[w * (BN / 4u) + sBCol(c4)];
          if (SLOT_MODE == 2u) {
            // Element-wise or narrow vectors: each of the 4 columns may read a different row of A.
            for (var j = 0u; j < 4u; j++) {
              let base = slotOffset(sSlot[w * BN + c4 * 4u + j]) + ty * (TM / 4u);
              for (var i = 0u; i < TM / 4u; i++) {
                let a = sA[base + i];
                let r = 4u * i;
                acc[(r + 0u) * (TN / 4u) + g][j] = fma(a.x, b[j], acc[(r + 0u) * (TN / 4u) + g][j]);
                acc[(r + 1u) * (TN / 4u) + g][j] = fma(a.y, b[j], acc[(r + 1u) * (TN / 4u) + g][j]);
                acc[(r + 2u) * (TN / 4u) + g][j] = fma(a.z, b[j], acc[(r + 2u) * (TN / 4u) + g][j]);
                acc[(r + 3u) * (TN / 4u) + g][j] = fma(a.w, b[j], acc[(r + 3u) * (TN / 4u) + g][j]);
              }
            }
          } else {
            // SLOT_COLS is a multiple of 4 here (4, VEC or BN): column group c4 reads entry c4 / (SLOT_COLS / 4)
            // (the max only keeps the per-column specialisation, SLOT_COLS = 1, from dividing by zero).
            let base = slotOffset(sSlot[w * SLOTS_PER_ROW + c4 / max(SLOT_COLS / 4u, 1u)]) + ty * (TM / 4u);
            for (var i = 0u; i < TM / 4u; i++) {
              let a = sA[base + i];
              let r = 4u * i;
              acc[(r + 0u) * (TN / 4u) + g] = fma(vec4<f32>(a.x), b, acc[(r + 0u) * (TN / 4u) + g]);
              acc[(r + 1u) * (TN / 4u) + g] = fma(vec4<f32>(a.y), b, acc[(r + 1u) * (TN / 4u) + g]);
              acc[(r + 2u) * (TN / 4u) + g] = fma(vec4<f32>(a.z), b, acc[(r + 2u) * (TN / 4u) + g]);
              acc[(r + 3u) * (TN / 4u) + g] = fma(vec4<f32>(a.w), b, acc[(r + 3u) * (TN / 4u) + g]);
            }
          }
        }
      }
    }
    workgroupBarrier();
    if (prefetch) {
      for (var t = 0u; t < A_TRIPS; t++) {
        let e = lid + t * WG;
        if (e < A_ROWS * (BM / 4u)) {
          storeA(e, rA[t]);
        }
      }
      for (var t = 0u; t < B_TRIPS; t++) {
        let e = lid + t * WG;
        if (e < KEPT * (BN / 4u)) {
          storeB(e, rB[t]);
        }
      }
      if (SLOT_MODE != 0u) {
        for (var t = 0u; t < S_TRIPS; t++) {
          let e = lid + t * WG;
          if (e < KEPT * SLOTS_PER_ROW) {
            sSlot[e] = rS[t];
          }
        }
      }
    }
    // Parts not prefetched (PREFETCH_A / PREFETCH_B false: kernelSpec sets their *_TRIPS to 0, so the register
    // loops above skip them) are loaded here, after the FMAs: their registers are not live across the FMAs, their
    // latency is exposed (other workgroups on the SM may cover it).
    if (prefetch && !PREFETCH_A) {
      for (var e = lid; e < A_ROWS * (BM / 4u); e += WG) {
        storeA(e, loadA(e, stage + 1u));
      }
    }
    if (prefetch && !PREFETCH_B) {
      for (var e = lid; e < KEPT * (BN / 4u); e += WG) {
        storeB(e, loadB(e, stage + 1u));
      }
      if (SLOT_MODE != 0u) {
        for (var e = lid; e < KEPT * SLOTS_PER_ROW; e += WG) {
          sSlot[e] = loadSlot(e, stage + 1u);
        }
      }
    }
  }

  // Where this workgroup's rows go: C (or its split-K slice), or a tail copy's partial after C. Worked out here,
  // from the workgroup id and the uniforms, so that nothing of it is live across the main loop (registers).
  var outBase = wg.z * params.m * params.n;
  var outRow0 = 0u;
  if (TAIL && wg.y >= params.tailRowBlock && (wg.y - params.tailRowBlock) % params.tailSplits > 0u) {
    outRow0 = params.tailRowBlock * BM;
    outBase = params.m * params.n + ((wg.y - params.tailRowBlock) % params.tailSplits - 1u) * (params.m - outRow0) * params.n;
  }
  for (var r = 0u; r < TM; r++) {
    let row = m0 + ty * TM + r;
    if (row >= params.m) {
      break;
    }
    let out0 = outBase + (row - outRow0) * params.n;
    for (var g = 0u; g < TN / 4u; g++) {
      let col = n0 + 4u * colGroup(tx, g);
      let v = acc[r * (TN / 4u) + g];
      for (var j = 0u; j < 4u; j++) {
        if (col + j < params.n) {
          gC[out0 + col + j] = v[j];
        }
      }
    }
  }
}
