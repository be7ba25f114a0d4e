#!/bin/bash
# Every tiled candidate in the chain layout at M = 256 over the paper's 20 (N, K) pairs.
source .gpu/prelude.sh
mkdir -p /tmp/bb && rm -rf /tmp/bb/gpu-bundle && tar xJf .gpu/bench-bundle.tar.xz -C /tmp/bb
export NMKIT_CUDA_ADDON=/tmp/bb/gpu-bundle/nmkit_cuda.node NMKIT_COMMIT=$(cat .gpu/commit) NMKIT_DRIVER=$(nvidia-smi --query-gpu=driver_version --format=csv,noheader | head -1)
R=/tmp/ress; rm -rf $R; mkdir -p $R
cd packages/cuda
NMKIT_TIMING_INPUT=device-matrix NMKIT_SHAPES=$(cat ../../.gpu/shapes256.txt) timeout 500 node build/device/device-run.js shapes $R > $R/log.txt 2>&1
tail -3 $R/log.txt
tar czf $OUT/res-s.tgz -C /tmp ress
