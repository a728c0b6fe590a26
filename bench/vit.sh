#!/usr/bin/env bash
# Side by side, in one run: lib/vit on GoMLX-XLA (CPU PJRT plugin) and GoMLX-pure-Go, and the same
# model in current PyTorch from PyPI (CPU), each at 1 and at 2 threads (the process pinned to that
# many CPUs with taskset, and told to use that many threads). Per config and thread count: training
# and forward img/s (median step), CPU seconds per training step, peak RSS, first-step (compile)
# time, and each GoMLX engine's ratio to PyTorch.
#
#   bash bench/vit.sh [configs] [steps]
#     configs: dim x layers x heads x batch x patch, comma-separated
#              (default: the two reference configs and the cpu plan's teacher, 64x8x4x64x8)
#     steps:   timed steps after one warm-up (default 5; the pure-Go engine runs min(steps, 3))
#   THREADS="1 2" ENGINES="xla go torch" TORCH_PYTHON=... to choose.
#
# PyTorch comes from a virtualenv in build/torch-venv (created on first use: pip install torch==2.15.0,
# about 3 GB with its CUDA libraries, which stay unused). JSON lines go to build/bench/vit-<time>.jsonl.
set -euo pipefail
cd "$(dirname "$0")/.."
configs=${1:-192x6x3x128x4,64x2x2x32x4,64x8x4x64x8}
steps=${2:-5}
threads_list=${THREADS:-1 2}
engines=${ENGINES:-xla go torch}
TORCH_VERSION=2.15.0

mkdir -p build/bench
out="build/bench/vit-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
go build -o build/bench/vitbench ./bench/vitbench

if [[ " $engines " == *" torch "* ]]; then
  torch_py=${TORCH_PYTHON:-build/torch-venv/bin/python}
  if ! "$torch_py" -c "import torch" 2>/dev/null; then
    echo "bench: creating build/torch-venv with torch==$TORCH_VERSION from PyPI" >&2
    python3 -m venv build/torch-venv
    build/torch-venv/bin/python -m pip install -q "torch==$TORCH_VERSION"
    torch_py=build/torch-venv/bin/python
  fi
fi
if [[ " $engines " == *" xla "* ]]; then
  plugin="$HOME/.local/lib/go-xla/pjrt_c_api_cpu_plugin.so"
  [[ -f "$plugin" ]] || { echo "bench: no XLA CPU plugin at $plugin (run bash scripts/install_xla_cpu.sh)" >&2; exit 1; }
fi

cpus() { seq -s, 0 $(($1 - 1)); }
for cfg in ${configs//,/ }; do
  for n in $threads_list; do
    for e in $engines; do
      echo "bench: $cfg, $n thread(s), $e" >&2
      case $e in
        xla)   GOMAXPROCS=$n GOMLX_BACKEND=xla:cpu BLOCKREC_EXPECT_BACKEND=xla \
                 taskset -c "$(cpus "$n")" build/bench/vitbench -configs "$cfg" -steps "$steps" ;;
        go)    GOMAXPROCS=$n GOMLX_BACKEND=go BLOCKREC_EXPECT_BACKEND=go \
                 taskset -c "$(cpus "$n")" build/bench/vitbench -configs "$cfg" -steps "$(( steps < 3 ? steps : 3 ))" ;;
        torch) OMP_NUM_THREADS=$n MKL_NUM_THREADS=$n OPENBLAS_NUM_THREADS=$n \
                 taskset -c "$(cpus "$n")" "$torch_py" bench/vit_torch.py --configs "$cfg" --steps "$steps" --threads "$n" ;;
      esac | sed "s/^{/{\"engine\":\"$e\",/" >>"$out"
    done
  done
done

python3 - "$out" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
key = lambda r: (r["config"], r["batch"], r["threads"])
torch = {key(r): r for r in rows if r["engine"] == "torch"}
print(f'{"config":34} {"batch":>5} {"thr":>3} {"engine":6} {"train img/s":>11} {"CPU-s/step":>10} {"fwd img/s":>9} '
      f'{"RSS MB":>7} {"1st step s":>10} {"× torch train":>13} {"× torch CPU":>11} {"load":>5}')
for r in rows:
    t = torch.get(key(r))
    ratio = f'{r["train_img_s"] / t["train_img_s"]:13.2f}' if t and r["engine"] != "torch" else f'{"":13}'
    cpu = f'{t["train_cpu_s"] / r["train_cpu_s"]:11.2f}' if t and r["engine"] != "torch" else f'{"":11}'
    print(f'{r["config"]:34} {r["batch"]:5d} {r["threads"]:3d} {r["engine"]:6} {r["train_img_s"]:11.1f} {r["train_cpu_s"]:10.3f} '
          f'{r["forward_img_s"]:9.1f} {r["max_rss_mb"]:7.0f} {r["train_first_s"]:10.2f} {ratio} {cpu} {r["load1"]:5.1f}')
print("× torch train = engine img/s / PyTorch img/s at the same threads (>1: faster than PyTorch);")
print("× torch CPU = PyTorch CPU-s per step / engine CPU-s per step (>1: the engine needs less CPU)")
for e in ("xla", "go", "torch"):
    b = next((r["backend"] for r in rows if r["engine"] == e), None)
    if b:
        print(f"{e}: {b}")
print("rows:", sys.argv[1])
PY
