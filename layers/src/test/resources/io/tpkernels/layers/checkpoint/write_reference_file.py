"""Writes python-reference.safetensors, read by ForeignSafetensorsTest, following the reference implementation's
layout rules without using it (the safetensors package is not installed here): data sorted by dtype (largest
first, in the reference's Dtype order) then name; JSON compact with keys sorted alphabetically, as older versions
of the reference wrote it, so header order differs from data order; header padded with spaces to a multiple of 8.

Run from this directory: python3 write_reference_file.py
"""
import json
import struct

import numpy as np

# The reference's Dtype enum order, largest first, for the five dtypes tpkernels reads.
DTYPE_ORDER = {"I64": 0, "F32": 1, "I32": 2, "BF16": 3, "F16": 4}


def bf16(values):
    # Every value below is exact in bfloat16, so dropping the low half of the float32 is exact.
    return (np.array(values, dtype=np.float32).view(np.uint32) >> 16).astype("<u2").tobytes()


tensors = {
    "model.embed_tokens.weight": ("BF16", [2, 3], bf16([1.0, -2.5, 0.15625, 2.0**35, -0.0, 7.0])),
    "model.layers.0.mlp.down_proj.weight": ("F32", [3, 2], np.array([0.1, -0.2, 1.0e-30, 3.4e38, -7.25, 2.0], dtype="<f4").tobytes()),
    "model.layers.0.mlp.gate_proj.weight": ("F16", [2, 2], np.array([0.5, -65504.0, 6.1035156e-05, 1.0], dtype="<f2").tobytes()),
    "positions": ("I64", [5], np.array([0, -1, 2**40, -(2**62), 7], dtype="<i8").tobytes()),
    "counts": ("I32", [2, 2], np.array([1, -2, 2**31 - 1, -(2**31)], dtype="<i4").tobytes()),
    "scale": ("F32", [], np.array([3.5], dtype="<f4").tobytes()),
    "unused": ("F16", [0, 4], b""),
}

header = {"__metadata__": {"format": "pt", "source": "write_reference_file.py"}}
data = b""
for name in sorted(tensors, key=lambda n: (DTYPE_ORDER[tensors[n][0]], n)):
    dtype, shape, raw = tensors[name]
    header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
    data += raw

text = json.dumps(header, separators=(",", ":"), sort_keys=True).encode("utf-8")
text += b" " * (-len(text) % 8)
with open("python-reference.safetensors", "wb") as f:
    f.write(struct.pack("<Q", len(text)) + text + data)
