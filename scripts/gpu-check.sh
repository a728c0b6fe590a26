#!/usr/bin/env bash
# One short check of the XLA/CUDA path on a lent GPU machine, where Go may be missing.
#
# Here (with Go and gcc):   make gpu-build          # builds build/gpu/{blockrec,vitbench} with cgo
# There (device tool):      bash scripts/gpu-check.sh   with carry ["build/gpu"]
#
# It finds the PJRT CUDA plugin that pip's jax-cuda13-pjrt installs, points GOMLX_BACKEND at it,
# prints the backend GoMLX reports, times training and forward steps of the reference ViT (dim 192,
# 6 layers, 3 heads, batch 128, patch 4) and of the CPU plan's teacher (dim 64, 8 layers, patch 8,
# batch 64), then trains a tiny ViT for a few steps through the whole lib/train loop (checkpoint,
# resume and evaluation included) on synthetic data. Everything goes to stdout and, when $OUT is
# set, to $OUT/gpu-check.txt. Exit status: 0 when all steps ran on the CUDA plugin.
# It differs from a CPU run only in the plugin: BLOCKREC_CUDA_PLUGIN=cpu runs the same steps on XLA's
# CPU plugin (~/.local/lib/go-xla, from make setup), and BLOCKREC_CUDA_PLUGIN=none on the pure-Go
# backend, to test this script on a CPU machine (GPU_CHECK_CONFIGS and GPU_CHECK_STEPS keep it short).
# BLOCKREC_EXPECT_BACKEND=xla is set for the XLA runs, so a silent fall-back to pure Go fails the check.
set -uo pipefail
cd "$(dirname "$0")/.."
bin=build/gpu
log=${OUT:-build}/gpu-check.txt
mkdir -p "$(dirname "$log")"
exec > >(tee "$log") 2>&1

echo "== machine"
date -u
nvidia-smi -L 2>&1 || echo "nvidia-smi: not available"
nproc

for f in blockrec vitbench; do
  if [[ ! -x $bin/$f ]]; then
    echo "gpu-check: $bin/$f is missing: run 'make gpu-build' on the build machine and carry build/gpu"
    exit 2
  fi
done

echo "== PJRT CUDA plugin"
plugin=${BLOCKREC_CUDA_PLUGIN:-}
if [[ -z $plugin ]]; then
  for py in python3 /usr/bin/python3 /usr/local/bin/python3; do
    command -v "$py" >/dev/null 2>&1 || continue
    plugin=$("$py" - <<'PY' 2>/dev/null
import glob, os, site, sys
roots = list(site.getsitepackages()) + [site.getusersitepackages()] + sys.path
for r in roots:
    for p in glob.glob(os.path.join(r, "jax_plugins", "xla_cuda*", "xla_cuda_plugin.so")):
        print(os.path.realpath(p)); sys.exit(0)
PY
)
    [[ -n $plugin ]] && break
  done
fi
if [[ $plugin == none ]]; then
  # Dry run of this script on a machine without a GPU: the same steps on the pure-Go backend.
  echo "plugin: none (dry run on the pure-Go backend)"
  export GOMLX_BACKEND=go BLOCKREC_EXPECT_BACKEND=go
elif [[ $plugin == cpu ]]; then
  # Dry run on XLA's CPU plugin: the same XLA code path as on the GPU, only the plugin differs.
  echo "plugin: XLA CPU (dry run)"
  export GOMLX_NO_AUTO_INSTALL=1 GOMLX_BACKEND=xla:cpu BLOCKREC_EXPECT_BACKEND=xla
elif [[ -z $plugin || ! -f $plugin ]]; then
  echo "gpu-check: no xla_cuda_plugin.so found (set BLOCKREC_CUDA_PLUGIN=/abs/path/xla_cuda_plugin.so)"
  exit 3
else
  echo "plugin: $plugin"
  export GOMLX_NO_AUTO_INSTALL=1 GOPJRT_CUDA_CHECKS=0 GOMLX_BACKEND="xla:$plugin" BLOCKREC_EXPECT_BACKEND=xla
fi

status=0
run() { # run NAME COMMAND...: time a step and record failures without stopping the check
  echo "== $1"
  shift
  local t0=$SECONDS
  "$@"
  local rc=$?
  echo "-- exit $rc after $((SECONDS - t0)) s"
  [[ $rc == 0 ]] || status=1
}

run "backend (blockrec env)" $bin/blockrec env
run "reference ViT and CPU-plan teacher: train and forward steps" \
  $bin/vitbench -configs "${GPU_CHECK_CONFIGS:-192x6x3x128x4,64x8x4x64x8,192x6x3x1024x4}" -steps "${GPU_CHECK_STEPS:-20}"
tmp=$(mktemp -d)
run "lib/train loop: tiny ViT, synthetic data, 2 epochs" \
  $bin/blockrec train-vit --data synthetic --config tiny --epochs 2 --batch 64 --out "$tmp/run"
run "resume of a finished run (must load, not retrain)" \
  $bin/blockrec train-vit --data synthetic --config tiny --epochs 2 --batch 64 --out "$tmp/run"
[[ -n ${OUT:-} ]] && cp "$tmp/run/metrics.jsonl" "$tmp/run/result.json" "$OUT/" 2>/dev/null
echo "== gpu-check: $([[ $status == 0 ]] && echo all steps passed || echo SOME STEPS FAILED)"
exit $status
