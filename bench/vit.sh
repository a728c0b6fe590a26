#!/usr/bin/env bash
# Benchmarks lib/vit training and forward speed on the selected GoMLX backend next to the same model
# in PyTorch on CPU, and prints a table with the ratio. Installs Debian's python3-torch and
# OpenBLAS if they are missing (needs root or sudo).
#   bash bench/vit.sh [configs] [steps]     configs: dim x layers x heads x batch x patch, comma-separated
set -euo pipefail
cd "$(dirname "$0")/.."
configs=${1:-192x6x3x128x4,64x2x2x32x4}
steps=${2:-3}
if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -q && $sudo apt-get install -y -q python3-torch libopenblas0-pthread
fi
out=$(mktemp)
go run ./bench/vitbench -configs "$configs" -steps "$steps" >"$out"
/usr/bin/python3 bench/vit_torch.py --configs "$configs" --steps "$steps" >>"$out"
/usr/bin/python3 - "$out" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
by = {}
for r in rows:
    by.setdefault((r["config"], r["batch"]), {})[r["impl"]] = r
print(f'{"config":36} {"batch":>5} {"go train img/s":>14} {"torch img/s":>11} {"ratio":>6} {"go cpu-s":>8} {"torch cpu-s":>11} '
      f'{"cpu ratio":>9} {"go fwd img/s":>12} {"torch fwd":>9} {"ratio":>6} {"load":>5}')
for (cfg, batch), d in by.items():
    g, t = d.get("gomlx"), d.get("pytorch")
    if not g or not t:
        continue
    print(f'{cfg:36} {batch:5d} {g["train_img_s"]:14.1f} {t["train_img_s"]:11.1f} {t["train_img_s"]/g["train_img_s"]:6.1f} '
          f'{g["train_cpu_s"]:8.2f} {t["train_cpu_s"]:11.2f} {g["train_cpu_s"]/t["train_cpu_s"]:9.1f} '
          f'{g["forward_img_s"]:12.1f} {t["forward_img_s"]:9.1f} {t["forward_img_s"]/g["forward_img_s"]:6.1f} {g["load1"]:5.1f}')
print("ratio = PyTorch img/s / GoMLX img/s (wall); cpu ratio = GoMLX CPU-s / PyTorch CPU-s per step (lower is better for us)")
print(rows[0]["backend"], "|", rows[-1]["backend"])
PY
