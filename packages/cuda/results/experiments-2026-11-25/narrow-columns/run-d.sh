#!/bin/bash
# Decode rows in the chain layout: the narrow kernel gathering from row-major A against from Aᵀ (NMKIT_NARROW_T=1).
source .gpu/prelude.sh
mkdir -p /tmp/bb && rm -rf /tmp/bb/gpu-bundle && tar xJf .gpu/bench-bundle.tar.xz -C /tmp/bb
export NMKIT_CUDA_ADDON=/tmp/bb/gpu-bundle/nmkit_cuda.node NMKIT_COMMIT=$(cat .gpu/commit)-narrow-t-probe NMKIT_DRIVER=$(nvidia-smi --query-gpu=driver_version --format=csv,noheader | head -1)
R=/tmp/resd; rm -rf $R; mkdir -p $R
cd packages/cuda
for round in 1 2; do for t in 0 1; do
  NMKIT_NARROW_T=$t NMKIT_TIMING_INPUT=device-matrix NMKIT_DECODE_M=8,16 node build/device/device-run.js decode $R/t$t-r$round > $R/t$t-r$round.log 2>&1
done; done
grep -h "decode " $R/*.log | head -80
tar czf $OUT/res-d.tgz -C /tmp resd
