#!/usr/bin/python3
"""An independent PyTorch run of the CIFAR teacher recipe of notebook 01's cpu plan, to tell whether
lib/train + lib/vit learn as fast as a standard implementation of the same recipe.

Same model as bench/vit_torch.py (pre-LN ViT, CLS head) with lib/vit's initialisation (normal 0.02
weights, zero biases, zero head), the same data (the CIFAR-10 JPEG stand-in, a random subset of the
training images, per-channel CIFAR-10 normalisation, random crop with 4 px black padding + flip), the
same optimiser (AdamW β 0.9/0.999, weight decay on every parameter, global-norm clip 1) and schedule
(linear warm-up from 1% over 5% of the steps, cosine to min-lr). It prints the training loss and
accuracy every --log steps as JSON lines and the test top-1 at the end.

  /usr/bin/python3 bench/train_torch.py --data data/cifar10-jpg --steps 936
"""
import argparse, json, math, os, random, sys, time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, os.path.dirname(__file__))
from vit_torch import ViT  # noqa: E402

MEAN = np.array([0.4914, 0.4822, 0.4465], np.float32)
STD = np.array([0.2470, 0.2435, 0.2616], np.float32)


def load_split(root, split, n, seed):
    classes = sorted(os.listdir(os.path.join(root, split)))
    files = [(os.path.join(root, split, c, f), i) for i, c in enumerate(classes)
             for f in sorted(os.listdir(os.path.join(root, split, c)))]
    random.Random(seed).shuffle(files)
    files = files[:n] if n else files
    x = np.stack([np.asarray(Image.open(p).convert("RGB"), np.uint8) for p, _ in files])
    y = np.array([label for _, label in files], np.int64)
    return x, y, len(classes)


def normalise(x):  # uint8 [B, H, W, C] -> float32, lib/data's per-channel normalisation
    return torch.from_numpy((x.astype(np.float32) / 255 - MEAN) / STD)


def augment(x, rng):  # random crop of the 4-px black-padded image + horizontal flip, per image
    b, h, w, _ = x.shape
    padded = np.zeros((b, h + 8, w + 8, 3), np.uint8)
    padded[:, 4:4 + h, 4:4 + w] = x
    out = np.empty_like(x)
    for i in range(b):
        dy, dx = rng.integers(0, 9, 2)
        img = padded[i, dy:dy + h, dx:dx + w]
        out[i] = img[:, ::-1] if rng.random() < 0.5 else img
    return out


def init_like_libvit(model):
    for m in model.modules():
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, std=0.02)
            nn.init.zeros_(m.bias)
    nn.init.normal_(model.cls, std=0.02)
    nn.init.normal_(model.pos, std=0.02)
    nn.init.zeros_(model.head.weight)
    nn.init.zeros_(model.head.bias)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="data/cifar10-jpg")
    ap.add_argument("--train-images", type=int, default=20000)
    ap.add_argument("--test-images", type=int, default=2000)
    ap.add_argument("--steps", type=int, default=936)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--min-lr", type=float, default=1e-5)
    ap.add_argument("--wd", type=float, default=0.05)
    ap.add_argument("--warmup-frac", type=float, default=0.05)
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--depth", type=int, default=8)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--patch", type=int, default=8)
    ap.add_argument("--log", type=int, default=108)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-augment", action="store_true", help="train on the plain images (no crop, no flip)")
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    t0 = time.time()
    xtr, ytr, classes = load_split(args.data, "train", args.train_images, args.seed)
    xte, yte, _ = load_split(args.data, "test", args.test_images, args.seed + 1)
    print(json.dumps({"loaded_s": round(time.time() - t0, 1), "train": len(ytr), "test": len(yte)}), flush=True)
    model = ViT(args.dim, args.depth, args.heads, args.patch, classes=classes)
    init_like_libvit(model)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.999), weight_decay=args.wd)
    warmup = max(1, int(args.warmup_frac * args.steps))

    def lr_at(step):
        if step < warmup:
            return args.lr * (0.01 + 0.99 * step / warmup)
        p = min((step - warmup) / max(1, args.steps - warmup), 1)
        return args.min_lr + 0.5 * (args.lr - args.min_lr) * (1 + math.cos(math.pi * p))

    order, pos, epoch = rng.permutation(len(ytr)), 0, 0
    loss_sum = acc_sum = seen = 0
    t0 = time.time()
    for step in range(args.steps):
        if pos + args.batch > len(ytr):
            order, pos, epoch = rng.permutation(len(ytr)), 0, epoch + 1
        idx = order[pos:pos + args.batch]
        pos += args.batch
        batch = xtr[idx] if args.no_augment else augment(xtr[idx], rng)
        x, y = normalise(batch), torch.from_numpy(ytr[idx])
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        loss_sum += loss.item() * len(y)
        acc_sum += (logits.argmax(1) == y).sum().item()
        seen += len(y)
        if (step + 1) % args.log == 0 or step + 1 == args.steps:
            print(json.dumps({"step": step + 1, "loss": round(loss_sum / seen, 4), "accuracy": round(acc_sum / seen, 4),
                              "lr": lr_at(step), "img_s": round((step + 1) * args.batch / (time.time() - t0), 1)}), flush=True)
            loss_sum = acc_sum = seen = 0
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(yte), 256):
            correct += (model(normalise(xte[i:i + 256])).argmax(1) == torch.from_numpy(yte[i:i + 256])).sum().item()
    print(json.dumps({"test_accuracy": correct / len(yte), "test_images": len(yte), "train_s": round(time.time() - t0, 1),
                      "torch_threads": torch.get_num_threads()}), flush=True)


if __name__ == "__main__":
    main()
