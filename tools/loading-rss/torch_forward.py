"""The demo model's forward (docs/contract.md section 13) in PyTorch, for the resident-memory comparison:
loads DIR/model.safetensors with safetensors' load_file, runs the tokens through, prints the peak resident set."""
import json
import resource
import sys

import torch
import torch.nn.functional as F
from safetensors.torch import load_file

folder, ids = sys.argv[1], [int(t) for t in sys.argv[2].split(",")]
config = json.load(open(f"{folder}/config.json"))
w = load_file(f"{folder}/model.safetensors")
with torch.no_grad():
    h = w["model.embed_tokens.weight"][torch.tensor(ids)]
    for i in range(config["num_hidden_layers"]):
        p = f"model.layers.{i}.mlp."
        h = h + F.linear(F.silu(F.linear(h, w[p + "gate_proj.weight"])) * F.linear(h, w[p + "up_proj.weight"]),
                         w[p + "down_proj.weight"])
    head = w["model.embed_tokens.weight"] if config.get("tie_word_embeddings") else w["lm_head.weight"]
    logits = F.linear(h, head)
weights = sum(t.numel() * t.element_size() for t in w.values())
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(f"torch: weights {weights} bytes, peak resident {peak} bytes, logits {tuple(logits.shape)}")
