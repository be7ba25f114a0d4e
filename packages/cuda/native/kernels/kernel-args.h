// Plain argument structs shared by the host launchers and the kernels (no CUDA types, includable from C++).
#pragma once
#include <cstdint>

namespace nmkit {

/// Columns of C per thread block in the tiled kernels. Fixed at prepare time: the host re-tiles indices and
/// builds the per-block union row lists for this block width.
constexpr int kTileN = 128;
/// Columns of a warp in the tiled kernels: one warp-column shares one index (V must be a multiple of it).
constexpr int kWarpN = 32;
/// Kept rows per stage of the tiled kernels (a stage may cut a window: the row lists name rows explicitly).
constexpr int kStageKept = 16;
/// Kept rows per stage of the wide instances, for weights re-tiled with 32 kept rows at prepare time (ρ = ½, where
/// a stage of 64 staged rows still leaves room for two blocks per SM): half the per-stage cost per FMA.
constexpr int kWideStageKept = 32;
/// Kept rows per stage for 12:32-like weights: 24 kept rows are two whole windows (64 rows of A).
constexpr int kMidStageKept = 24;
/// Staged A rows per stage at most, for every stage size: 16 kept rows × 4 warp-columns, and the host keeps the long
/// stages' row lists within it (retile.ts MAX_STAGE_ROWS).
constexpr int kMaxStageRows = 64;

/// Most split-K blocks one cluster reduction takes (the portable cluster size limit).
constexpr int kMaxClusterSplits = 8;

/// Arguments of the tiled kernels (spmm-nm-tiled.cuh).
struct TiledArgs {
  const float* At;        // A transposed: (K + 1) × lda, lda = M rounded up to 4 (zero padded); row K is all zeros
  int lda;
  int M;
  const float* B;         // compressed values, (stages·ks) × ldb, ldb = N rounded up to 4 (zero padded)
  int ldb;
  int N;
  const int32_t* rows;    // [tilesN][stages][srows]: dense row of A staged in slot r; -1 = zero row (row K of At), -2 = unused
  const uint8_t* slots;   // [tilesN][stages][slotStride]: slot of kept row r for warp-column c at c·ks + r
  int ks;                 // kept rows per stage: kStageKept, kMidStageKept or kWideStageKept
  int srows;              // staged A rows per stage (capacity of the row lists)
  int slotStride;         // bytes of slots per (tile, stage), multiple of 16
  int stages;             // stages along K in total
  int stagesPerSplit;     // split-K: stages handled by one blockIdx.z
  float* C;               // M × N row-major, or with columnsC its column form
  int atomic;             // 1: atomicAdd into a zeroed C (split-K), 0: plain stores (or the cluster reduction)
  uint32_t ldaBytes;      // lda · 4: a row of Aᵀ in bytes (one 32×32→64-bit multiply-add per staged row)
  int zeroRow;            // K: the zero row of At that -1 entries copy (so a copy needs no zero-fill select)
  int cluster;            // > 1 (sm_90): the split-K blocks of a tile form one cluster and add their tiles through
                          // distributed shared memory, each storing 1/cluster of the sum (no memset, no atomics)
  int perVector;          // 1: per-vector row lists (srows = 4·ks, staged row c·ks + r = kept row r of warp-column c;
                          // slots unused), 0: union lists with slots
  int columnsC;           // 1: C is written as Cᵀ, the column form the next layer's tiled kernel reads as its At
                          // (row n of Cᵀ at C + n·ldc; rows M..mPadded-1 written as zeros), 0: row-major C
  int ldc;                // columnsC: row stride of Cᵀ in floats (a multiple of 4)
  int mPadded;            // columnsC: rows of C this launch writes, pad rows included (≤ ldc)
};

/// Arguments of the streaming kernel (spmm-nm-stream.cu, the general path) and the narrow decode kernel
/// (spmm-nm-narrow.cu), which also reads At and lda when it gathers from Aᵀ.
struct StreamArgs {
  const float* A;          // M × K row-major
  int M, K;
  const float* B;          // values, keptRows × ldb
  int ldb, N;
  const uint8_t* indices;  // keptRows × vectors, the format's own layout
  int vectors, keep, group, vectorLength;
  int keptRows;
  int windowsPerSplit;     // windows of K per blockIdx.y
  float* C;
  int atomic;
  const float* At;         // transposed narrow kernel: Aᵀ, (K + 1) × lda, row K all zeros (else null)
  int lda;
  int firstSplit;          // split of blockIdx.y = 0: more splits than a grid's y holds go out as several launches
  int columnsC;            // transposed narrow kernel: 1 = C written as its column form Cᵀ (row n at C + n·ldc, rows
                           // M..ldc-1 zeros), 0 = row-major C
  int ldc;                 // columnsC: row stride of Cᵀ (a multiple of 16, ≥ M)
};

}  // namespace nmkit
