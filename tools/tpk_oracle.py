#!/usr/bin/env python3
"""An oracle outside the project: the demo model (docs/contract.md section 13) recomputed in float64 by torch
(on the GPU when there is one) or numpy, against `tpk forward` over several layouts.

It writes a random demo model (config.json, model.safetensors, F32) and a PEFT-format LoRA adapter (r 16,
alpha 32, on gate/up/down) into --work, runs `tpk forward` for each layout (prefill and decode, tp 1 and 4,
pp 1 and 2, with and without the adapter, logits and the vocab-parallel argmax, F32 and one BF16 run), and
compares each result with the float64 reference:

  logits   max |tpk - reference| / max |reference| <= 2e-5 in F32 (sums of another order, rounded to f32 once
           per GEMM as the contract says), <= 3e-2 in BF16 (every activation rounded to bf16)
  argmax   each id's reference logit within that tolerance of the reference maximum (a near tie may go either
           way; a wrong id may not)

One line per layout as it ends, then a summary; exit 1 if any layout fails, 2 on a setup error.

  python3 tools/tpk_oracle.py --tpk "bin/tpk" --backend cuda            # a GPU-sized model
  python3 tools/tpk_oracle.py --tpk "bin/tpk" --backend cuda --small    # tiny (the emulator)
"""

import argparse
import json
import os
import shlex
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

try:
    import torch
except ImportError:  # numpy is the reference where torch is missing
    torch = None

LORA_R, LORA_ALPHA = 16, 32
PROJS = ("gate_proj", "up_proj", "down_proj")


def write_safetensors(path, tensors):
    """The safetensors format: an 8-byte little-endian header length, the JSON header, the raw data."""
    header, offset, blobs = {}, 0, []
    for name, array in tensors.items():
        data = np.ascontiguousarray(array, dtype=np.float32).tobytes()
        header[name] = {"dtype": "F32", "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = {"F32": np.float32, "I64": np.int64}[info["dtype"]]
        a, b = info["data_offsets"]
        out[name] = np.frombuffer(data[a:b], dtype=dtype).reshape(info["shape"])
    return out


def make_model(folder, v, h, i, layers, seed):
    """Random F32 weights under the Hugging Face names, scaled so activations stay of order one."""
    rng = np.random.default_rng(seed)
    w = {"model.embed_tokens.weight": rng.standard_normal((v, h), dtype=np.float32)}
    for layer in range(layers):
        p = f"model.layers.{layer}.mlp."
        w[p + "gate_proj.weight"] = rng.standard_normal((i, h), dtype=np.float32) * (1.0 / np.sqrt(h))
        w[p + "up_proj.weight"] = rng.standard_normal((i, h), dtype=np.float32) * (1.0 / np.sqrt(h))
        w[p + "down_proj.weight"] = rng.standard_normal((h, i), dtype=np.float32) * (0.5 / np.sqrt(i))
    w["lm_head.weight"] = rng.standard_normal((v, h), dtype=np.float32) * (1.0 / np.sqrt(h))
    folder.mkdir(parents=True, exist_ok=True)
    config = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": v, "hidden_size": h,
              "intermediate_size": i, "num_hidden_layers": layers, "tie_word_embeddings": False,
              "torch_dtype": "float32"}
    (folder / "config.json").write_text(json.dumps(config, indent=2))
    write_safetensors(folder / "model.safetensors", w)
    return w


def make_adapter(folder, h, i, layers, seed):
    """A PEFT LoRA adapter as save_pretrained writes one; B is not zero, so the adapter moves the logits."""
    rng = np.random.default_rng(seed)
    shapes = {"gate_proj": (i, h), "up_proj": (i, h), "down_proj": (h, i)}
    a = {}
    for layer in range(layers):
        for proj, (out_f, in_f) in shapes.items():
            p = f"base_model.model.model.layers.{layer}.mlp.{proj}."
            a[p + "lora_A.weight"] = rng.standard_normal((LORA_R, in_f), dtype=np.float32) * (1.0 / np.sqrt(in_f))
            a[p + "lora_B.weight"] = rng.standard_normal((out_f, LORA_R), dtype=np.float32) * 0.05
    folder.mkdir(parents=True, exist_ok=True)
    config = {"peft_type": "LORA", "r": LORA_R, "lora_alpha": LORA_ALPHA, "target_modules": list(PROJS),
              "lora_dropout": 0.0, "bias": "none", "task_type": "CAUSAL_LM", "use_rslora": False,
              "use_dora": False, "fan_in_fan_out": False}
    (folder / "adapter_config.json").write_text(json.dumps(config, indent=2))
    write_safetensors(folder / "adapter_model.safetensors", a)
    return a


class Reference:
    """The float64 forward: torch (on the GPU if there is one) or numpy."""

    def __init__(self, weights, adapter, layers):
        self.layers = layers
        if torch is not None:
            self.device = "cuda" if torch.cuda.is_available() else "cpu"
            self.name = f"torch {torch.__version__} float64 on {self.device}"
            conv = lambda x: torch.from_numpy(np.asarray(x, dtype=np.float64)).to(self.device)
        else:
            self.name = f"numpy {np.__version__} float64"
            conv = lambda x: np.asarray(x, dtype=np.float64)
        self.w = {k: conv(v) for k, v in weights.items()}
        self.a = {k: conv(v) for k, v in adapter.items()}

    def _exp(self, x):
        return torch.exp(x) if torch is not None else np.exp(x)

    def _linear(self, x, layer, proj, lora):
        p = f"model.layers.{layer}.mlp.{proj}"
        y = x @ self.w[p + ".weight"].T
        if lora:
            q = f"base_model.model.{p}."
            y = y + (LORA_ALPHA / LORA_R) * ((x @ self.a[q + "lora_A.weight"].T) @ self.a[q + "lora_B.weight"].T)
        return y

    def logits(self, ids, lora):
        h = self.w["model.embed_tokens.weight"][ids]
        for layer in range(self.layers):
            g = self._linear(h, layer, "gate_proj", lora)
            u = self._linear(h, layer, "up_proj", lora)
            h = h + self._linear(g / (1 + self._exp(-g)) * u, layer, "down_proj", lora)
        out = h @ self.w["lm_head.weight"].T
        return out.cpu().numpy() if torch is not None else out


def run_tpk(tpk, args, timeout):
    t0 = time.time()
    p = subprocess.run(shlex.split(tpk) + args, capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError(f"tpk {' '.join(args[:1])} exit {p.returncode}: {(p.stderr or p.stdout).strip()[-600:]}")
    return time.time() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tpk", default="bin/tpk", help="the command that runs tpk (default: bin/tpk)")
    ap.add_argument("--backend", default="cuda")
    ap.add_argument("--work", default="/tmp/tpk-oracle", help="where the model, adapter and outputs go")
    ap.add_argument("--small", action="store_true", help="a tiny model and few tokens (the emulator)")
    ap.add_argument("--timeout", type=int, default=120, help="seconds per tpk forward")
    args = ap.parse_args()

    if args.small:
        v, h, i, layers, prefill = 1003, 64, 128, 2, 24
    else:
        v, h, i, layers, prefill = 32003, 2048, 5504, 2, 512
    work = Path(args.work)
    t0 = time.time()
    weights = make_model(work / "model", v, h, i, layers, seed=7)
    adapter = make_adapter(work / "adapter", h, i, layers, seed=11)
    ref = Reference(weights, adapter, layers)
    rng = np.random.default_rng(3)
    prompts = {"prefill": rng.integers(0, v, prefill), "decode": rng.integers(0, v, 8)}
    print(f"oracle: V={v} H={h} I={i} layers={layers}, reference {ref.name}, backend {args.backend}, "
          f"model written in {time.time() - t0:.1f} s", flush=True)

    layouts = [  # (name, tokens, tp, pp, lora, argmax, dtype)
        ("prefill", "prefill", 1, 1, False, False, "f32"),
        ("prefill", "prefill", 1, 1, True, False, "f32"),
        ("prefill", "prefill", 4, 1, True, False, "f32"),
        ("decode", "decode", 1, 1, True, False, "f32"),
        ("decode", "decode", 4, 2, True, False, "f32"),
        ("prefill", "prefill", 4, 1, True, True, "f32"),
        ("prefill", "prefill", 1, 1, True, False, "bf16"),
    ]
    cache, failures = {}, 0
    for name, tokens, tp, pp, lora, argmax, dtype in layouts:
        label = f"{name} T={len(prompts[tokens])} tp={tp} pp={pp} lora={'yes' if lora else 'no'} {dtype}" \
                + (" argmax" if argmax else "")
        ids = prompts[tokens]
        key = (tokens, lora)
        if key not in cache:
            cache[key] = ref.logits(ids, lora)
        want = cache[key]
        ids_file = work / f"{tokens}.txt"
        ids_file.write_text("\n".join(str(t) for t in ids))
        out = work / "out.safetensors"
        cmd = ["forward", "--backend", args.backend, "--model", str(work / "model"), "--tokens-file", str(ids_file),
               "--tp", str(tp), "--pp", str(pp), "--dtype", dtype, "--out", str(out)]
        if lora:
            cmd += ["--lora", str(work / "adapter")]
        if argmax:
            cmd += ["--argmax"]
        try:
            seconds = run_tpk(args.tpk, cmd, args.timeout)
            got = read_safetensors(out)
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            print(f"layout {label}: FAIL ({e})", flush=True)
            failures += 1
            continue
        scale = float(np.abs(want).max())
        tol = 2e-5 if dtype == "f32" else 3e-2
        if argmax:
            picked = want[np.arange(len(ids)), got["argmax"]]
            err = float((want.max(axis=1) - picked).max()) / scale
            what = "argmax: worst shortfall of the picked id's logit"
        else:
            logits = got["logits"].astype(np.float64)
            err = float(np.abs(logits - want).max()) / scale if np.isfinite(logits).all() else float("inf")
            what = "logits: max |tpk - ref| / max |ref|"
        ok = err <= tol
        failures += 0 if ok else 1
        print(f"layout {label}: {'PASS' if ok else 'FAIL'}  {what} = {err:.3g} (tolerance {tol:g}), "
              f"tpk forward {seconds:.1f} s", flush=True)
    lora_effect = float(np.abs(cache[("prefill", True)] - cache[("prefill", False)]).max()) \
        / float(np.abs(cache[("prefill", False)]).max())
    print(f"oracle: {len(layouts) - failures} of {len(layouts)} layouts pass; the adapter moves the reference "
          f"logits by {lora_effect:.3g} of their scale; {time.time() - t0:.1f} s in all", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (OSError, ValueError) as e:
        print(f"oracle: setup failed: {e}", file=sys.stderr)
        sys.exit(2)
