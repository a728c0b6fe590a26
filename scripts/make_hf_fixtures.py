#!/usr/bin/env python3
"""Reference fixtures for lib/dinov2 written by the real HF transformers.

Pinned versions (the fixtures in lib/dinov2/testdata/hf-* and tiny-*/expected.safetensors were
written with exactly these):

    transformers==5.24.0   safetensors==0.8.0   numpy==2.4.6   torch==2.15.0 (CPU run)

Setup (never needed by `make test`; the fixtures are committed):

    python3 -m venv build/hf-venv
    build/hf-venv/bin/pip install transformers==5.24.0 safetensors numpy torch
    build/hf-venv/bin/python scripts/make_hf_fixtures.py

Every model is a TINY random model built with transformers' own classes (seeded), saved with
save_pretrained (config.json + model.safetensors, the hub's tensor names) and run on fixed random
inputs (batch 2, already normalised NCHW pixel values) with output_hidden_states=True (and
interpolate_pos_encoding=True where the input differs from the training size). expected.safetensors
holds, for every input size HxW:

    HxW.pixel_values       [2, 3, H, W]
    HxW.hidden_states.i    [2, T, D]  i = 0 (embedding output) .. num_hidden_layers, full (all tokens)
    HxW.last_hidden_state  [2, T, D]  the final layer norm of the last block's output

Folders:
    hf-dinov2         Dinov2Model, GELU, LayerScale        16x16, 20x28 (bicubic, no antialias)
    hf-dinov2-reg     Dinov2WithRegistersModel, 4 regs     16x16, 24x24 (antialiased bicubic)
    hf-dinov2-swiglu  Dinov2Model, use_swiglu_ffn          16x16, 20x28
    hf-vit            ViTModel (pooler kept in the file)   16x16, 24x24, 20x28
    hf-deit           DeiTModel (CLS + distillation)       16x16, 20x28
    timm-dinov2-reg   hf-dinov2-reg's weights renamed to timm's vit_*_reg4_dinov2 layout (no_embed_class:
                      cls_token + its position embedding, pos_embed without the CLS slot); no
                      expected file, the references are hf-dinov2-reg's
    timm-dinov2-swiglu hf-dinov2-swiglu's weights in timm's SwiGLUPacked layout (blocks.N.mlp.fc1/fc2)

It also re-runs the two older fixtures tiny-reg and tiny-swiglu (their config.json, weights and
pixel values are kept) through transformers and rewrites their expected hidden states.
"""
import json
import os
import sys

import numpy as np
import torch
import transformers
from safetensors.numpy import save_file
from safetensors.torch import load_file

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib", "dinov2", "testdata")
PINNED = {"transformers": "5.24.0", "safetensors": "0.8.0", "numpy": "2.4.6", "torch": "2.15.0"}


def check_versions():
    import safetensors
    have = {"transformers": transformers.__version__, "safetensors": safetensors.__version__,
            "numpy": np.__version__, "torch": torch.__version__.split("+")[0]}
    for k, v in PINNED.items():
        if have[k] != v:
            sys.exit(f"{k} {have[k]} installed, the fixtures pin {v}")


def randomize(model, seed, layerscale=1.0):
    """Redraws every parameter deterministically (sorted names): weights N(0, 1/fan_in), biases
    N(0, 0.02²), LayerNorm gains 1+N(0, 0.1²) and offsets N(0, 0.1²), LayerScale
    layerscale·(1+N(0, 0.1²)), tokens and position embeddings N(0, 0.1²)."""
    g = torch.Generator().manual_seed(seed)
    params = dict(model.named_parameters())
    for name in sorted(params):
        p = params[name]
        shape = p.shape
        noise = torch.randn(shape, generator=g, dtype=torch.float64)
        low = name.lower()
        if "norm" in low and name.endswith(".weight"):
            v = 1 + 0.1 * noise
        elif "norm" in low and name.endswith(".bias"):
            v = 0.1 * noise
        elif "layer_scale" in low or "lambda1" in low:
            v = layerscale * (1 + 0.1 * noise)
        elif name.endswith(".weight") and len(shape) >= 2:
            fan_in = int(np.prod(shape[1:]))
            v = noise / np.sqrt(fan_in)
        elif name.endswith(".bias"):
            v = 0.02 * noise
        else:
            v = 0.1 * noise
        with torch.no_grad():
            p.copy_(v.to(p.dtype))


def pixels(seed, b, h, w):
    g = torch.Generator().manual_seed(seed)
    return torch.randn((b, 3, h, w), generator=g, dtype=torch.float32)


def run(model, px, interpolate):
    kw = {"output_hidden_states": True}
    if interpolate:
        kw["interpolate_pos_encoding"] = True
    with torch.no_grad():
        out = model(pixel_values=px, **kw)
    hs = out.hidden_states
    n = model.config.num_hidden_layers
    assert len(hs) == n + 1, f"{len(hs)} hidden states for {n} layers"
    return [h.detach().numpy().astype(np.float32) for h in hs], out.last_hidden_state.numpy().astype(np.float32)


def references(model, sizes, seed, interpolate, given=None):
    arrays = {}
    for k, (h, w) in enumerate(sizes):
        key = f"{h}x{w}"
        px = given[key] if given is not None else pixels(seed + k, 2, h, w)
        hs, last = run(model, px, interpolate)
        arrays[key + ".pixel_values"] = px.numpy().astype(np.float32)
        for i, a in enumerate(hs):
            arrays[f"{key}.hidden_states.{i}"] = np.ascontiguousarray(a)
        arrays[key + ".last_hidden_state"] = np.ascontiguousarray(last)
    return arrays


def meta(what):
    return {"generator": f"scripts/make_hf_fixtures.py ({what})", "transformers": transformers.__version__,
            "torch": torch.__version__}


def write_preprocessor(folder, d):
    with open(os.path.join(folder, "preprocessor_config.json"), "w") as f:
        json.dump(d, f, indent=2)
        f.write("\n")


DINO_PREPROC = {"image_processor_type": "BitImageProcessor", "do_resize": True, "size": {"shortest_edge": 18},
                "resample": 3, "do_center_crop": True, "crop_size": {"height": 16, "width": 16},
                "do_rescale": True, "rescale_factor": 0.00392156862745098, "do_normalize": True,
                "image_mean": [0.485, 0.456, 0.406], "image_std": [0.229, 0.224, 0.225]}
VIT_PREPROC = {"image_processor_type": "ViTImageProcessor", "do_resize": True, "size": {"height": 16, "width": 16},
               "resample": 2, "do_rescale": True, "rescale_factor": 0.00392156862745098, "do_normalize": True,
               "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5]}


def save_hf(name, model, sizes, seed, interpolate, preproc):
    folder = os.path.join(ROOT, name)
    os.makedirs(folder, exist_ok=True)
    model.save_pretrained(folder)
    # Drop what save_pretrained writes beyond config + weights (e.g. generation config): none for vision.
    refs = references(model, sizes, seed, interpolate)
    save_file(refs, os.path.join(folder, "expected.safetensors"), metadata=meta(name))
    write_preprocessor(folder, preproc)
    return folder


def dinov2_family():
    from transformers import Dinov2Config, Dinov2Model, Dinov2WithRegistersConfig, Dinov2WithRegistersModel
    common = dict(hidden_size=32, num_hidden_layers=3, num_attention_heads=4, mlp_ratio=4, image_size=16,
                  patch_size=4, layer_norm_eps=1e-6, hidden_act="gelu", attention_probs_dropout_prob=0.0,
                  hidden_dropout_prob=0.0, drop_path_rate=0.0)
    torch.manual_seed(0)
    m = Dinov2Model(Dinov2Config(layerscale_value=0.5, **common)).eval()
    randomize(m, 11, layerscale=0.5)
    save_hf("hf-dinov2", m, [(16, 16), (20, 28)], 101, True, DINO_PREPROC)

    m = Dinov2WithRegistersModel(Dinov2WithRegistersConfig(num_register_tokens=4, layerscale_value=1.0, **common)).eval()
    randomize(m, 12)
    reg = save_hf("hf-dinov2-reg", m, [(16, 16), (24, 24)], 201, True, DINO_PREPROC)

    m = Dinov2Model(Dinov2Config(use_swiglu_ffn=True, layerscale_value=1.0, **common)).eval()
    randomize(m, 13)
    swi = save_hf("hf-dinov2-swiglu", m, [(16, 16), (20, 28)], 301, True, DINO_PREPROC)
    return reg, swi


def vit_family():
    from transformers import DeiTConfig, DeiTModel, ViTConfig, ViTModel
    common = dict(hidden_size=32, num_hidden_layers=3, num_attention_heads=4, intermediate_size=96, image_size=16,
                  patch_size=4, hidden_act="gelu", attention_probs_dropout_prob=0.0, hidden_dropout_prob=0.0)
    m = ViTModel(ViTConfig(**common)).eval()  # layer_norm_eps: ViT's default 1e-12
    randomize(m, 21)
    save_hf("hf-vit", m, [(16, 16), (24, 24), (20, 28)], 401, True, VIT_PREPROC)
    m = DeiTModel(DeiTConfig(**common)).eval()
    randomize(m, 22)
    save_hf("hf-deit", m, [(16, 16), (20, 28)], 501, True, VIT_PREPROC)


def to_timm(hf, swiglu):
    """HF Dinov2 tensor names → timm's vit_*_dinov2 names (what timm's checkpoint_filter_fn makes of the
    original DINOv2 weights): qkv packed [3D, D] as query, key, value; registers in no_embed_class form."""
    out = {}
    n = 1 + max(int(k.split(".")[2]) for k in hf if k.startswith("encoder.layer."))
    pos = hf["embeddings.position_embeddings"]
    if "embeddings.register_tokens" in hf:
        out["reg_token"] = hf["embeddings.register_tokens"]
        out["cls_token"] = hf["embeddings.cls_token"] + pos[:, :1]
        out["pos_embed"] = pos[:, 1:]
    else:
        out["cls_token"] = hf["embeddings.cls_token"]
        out["pos_embed"] = pos
    out["patch_embed.proj.weight"] = hf["embeddings.patch_embeddings.projection.weight"]
    out["patch_embed.proj.bias"] = hf["embeddings.patch_embeddings.projection.bias"]
    out["norm.weight"], out["norm.bias"] = hf["layernorm.weight"], hf["layernorm.bias"]
    for i in range(n):
        h, t = f"encoder.layer.{i}.", f"blocks.{i}."
        for a in ("norm1", "norm2"):
            out[t + a + ".weight"], out[t + a + ".bias"] = hf[h + a + ".weight"], hf[h + a + ".bias"]
        qkv = [hf[h + f"attention.attention.{x}.weight"] for x in ("query", "key", "value")]
        out[t + "attn.qkv.weight"] = np.concatenate(qkv, 0)
        out[t + "attn.qkv.bias"] = np.concatenate([hf[h + f"attention.attention.{x}.bias"] for x in ("query", "key", "value")], 0)
        out[t + "attn.proj.weight"] = hf[h + "attention.output.dense.weight"]
        out[t + "attn.proj.bias"] = hf[h + "attention.output.dense.bias"]
        out[t + "ls1.gamma"], out[t + "ls2.gamma"] = hf[h + "layer_scale1.lambda1"], hf[h + "layer_scale2.lambda1"]
        if swiglu:
            out[t + "mlp.fc1.weight"], out[t + "mlp.fc1.bias"] = hf[h + "mlp.weights_in.weight"], hf[h + "mlp.weights_in.bias"]
            out[t + "mlp.fc2.weight"], out[t + "mlp.fc2.bias"] = hf[h + "mlp.weights_out.weight"], hf[h + "mlp.weights_out.bias"]
        else:
            for a in ("fc1", "fc2"):
                out[t + f"mlp.{a}.weight"], out[t + f"mlp.{a}.bias"] = hf[h + f"mlp.{a}.weight"], hf[h + f"mlp.{a}.bias"]
    return {k: np.ascontiguousarray(v.astype(np.float32)) for k, v in out.items()}


def timm_family(reg, swi):
    from safetensors.numpy import load_file as load_np
    for src, name, arch, swiglu in [(reg, "timm-dinov2-reg", "vit_small_patch14_reg4_dinov2", False),
                                    (swi, "timm-dinov2-swiglu", "vit_giant_patch14_dinov2", True)]:
        folder = os.path.join(ROOT, name)
        os.makedirs(folder, exist_ok=True)
        hf = load_np(os.path.join(src, "model.safetensors"))
        save_file(to_timm(hf, swiglu), os.path.join(folder, "model.safetensors"), metadata={"format": "pt"})
        cfg = {"architecture": arch, "num_classes": 0, "num_features": 32, "model_args": {"num_heads": 4},
               "pretrained_cfg": {"tag": "blockrec_tiny", "input_size": [3, 16, 16], "interpolation": "bicubic",
                                  "crop_pct": 1.0, "crop_mode": "center", "mean": [0.485, 0.456, 0.406],
                                  "std": [0.229, 0.224, 0.225], "num_classes": 0}}
        with open(os.path.join(folder, "config.json"), "w") as f:
            json.dump(cfg, f, indent=2)
            f.write("\n")


def old_fixtures():
    from transformers import Dinov2Model, Dinov2WithRegistersModel
    from safetensors.numpy import load_file as load_np
    for name, cls in [("tiny-reg", Dinov2WithRegistersModel), ("tiny-swiglu", Dinov2Model)]:
        folder = os.path.join(ROOT, name)
        m = cls.from_pretrained(folder).eval()
        old = load_np(os.path.join(folder, "expected.safetensors"))
        given = {k[: -len(".pixel_values")]: torch.from_numpy(v) for k, v in old.items() if k.endswith(".pixel_values")}
        sizes = [tuple(int(x) for x in k.split("x")) for k in sorted(given)]
        refs = references(m, sizes, 0, True, given=given)
        worst = max(float(np.abs(refs[k] - old[k]).max() / np.abs(refs[k]).max()) for k in refs)
        print(f"{name}: previous reference vs transformers: max relative difference {worst:.3g}")
        save_file(refs, os.path.join(folder, "expected.safetensors"), metadata=meta(name + ", weights and inputs kept"))


if __name__ == "__main__":
    check_versions()
    torch.set_num_threads(1)
    reg, swi = dinov2_family()
    vit_family()
    timm_family(reg, swi)
    old_fixtures()
    for d in sorted(os.listdir(ROOT)):
        p = os.path.join(ROOT, d)
        size = sum(os.path.getsize(os.path.join(p, f)) for f in os.listdir(p))
        print(f"{d}: {size / 1024:.0f} KB")
