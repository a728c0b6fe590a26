"""Writes r2_reference.json: small seeded hidden-state arrays and overcomplete's r2_score on them.

The released Raptor trainer (KempnerInstitute/raptor, src/trainer.py, validation_step) scores a
batch with `overcomplete.metrics.r2_score(pred.reshape(-1, D), target.reshape(-1, D))`. r2_score is
(identical in every overcomplete release 0.1.0 .. 0.3.0):

    ss_res = mean((x - x_hat) ** 2)          # mean over all rows and features
    ss_tot = mean((x - x.mean()) ** 2)       # around the GRAND (scalar) mean of x
    r2 = 1 - ss_res / (ss_tot + 1e-6)

Note that the trainer passes Raptor's prediction as x, so its SST is the spread of the prediction,
not of the teacher. This script records, per case and token group:
  - "target_first":   r2_score(target, pred)  (x = teacher: the function's documented use)
  - "pred_first":     r2_score(pred, target)  (argument order of the released trainer)
  - "per_feature":    1 - SSE/SST with SST around the per-feature mean of the teacher (an
                      independent numpy computation; the project's earlier definition)
All sums are pooled over every image of the case (as if r2_score saw the whole matrix at once).

Run (needs torch, numpy and scipy; overcomplete's package __init__ also imports timm, sklearn and
more, so metrics.py is loaded from the installed package by file path):

    python3 -m venv build/ref-venv
    build/ref-venv/bin/pip install numpy scipy torch && build/ref-venv/bin/pip install --no-deps overcomplete==0.3.0
    build/ref-venv/bin/python lib/raptor/testdata/make_r2_reference.py
"""

import importlib.util
import json
import os
import sys

import numpy as np
import torch


def load_overcomplete_metrics():
    for base in sys.path:
        path = os.path.join(base, "overcomplete", "metrics.py")
        if os.path.isfile(path):
            spec = importlib.util.spec_from_file_location("overcomplete_metrics", path)
            mod = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(mod)
            return mod, path
    sys.exit("make_r2_reference: overcomplete is not installed (pip install --no-deps overcomplete)")


def version_of(path):
    site = os.path.dirname(os.path.dirname(path))
    for name in os.listdir(site):
        if name.startswith("overcomplete-") and name.endswith(".dist-info"):
            return name[len("overcomplete-"):-len(".dist-info")]
    return "unknown"


def per_feature_r2(x, x_hat):
    sse = ((x - x_hat) ** 2).sum()
    sst = ((x - x.mean(axis=0, keepdims=True)) ** 2).sum()
    return float(1 - sse / sst)


def make_cases():
    """(name, layout, target, pred) with arrays images × tokens × dim, float32."""
    rng = np.random.default_rng(20260117)
    cases = []

    # Features with very different means (like DINOv2's large-magnitude channels): the grand mean
    # inflates SST, so the grand-mean R² is close to 1 while the per-feature R² is not.
    images, regs, patches, dim = 3, 1, 4, 6
    tokens = 1 + regs + patches
    means = np.array([0.0, 12.0, -25.0, 40.0, 3.0, -8.0])
    target = means + rng.normal(0, 1.0, (images, tokens, dim))
    pred = target + rng.normal(0, 0.6, target.shape)
    cases.append(("offset_features", {"registers": regs, "patches": patches}, target, pred))

    # Centred features of equal scale: the two SSTs nearly agree.
    images, regs, patches, dim = 4, 0, 3, 5
    tokens = 1 + regs + patches
    target = rng.normal(0, 2.0, (images, tokens, dim))
    target -= target.reshape(-1, dim).mean(axis=0)
    pred = 0.8 * target + rng.normal(0, 0.7, target.shape)
    cases.append(("centred", {"registers": regs, "patches": patches}, target, pred))

    # A prediction with inflated spread: the trainer's argument order (SST of the prediction)
    # reports a much higher R² than SST of the teacher.
    images, regs, patches, dim = 2, 2, 3, 4
    tokens = 1 + regs + patches
    target = np.array([1.0, -2.0, 5.0, 0.5]) + rng.normal(0, 1.0, (images, tokens, dim))
    pred = 3.0 * (target - target.mean()) + target.mean() + rng.normal(0, 0.5, target.shape)
    cases.append(("inflated_pred", {"registers": regs, "patches": patches}, target, pred))

    return [(n, lay, t.astype(np.float32), p.astype(np.float32)) for n, lay, t, p in cases]


def group_rows(name, layout, arr):
    regs = layout["registers"]
    if name == "cls":
        return arr[:, :1]
    if name == "registers":
        return arr[:, 1:1 + regs]
    if name == "patches":
        return arr[:, 1 + regs:]
    return arr


def main():
    metrics, path = load_overcomplete_metrics()
    out = {
        "generator": "lib/raptor/testdata/make_r2_reference.py",
        "overcomplete_version": version_of(path),
        "epsilon": float(metrics.Epsilon),
        "cases": [],
    }
    for name, layout, target, pred in make_cases():
        images, tokens, dim = target.shape
        groups = {}
        for g in ["cls", "registers", "patches", "all"]:
            t = group_rows(g, layout, target).reshape(-1, dim).astype(np.float64)
            p = group_rows(g, layout, pred).reshape(-1, dim).astype(np.float64)
            if t.shape[0] == 0:
                continue
            tt, pp = torch.from_numpy(t), torch.from_numpy(p)
            groups[g] = {
                "target_first": float(metrics.r2_score(tt, pp)),
                "pred_first": float(metrics.r2_score(pp, tt)),
                "per_feature": per_feature_r2(t, p),
            }
        out["cases"].append({
            "name": name,
            "images": images, "tokens": tokens, "dim": dim,
            "registers": layout["registers"], "patches": layout["patches"],
            "target": [float(v) for v in target.ravel()],
            "pred": [float(v) for v in pred.ravel()],
            "r2": groups,
        })
    dest = os.path.join(os.path.dirname(os.path.abspath(__file__)), "r2_reference.json")
    with open(dest, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    for c in out["cases"]:
        for g, v in c["r2"].items():
            print(f"{c['name']:16s} {g:9s} target_first {v['target_first']:.6f}  pred_first {v['pred_first']:.6f}  per_feature {v['per_feature']:.6f}")
    print("wrote", dest)


if __name__ == "__main__":
    main()
