#!/usr/bin/env python3
"""Write the PEFT adapter fixtures used by the tpkernels layer tests.

Everything under layers/src/test/resources/peft/ is produced here:

  base/config.json, base/model.safetensors   the docs/contract.md section 13 MLP-stack LLaMA (F32)
  <name>/adapter_config.json                 written by PEFT's save_pretrained, untouched
  <name>/adapter_model.safetensors           written by PEFT's save_pretrained, untouched
  <name>/expected.safetensors                ids (I64 [8]), logits and base_logits (F32 [8, 37])
  manifest.json                              per config: the LoraConfig arguments and, read off the
                                             PEFT model, which modules got LoRA (r, alpha, scaling,
                                             DoRA) and which were wrapped as modules_to_save

The expected logits come from PEFT's own forward in float64: the saved adapter directory is
reloaded with PeftModel.from_pretrained onto a fresh float64 copy of the base model, so the
fixture proves that the saved files alone reproduce the logits.

Usage: python make_peft_fixtures.py [--out DIR] [--probe]
  --out    fixture folder (default: layers/src/test/resources/peft of this repository)
  --probe  also print how PEFT reacts to a few edge cases (nothing is written for them)

Deterministic: fixed seeds, and the script re-executes itself with PYTHONHASHSEED=0 because PEFT
writes some set-valued config fields (target_modules after "all-linear") in set iteration order.
"""

import argparse
import json
import os
import shutil
import sys
import warnings
from pathlib import Path

if os.environ.get("PYTHONHASHSEED") != "0":
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable] + sys.argv)

import torch  # noqa: E402
from torch import nn  # noqa: E402
from safetensors.torch import save_file  # noqa: E402
from peft import LoraConfig, PeftModel, get_peft_model  # noqa: E402
from transformers import PreTrainedModel, PretrainedConfig  # noqa: E402
from peft.tuners.lora import LoraLayer  # noqa: E402
from peft.utils import ModulesToSaveWrapper  # noqa: E402

VOCAB, HIDDEN, INTER, LAYERS = 37, 12, 24, 4
IDS = [0, 5, 36, 17, 8, 23, 1, 30]
BASE_SEED = 20240901
# The brief asked for std "about 0.3"; with 0.3 the quadratic silu(gate)*up residual stack blows up
# over 4 layers (|logits| in the hundreds to thousands), so the projections use 0.2 (|h| stays ~3).
EMBED_STD, PROJ_STD, HEAD_STD = 1.0, 0.2, 0.3
LORA_B_STD, DORA_MAGNITUDE_JITTER, MODULES_TO_SAVE_NOISE = 0.2, 0.2, 0.1
ADAPTER = "default"

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO_ROOT / "layers" / "src" / "test" / "resources" / "peft"

BASE_CONFIG = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "vocab_size": VOCAB,
    "hidden_size": HIDDEN,
    "intermediate_size": INTER,
    "num_hidden_layers": LAYERS,
    "tie_word_embeddings": False,
    "torch_dtype": "float32",
}

PROJS = ["gate_proj", "up_proj", "down_proj"]

# name -> LoraConfig keyword arguments (r=4, lora_alpha=8, lora_dropout=0 unless given)
CONFIGS = {
    "suffix_list": dict(target_modules=PROJS),
    "full_names": dict(
        target_modules=[
            "model.layers.0.mlp.up_proj",
            "model.layers.2.mlp.down_proj",
            "model.layers.3.mlp.gate_proj",
        ]
    ),
    "all_linear": dict(target_modules="all-linear"),
    "regex": dict(target_modules=r".*\.layers\.[13]\.mlp\.(up|down)_proj"),
    "layers_to_transform": dict(
        target_modules=["up_proj", "down_proj"], layers_to_transform=[1, 3], layers_pattern="layers"
    ),
    "layers_to_transform_int": dict(target_modules=["gate_proj"], layers_to_transform=2),
    "rank_alpha_pattern": dict(
        target_modules=PROJS,
        rank_pattern={"down_proj": 8, "layers.2.mlp.up_proj": 2},
        alpha_pattern={"gate_proj": 3, "model.layers.1.mlp.down_proj": 5},
    ),
    "rslora": dict(target_modules=PROJS, use_rslora=True, r=8, lora_alpha=6, rank_pattern={"down_proj": 2}),
    "exclude_list": dict(
        target_modules=PROJS, exclude_modules=["model.layers.1.mlp.up_proj", "model.layers.3.mlp.gate_proj"]
    ),
    "exclude_regex": dict(target_modules=PROJS, exclude_modules=r".*layers\.0\..*"),
    "fan_in_fan_out": dict(target_modules=["up_proj"], fan_in_fan_out=True),
    "modules_to_save": dict(target_modules=["up_proj"], modules_to_save=["lm_head"]),
    "modules_to_save_embed": dict(
        target_modules=["down_proj"], modules_to_save=["embed_tokens", "model.layers.1.mlp.gate_proj"]
    ),
    "dora": dict(target_modules=PROJS, use_dora=True),
    "dora_rslora_patterns": dict(
        target_modules=PROJS,
        use_dora=True,
        use_rslora=True,
        r=8,
        lora_alpha=16,
        rank_pattern={"down_proj": 4},
        alpha_pattern={"up_proj": 6},
    ),
    "full_names_layers": dict(target_modules=["model.layers.1.mlp.up_proj", "down_proj"], layers_to_transform=[0, 2]),
    "dora_layers": dict(
        target_modules=["up_proj", "down_proj"], use_dora=True, layers_to_transform=[1, 2], layers_pattern="layers"
    ),
}


# ----------------------------------------------------------------------------------------------
# The model (docs/contract.md section 13): HF LLaMA module names, MLP blocks only, no attention, no norms.
# ----------------------------------------------------------------------------------------------


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.gate_proj = nn.Linear(HIDDEN, INTER, bias=False)
        self.up_proj = nn.Linear(HIDDEN, INTER, bias=False)
        self.down_proj = nn.Linear(INTER, HIDDEN, bias=False)

    def forward(self, h):
        return self.down_proj(nn.functional.silu(self.gate_proj(h)) * self.up_proj(h))


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.mlp = Mlp()

    def forward(self, h):
        return h + self.mlp(h)


class Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed_tokens = nn.Embedding(VOCAB, HIDDEN)
        self.layers = nn.ModuleList([Block() for _ in range(LAYERS)])

    def forward(self, ids):
        h = self.embed_tokens(ids)
        for layer in self.layers:
            h = layer(h)
        return h


class MlpLlamaConfig(PretrainedConfig):
    model_type = "mlp_llama"


class MlpLlama(PreTrainedModel):
    """A transformers model, as users' models are: PEFT's "all-linear" then leaves out its output layer."""

    config_class = MlpLlamaConfig

    def __init__(self, config=None):
        super().__init__(config if config is not None else MlpLlamaConfig(tie_word_embeddings=False))
        self.model = Decoder()
        self.lm_head = nn.Linear(HIDDEN, VOCAB, bias=False)

    def get_input_embeddings(self):
        return self.model.embed_tokens

    def get_output_embeddings(self):
        return self.lm_head

    def forward(self, ids):
        return self.lm_head(self.model(ids))


def make_base_weights():
    """Random F32 weights under the HF names (normal, stds above, one seeded generator)."""
    g = torch.Generator().manual_seed(BASE_SEED)
    weights = {"model.embed_tokens.weight": torch.randn(VOCAB, HIDDEN, generator=g) * EMBED_STD}
    for i in range(LAYERS):
        p = f"model.layers.{i}.mlp."
        weights[p + "gate_proj.weight"] = torch.randn(INTER, HIDDEN, generator=g) * PROJ_STD
        weights[p + "up_proj.weight"] = torch.randn(INTER, HIDDEN, generator=g) * PROJ_STD
        weights[p + "down_proj.weight"] = torch.randn(HIDDEN, INTER, generator=g) * PROJ_STD
    weights["lm_head.weight"] = torch.randn(VOCAB, HIDDEN, generator=g) * HEAD_STD
    return {k: v.to(torch.float32).contiguous() for k, v in weights.items()}


def new_base_model(weights, dtype):
    model = MlpLlama()
    model.load_state_dict(weights, strict=True)
    return model.to(dtype).eval()


def write_base(out, weights):
    base = out / "base"
    base.mkdir(parents=True, exist_ok=True)
    save_file(weights, str(base / "model.safetensors"))
    (base / "config.json").write_text(json.dumps(BASE_CONFIG, indent=2) + "\n")


# ----------------------------------------------------------------------------------------------
# Adapters
# ----------------------------------------------------------------------------------------------


def config_seed(index):
    return 1000 + 17 * index


def build_adapter(weights, kwargs, seed):
    """Fresh F32 base + get_peft_model; lora_A as PEFT draws it under a fixed torch seed."""
    args = dict(r=4, lora_alpha=8, lora_dropout=0.0)
    args.update(kwargs)
    torch.manual_seed(seed)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        peft_model = get_peft_model(new_base_model(weights, torch.float32), LoraConfig(**args))
    messages = sorted({str(w.message) for w in caught})
    return peft_model, messages


@torch.no_grad()
def randomise_adapter(peft_model, seed):
    """PEFT starts lora_B at zero (a no-op adapter): make every trainable part non-trivial.

    lora_B ~ N(0, 0.2 / max(1, scaling)): dividing by the scaling keeps scaling * B @ A about the
    same size for every config (rsLoRA's scaling up to 4.2 otherwise drives the quadratic MLP stack
    to |logits| > 200), while a loader that gets the scaling wrong still misses by that factor.
    """
    g = torch.Generator().manual_seed(seed + 1)
    for _, module in peft_model.named_modules():
        if isinstance(module, LoraLayer):
            b = module.lora_B[ADAPTER].weight
            std = LORA_B_STD / max(1.0, float(module.scaling[ADAPTER]))
            b.copy_(torch.randn(b.shape, generator=g) * std)
            if ADAPTER in module.lora_magnitude_vector:
                m = module.lora_magnitude_vector[ADAPTER].weight
                m.mul_(1.0 + DORA_MAGNITUDE_JITTER * torch.randn(m.shape, generator=g))
        elif isinstance(module, ModulesToSaveWrapper):
            for p in module.modules_to_save[ADAPTER].parameters():
                p.add_(torch.randn(p.shape, generator=g) * MODULES_TO_SAVE_NOISE)


def describe_adapter(peft_model):
    """What PEFT actually built: LoRA modules with r/alpha/scaling/DoRA, and modules_to_save wrappers."""
    lora, saved = [], []
    for name, module in peft_model.base_model.model.named_modules():
        if isinstance(module, LoraLayer):
            lora.append(
                {
                    "module": name,
                    "r": int(module.r[ADAPTER]),
                    "lora_alpha": module.lora_alpha[ADAPTER],
                    "scaling": float(module.scaling[ADAPTER]),
                    "use_dora": bool(module.use_dora[ADAPTER]),
                }
            )
        elif isinstance(module, ModulesToSaveWrapper):
            saved.append(name)
    return lora, saved


def save_adapter(peft_model, directory):
    """PEFT's own save_pretrained; returns the warnings it gave."""
    if directory.exists():
        shutil.rmtree(directory)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        peft_model.save_pretrained(str(directory))
    # save_pretrained also writes a boilerplate model card; the fixtures do not need it.
    card = directory / "README.md"
    if card.exists():
        card.unlink()
    return sorted({str(w.message) for w in caught})


@torch.no_grad()
def reference_logits(weights, adapter_dir):
    """PEFT's forward in float64 from the saved files alone, plus the base model's logits."""
    ids = torch.tensor(IDS, dtype=torch.int64)
    base = new_base_model(weights, torch.float64)
    base_logits = base(ids)
    reloaded = PeftModel.from_pretrained(new_base_model(weights, torch.float64), str(adapter_dir))
    reloaded = reloaded.double().eval()
    logits = reloaded(ids)
    assert logits.dtype == torch.float64
    return ids, logits, base_logits, describe_adapter(reloaded)


@torch.no_grad()
def check_against_in_memory(peft_model, logits):
    """The reloaded float64 forward must agree with the in-memory F32 model it was saved from."""
    peft_model.eval()
    f32 = peft_model(torch.tensor(IDS, dtype=torch.int64)).double()
    diff = (f32 - logits).abs().max().item()
    assert diff < 1e-4, f"reloaded adapter disagrees with the in-memory one by {diff}"
    return diff


def write_expected(directory, ids, logits, base_logits):
    delta = (logits - base_logits).abs().max().item()
    assert delta > 1e-3, f"{directory.name}: adapter does not change the logits (max |delta| {delta})"
    save_file(
        {
            "ids": ids.contiguous(),
            "logits": logits.to(torch.float32).contiguous(),
            "base_logits": base_logits.to(torch.float32).contiguous(),
        },
        str(directory / "expected.safetensors"),
    )
    return delta


def make_fixture(out, weights, index, name, kwargs):
    seed = config_seed(index)
    peft_model, messages = build_adapter(weights, kwargs, seed)
    randomise_adapter(peft_model, seed)
    lora, saved = describe_adapter(peft_model)
    directory = out / name
    messages += save_adapter(peft_model, directory)
    ids, logits, base_logits, reloaded_layout = reference_logits(weights, directory)
    assert reloaded_layout == (lora, saved), f"{name}: reloading the saved config adapts other modules"
    f32_error = check_against_in_memory(peft_model, logits)
    delta = write_expected(directory, ids, logits, base_logits)
    written = json.loads((directory / "adapter_config.json").read_text())
    return {
        "lora_config_args": kwargs,
        "saved_target_modules": written.get("target_modules"),
        "lora_modules": lora,
        "modules_to_save_wrapped": saved,
        "max_abs_logit_delta": round(delta, 6),
        "max_abs_logits": round(logits.abs().max().item(), 6),
        "max_abs_f32_forward_error": float(f"{f32_error:.3g}"),
        "peft_warnings": messages,
    }


# ----------------------------------------------------------------------------------------------
# Edge-case probes (printed only)
# ----------------------------------------------------------------------------------------------


def probe(weights, label, kwargs):
    args = dict(r=4, lora_alpha=8, lora_dropout=0.0)
    args.update(kwargs)
    torch.manual_seed(0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            m = get_peft_model(new_base_model(weights, torch.float32), LoraConfig(**args))
            lora, saved = describe_adapter(m)
            result = f"OK lora={[x['module'] for x in lora]} modules_to_save={saved}"
        except Exception as e:  # noqa: BLE001 - we want to see whatever PEFT raises
            result = f"{type(e).__name__}: {e}"
    print(f"--- {label}\n    args: {kwargs}\n    result: {result}")
    for w in sorted({str(w.message) for w in caught}):
        print(f"    warning: {w}")


def probe_behaviours(weights):
    probe(weights, "target matches nothing", dict(target_modules=["no_such_proj"]))
    probe(weights, "regex target matches nothing", dict(target_modules=r".*no_such_proj"))
    probe(weights, "regex matches non-Linear containers (.*mlp)", dict(target_modules=r".*mlp"))
    probe(weights, "target also in modules_to_save", dict(target_modules=["up_proj"], modules_to_save=["up_proj"]))
    probe(
        weights,
        "one target module listed in modules_to_save",
        dict(target_modules=["up_proj", "down_proj"], modules_to_save=["model.layers.1.mlp.up_proj"]),
    )
    probe(weights, "layers_to_transform with string target", dict(target_modules=r".*up_proj", layers_to_transform=[1]))
    probe(weights, "modules_to_save plain suffix '_head'", dict(target_modules=["up_proj"], modules_to_save=["_head"]))
    probe(weights, "modules_to_save regex 'lm_h.*'", dict(target_modules=["up_proj"], modules_to_save=["lm_h.*"]))
    probe(weights, "modules_to_save full name 'model.layers.2.mlp'", dict(target_modules=["up_proj"], modules_to_save=["model.layers.2.mlp"]))


# ----------------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--probe", action="store_true")
    args = parser.parse_args()

    torch.use_deterministic_algorithms(True)
    weights = make_base_weights()
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    write_base(out, weights)

    manifest = {"ids": IDS, "configs": {}}
    for index, (name, kwargs) in enumerate(CONFIGS.items()):
        manifest["configs"][name] = make_fixture(out, weights, index, name, kwargs)
        info = manifest["configs"][name]
        print(f"{name}: {len(info['lora_modules'])} LoRA modules, modules_to_save {info['modules_to_save_wrapped']}, "
              f"max |logits - base| {info['max_abs_logit_delta']}, max |logits| {info['max_abs_logits']}, "
              f"f32 forward error {info['max_abs_f32_forward_error']}")
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")

    if args.probe:
        probe_behaviours(weights)


if __name__ == "__main__":
    main()
