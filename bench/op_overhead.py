"""Per-op autograd overhead in PyTorch: the twin of bench/op_overhead.cpp.

One step: h = x; 10 times h = tanh(h * w + b) (3 recorded ops per layer);
sum(h).backward(); w.grad = b.grad = None. x, w, b are (S, S) float32; w and b
require grad. Reported: step time / 30 in microseconds, the median over R
repetitions of N steps each, after a warm-up.

Run with Debian's Python, which has torch:  /usr/bin/python3 bench/op_overhead.py
Output, one line per size:  op_overhead impl=pytorch size=4 threads=2 us_per_op=1.234
"""
import argparse
import statistics
import time

import torch


def make_params(size):
    gen = torch.Generator().manual_seed(1234)
    x = torch.randn(size, size, generator=gen)
    w = (0.5 * torch.randn(size, size, generator=gen)).requires_grad_()
    b = (0.5 * torch.randn(size, size, generator=gen)).requires_grad_()
    return x, w, b


def step(x, w, b, layers):
    h = x
    for _ in range(layers):
        h = torch.tanh(h * w + b)
    torch.sum(h).backward()
    w.grad = None
    b.grad = None


def us_per_op(size, args):
    x, w, b = make_params(size)
    for _ in range(args.warmup):
        step(x, w, b, args.layers)
    per_op = []
    for _ in range(args.reps):
        start = time.perf_counter()
        for _ in range(args.steps):
            step(x, w, b, args.layers)
        elapsed_us = (time.perf_counter() - start) * 1e6
        per_op.append(elapsed_us / args.steps / (3 * args.layers))
    return statistics.median(per_op)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 4], help="side S of the (S, S) tensors")
    parser.add_argument("--layers", type=int, default=10, help="layers per step (3 ops each)")
    parser.add_argument("--steps", type=int, default=200, help="steps per timed repetition (N)")
    parser.add_argument("--reps", type=int, default=7, help="timed repetitions; the median is reported (R)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed steps first")
    parser.add_argument("--threads", type=int, default=2, help="intra-op threads")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    for size in args.sizes:
        print(f"op_overhead impl=pytorch size={size} threads={args.threads} "
              f"us_per_op={us_per_op(size, args):.3f}", flush=True)


if __name__ == "__main__":
    main()
