#!/bin/bash
# A/B of CUDA addons on the GPU machine, for kernel experiments (the loop is sensitive to code form: compare builds
# in one call, alternating). Put each build at .gpu/ab/NAME.node (git-ignored, carried with .gpu), bundle
# build/device/device-run.js, then from the repository root on the device:
#   VARIANTS="base new" B=new ROUNDS=2 PROFILE="new" SASS="new" bash packages/cuda/scripts/device-ab.sh
# Times the planner's plan of NMKIT_SHAPES (default 4096³, 256×4096², 2048×11008×4096) at 16/12/8/4:32 for every
# variant, runs conformance and every forced candidate on $B, optionally ncu kernel durations and instruction counts
# (PROFILE, plus any ncu METRICS) and SASS (SASS), and leaves everything in $OUT/ab.tgz. A variant may also set environment variables in
# .gpu/ab/NAME.env (e.g. NMKIT_CUDA_STAGING=per-vector), read before each of its runs.
source .gpu/prelude.sh
AB=$PWD/.gpu/ab
cd packages/cuda
R=/tmp/r; rm -rf $R; mkdir -p $R
nvidia-smi > $R/smi.txt
export NMKIT_DRIVER=${NMKIT_DRIVER:-$(nvidia-smi --query-gpu=driver_version --format=csv,noheader | head -1)}
export NMKIT_SHAPES=${NMKIT_SHAPES:-4096x4096x4096,256x4096x4096,2048x11008x4096}
A=${A:-base}; B=${B:-new}
variantEnv() { if [ -f "$AB/$1.env" ]; then set -a; source "$AB/$1.env"; set +a; fi; }
VARIANTS=${VARIANTS:-"$A $B"}
for i in $(seq 1 ${ROUNDS:-3}); do for v in $VARIANTS; do
  (variantEnv $v; NMKIT_CUDA_ADDON=$AB/$v.node NMKIT_COMMIT=$v node build/device/device-run.js planned $R/$v-$i > $R/$v-$i.log 2>&1)
done; done
(variantEnv $B; NMKIT_CUDA_ADDON=$AB/$B.node NMKIT_COMMIT=$B node build/device/device-run.js conformance,candidates $R/$B-check > $R/$B-check.log 2>&1)
NCU=$(command -v ncu || echo /usr/local/cuda/bin/ncu)
for v in ${PROFILE:-}; do
  (variantEnv $v; NMKIT_PROFILE_M=4096,256 NMKIT_CUDA_ADDON=$AB/$v.node $NCU --clock-control none --metrics gpu__time_duration.sum,smsp__inst_executed.sum,sm__inst_executed_pipe_fma.sum${METRICS:+,$METRICS} \
    --kernel-name regex:'transpose|spmmNm' node build/device/device-run.js profile $R/prof-$v > $R/ncu-$v.txt 2>&1)
done
CUOBJ=$(command -v cuobjdump || echo /usr/local/cuda/bin/cuobjdump)
for v in ${SASS:-}; do $CUOBJ -sass -arch sm_90 $AB/$v.node > $R/$v.sass 2>&1; gzip $R/$v.sass; done
tar czf $OUT/ab.tgz -C /tmp r
for v in $VARIANTS; do echo "== $v"; grep -h "planned " $R/$v-*.log | sed -E 's/^planned ([0-9x]+) ([0-9:]+) .*planned ([0-9.]+) ms ([0-9.]+x).*/\1 \2 \3 \4/' | sort | awk '{k=$1" "$2; a[k]=a[k]" "$3} END {for (k in a) print k":"a[k]}' | sort; done
grep -h "conformance:\|candidates:" $R/$B-check.log
