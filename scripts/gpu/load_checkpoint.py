"""Loads a checkpoint tapegrad wrote with the `safetensors` package (the
reference implementation of the format) and compares every tensor with
bench/seq2seq_torch.py's own reader, bit for bit.
  python3 scripts/gpu/load_checkpoint.py CHECKPOINT.safetensors"""
import sys

import torch
from safetensors import safe_open
from safetensors.torch import load_file

sys.path.insert(0, "bench")
from seq2seq_torch import read_safetensors  # noqa: E402

path = sys.argv[1]
tensors = load_file(path)
with safe_open(path, framework="pt") as f:
    metadata = f.metadata() or {}
ours = read_safetensors(path)
assert set(tensors) == set(ours), (sorted(set(tensors) ^ set(ours)))
for name, t in tensors.items():
    assert t.dtype == ours[name].dtype and t.shape == ours[name].shape and torch.equal(t, ours[name]), name
elements = sum(t.numel() for t in tensors.values())
print(f"safetensors {path}: {len(tensors)} tensors, {elements} elements, dtypes "
      f"{sorted({str(t.dtype) for t in tensors.values()})}, metadata keys {sorted(metadata)[:8]}; "
      f"equal to bench/seq2seq_torch.py's reader")
