"""Training steps of a small CNN in PyTorch: the twin of bench/cnn.cpp.

The same network (examples/fashion_mnist's, dropout off) with the same
parameter and buffer names, float32; with --init it starts from the weights
and trains on the batches bench_cnn wrote (safetensors), so the first losses
of both sides must agree; without, from PyTorch's own random ones.

Run with Debian's Python, which has torch:
  /usr/bin/python3 bench/cnn_torch.py --init init.safetensors --threads 2
Output, one line, as bench_cnn's with impl=pytorch.
"""
import argparse
import json
import time

import torch
import torch.nn.functional as F
from torch import nn


def read_safetensors(path):
    """name -> tensor: an 8-byte little-endian header length, that much JSON, then the data."""
    dtypes = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64}
    with open(path, "rb") as f:
        data = f.read()
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        raw = bytearray(data[8 + n + begin:8 + n + end])
        out[name] = torch.frombuffer(raw, dtype=dtypes[info["dtype"]]).reshape(info["shape"])
    return out


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(32)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(64)
        self.fc1 = nn.Linear(64 * 7 * 7, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        h = F.relu(F.max_pool2d(self.bn1(self.conv1(x)), 2))
        h = F.relu(F.max_pool2d(self.bn2(self.conv2(h)), 2))
        return self.fc2(F.relu(self.fc1(torch.flatten(h, 1))))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--batches", type=int, default=4)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--init", help="bench_cnn's weights and batches")
    p.add_argument("--channels-last", action="store_true", help="NHWC memory format (oneDNN's preferred)")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    model = Net()
    if a.init:
        tensors = read_safetensors(a.init)
        model.load_state_dict({k: v for k, v in tensors.items() if not k.startswith("batch")}, strict=True)
        xs = [tensors[f"batch{i}.x"] for i in range(a.batches)]
        labels = [tensors[f"batch{i}.labels"] for i in range(a.batches)]
        a.batch = xs[0].shape[0]
    else:
        xs = [torch.randn(a.batch, 1, 28, 28) for _ in range(a.batches)]
        labels = [torch.randint(0, 10, (a.batch,)) for _ in range(a.batches)]
    if a.channels_last:
        model = model.to(memory_format=torch.channels_last)
        xs = [x.contiguous(memory_format=torch.channels_last) for x in xs]
    adam = torch.optim.Adam(model.parameters(), lr=a.lr)

    def step(i):
        loss = F.cross_entropy(model(xs[i % a.batches]), labels[i % a.batches])
        adam.zero_grad()
        loss.backward()
        adam.step()
        return loss.item()

    loss_first = loss_last = 0.0
    for i in range(a.warmup):
        l = step(i)
        if i == 0:
            loss_first = l
    ms = []
    for i in range(a.steps):
        t0 = time.perf_counter()
        loss_last = step(a.warmup + i)
        ms.append((time.perf_counter() - t0) * 1000)
        if a.warmup == 0 and i == 0:
            loss_first = loss_last
    ms.sort()
    median = ms[len(ms) // 2]
    print(f"impl=pytorch threads={a.threads} batch={a.batch} steps={a.steps} ms_per_step={median:.2f} "
          f"img_per_s={1000 * a.batch / median:.1f} loss_first={loss_first:.6f} loss_last={loss_last:.6f}"
          + (" channels_last=1" if a.channels_last else ""))


if __name__ == "__main__":
    main()
