#!/usr/bin/env python3
"""The same ViT as lib/vit in PyTorch on CPU, timed like bench/vitbench: one warm-up step, then the
median of N training steps (AdamW, global-norm clipping) and forward passes. Prints JSON lines."""
import argparse, json, math, os, re, resource, statistics, time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, dim, heads, hidden):
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(dim, eps=1e-6), nn.LayerNorm(dim, eps=1e-6)
        self.q, self.k, self.v, self.proj = (nn.Linear(dim, dim) for _ in range(4))
        self.fc1, self.fc2 = nn.Linear(dim, hidden), nn.Linear(hidden, dim)
        self.heads = heads

    def forward(self, x):
        b, t, d = x.shape
        h = self.norm1(x)
        split = lambda y: y.view(b, t, self.heads, d // self.heads).transpose(1, 2)
        q, k, v = split(self.q(h)), split(self.k(h)), split(self.v(h))
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d // self.heads), dim=-1)
        x = x + self.proj((att @ v).transpose(1, 2).reshape(b, t, d))
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))


class ViT(nn.Module):
    def __init__(self, dim, depth, heads, patch, classes=100, image=32):
        super().__init__()
        self.patch = patch
        n = (image // patch) ** 2
        self.embed = nn.Linear(patch * patch * 3, dim)
        self.cls = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos = nn.Parameter(torch.zeros(1, n + 1, dim))
        self.blocks = nn.ModuleList(Block(dim, heads, 4 * dim) for _ in range(depth))
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, classes)

    def forward(self, img):  # img: [B, H, W, C] like lib/vit
        b, hh, ww, c = img.shape
        p = self.patch
        x = img.view(b, hh // p, p, ww // p, p, c).permute(0, 1, 3, 2, 4, 5).reshape(b, -1, p * p * c)
        x = torch.cat([self.cls.expand(b, -1, -1), self.embed(x)], dim=1) + self.pos
        for blk in self.blocks:
            x = blk(x)
        return self.head(self.norm(x)[:, 0])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--configs", default="192x6x3x128x4,64x2x2x32x4")
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: leave torch's default)")
    args = ap.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
        torch.set_num_interop_threads(1)
    torch.manual_seed(0)
    config = torch.__config__.show()
    blas = re.search(r"BLAS_INFO=(\w+)", config)
    blas = blas.group(1) if blas else ("mkl" if torch.backends.mkl.is_available() else "unknown")
    for spec in args.configs.split(","):
        dim, depth, heads, batch, patch = map(int, spec.split("x"))
        model = ViT(dim, depth, heads, patch)
        opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=1e-4)
        x = torch.randn(batch, 32, 32, 3)
        y = torch.randint(0, 100, (batch,))

        def step():
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()

        def timed(fn):
            """Median wall seconds and mean process CPU seconds (user+sys) per call after a warm-up,
            and the warm-up's own wall seconds."""
            t0 = time.perf_counter()
            fn()
            first = time.perf_counter() - t0
            times = []
            c0 = time.process_time()
            for _ in range(args.steps):
                t0 = time.perf_counter()
                fn()
                times.append(time.perf_counter() - t0)
            return statistics.median(times), (time.process_time() - c0) / args.steps, first

        load1 = os.getloadavg()[0]
        train_s, train_cpu, train_first = timed(step)
        with torch.no_grad():
            fwd_s, fwd_cpu, fwd_first = timed(lambda: model(x))
        print(json.dumps({"impl": "pytorch", "config": f"dim {dim}, {depth} layers, {heads} heads, patch {patch}",
                          "batch": batch, "train_step_s": train_s, "train_img_s": batch / train_s,
                          "train_cpu_s": train_cpu, "forward_step_s": fwd_s, "forward_img_s": batch / fwd_s,
                          "forward_cpu_s": fwd_cpu, "load1": load1,
                          "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                          "train_first_s": train_first, "forward_first_s": fwd_first,
                          "compile_s": max(0.0, train_first - train_s),
                          "threads": len(os.sched_getaffinity(0)),
                          "backend": f"torch {torch.__version__} CPU, {torch.get_num_threads()} threads, BLAS {blas}"}))


if __name__ == "__main__":
    main()
