#!/usr/bin/env bash
# Everything a session lent a GPU should run, in one device call (see docs/benchmarks.md, GPU):
#   bash tools/gpu_check.sh [build] [cuda] [suite] [suitedefault] [bench] [rowpaths] [train]
#       [ops] [ncu] [profile] [overhead]  (default: build cuda bench rowpaths train suite suitedefault)
# build: the C++ extension in place (the device's Python differs from this machine's);
# cuda:  tests/cuda on the GPU;  suite: the whole test suite with AUTODIFF_DEVICE=cuda
# (suitedefault: on the default device);
# bench: benchmarks/gpu.py (fused kernels vs PyTorch CUDA, then autodiff.bench --backends cuda);
# train: benchmarks/train.py on cuda vs PyTorch CUDA eager;
# ops:   benchmarks/ops.py, each tensor op through autograd on cuda vs PyTorch CUDA.
# Logs go to $OUT (the device tool's return folder), else /tmp/gpu_check.
set -u
OUT=${OUT:-/tmp/gpu_check}
mkdir -p "$OUT"
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1 AUTODIFF_BUILD_JOBS=${AUTODIFF_BUILD_JOBS:-16}
PY=${PY:-python3}
stages=${*:-build cuda bench rowpaths train suite suitedefault}

run() {  # run STAGE SECONDS CMD...: a stage's output goes to $OUT/STAGE.log, its tail here
    local stage=$1 limit=$2; shift 2
    local t0=$SECONDS
    timeout "$limit" "$@" >"$OUT/$stage.log" 2>&1
    echo "== $stage: rc=$? in $((SECONDS - t0)) s"
    tail -n "${TAIL:-25}" "$OUT/$stage.log"
}

{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  $PY -c "import sys, numpy, cupy, torch; print(sys.version.split()[0], 'numpy', numpy.__version__,
'cupy', cupy.__version__, 'torch', torch.__version__)"; } 2>&1 | tee "$OUT/env.log"
for stage in $stages; do
    case $stage in
        build) run build 200 $PY setup.py build_ext --inplace
               $PY -m autodiff.info 2>&1 | tee -a "$OUT/env.log" ;;
        cuda)  run cuda "${CUDA_LIMIT:-200}" $PY -m pytest tests/cuda -q -p no:benchmark ;;
        suite) AUTODIFF_DEVICE=cuda run suite "${SUITE_LIMIT:-400}" \
                   $PY -m pytest -q -p no:benchmark -n "${JOBS:-12}" --maxfail=100 ;;
        suitedefault)  # the default device (cpp), where the cuda fixture cases run too
               run suitedefault "${SUITE_LIMIT:-400}" \
                   $PY -m pytest -q -p no:benchmark -n "${JOBS:-12}" --maxfail=100 ;;
        bench) run bench "${BENCH_LIMIT:-200}" $PY benchmarks/gpu.py --json "$OUT/gpu.json" ;;
        rowpaths)  # the row kernels uncached, cached up to 48 KiB, cached up to the opt-in limit
               for b in 0 49152; do run "rows$b" 100 $PY benchmarks/gpu.py --no-bench --no-torch \
                   --row-cache-bytes $b; done ;;
        train) run train "${TRAIN_LIMIT:-120}" $PY benchmarks/train.py --backends cuda,torch-cuda --steps 30 \
                   --rounds 3 --json "$OUT/train.json" ;;
        ops)   run ops "${OPS_LIMIT:-200}" $PY benchmarks/ops.py --device cuda --json "$OUT/ops.json" ;;
        ncu)   # kernel times without host overhead (ours and PyTorch's), as CSV
               run ncu 300 ncu --metrics gpu__time_duration.sum,dram__bytes_read.sum,\
dram__bytes_write.sum --csv $PY tools/gpu_kernel_launches.py --torch ;;
        profile)  # where the host time of a cuda training step goes (after warm-up)
               run profile 200 $PY tools/gpu_profile_step.py transformer 30 ;;
        overhead) run overhead 120 $PY tools/gpu_host_overhead.py ;;
        *) echo "unknown stage $stage" ;;
    esac
done
