"""Per-op autograd overhead in PyTorch: the twin of bench/op_overhead.cpp.

One step: h = x; 10 times h = tanh(h * w + b) (3 recorded ops per layer);
sum(h).backward(); w.grad = b.grad = None. x, w, b are (S, S) float32; w and b
require grad. Reported: step time / 30 in microseconds, the median over R
repetitions of N steps each, after a warm-up.

Run with Debian's Python, which has torch:  /usr/bin/python3 bench/op_overhead.py
Output, one line per size:  op_overhead impl=pytorch size=4 threads=2 us_per_op=1.234

--table: each of add, mul, exp, sum, softmax and matmul alone on (S, S)
float32 tensors, without a gradient (under no_grad) and with one (forward,
sum, backward, gradients dropped); microseconds per call, as op_overhead.cpp.
  op_table impl=pytorch op=add size=16 grad=1 threads=1 us=3.21
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


TABLE_OPS = {
    "add": lambda a, b: a + b,
    "mul": lambda a, b: a * b,
    "exp": lambda a, b: torch.exp(a),
    "sum": lambda a, b: torch.sum(a, 1),
    "softmax": lambda a, b: torch.softmax(a, -1),
    "matmul": lambda a, b: torch.matmul(a, b),
}


def us_per_call(op, size, grad, args):
    gen = torch.Generator().manual_seed(1234)
    a = torch.randn(size, size, generator=gen).requires_grad_(grad)
    b = torch.randn(size, size, generator=gen).requires_grad_(grad)
    f = TABLE_OPS[op]

    def once():
        if not grad:
            with torch.no_grad():
                f(a, b)
            return
        torch.sum(f(a, b)).backward()
        a.grad = None
        b.grad = None

    calls = args.steps * 10
    for _ in range(args.warmup * 10):
        once()
    per_call = []
    for _ in range(args.reps):
        start = time.perf_counter()
        for _ in range(calls):
            once()
        per_call.append((time.perf_counter() - start) * 1e6 / calls)
    return statistics.median(per_call)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 4], help="side S of the (S, S) tensors")
    parser.add_argument("--layers", type=int, default=10, help="layers per step (3 ops each)")
    parser.add_argument("--steps", type=int, default=200, help="steps per timed repetition (N)")
    parser.add_argument("--reps", type=int, default=7, help="timed repetitions; the median is reported (R)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed steps first")
    parser.add_argument("--threads", type=int, default=2, help="intra-op threads")
    parser.add_argument("--table", action="store_true", help="each op alone, with and without a gradient")
    parser.add_argument("--table-sizes", type=int, nargs="+", default=[16, 32, 64, 128], help="sides S for --table")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    if args.table:
        for op in TABLE_OPS:
            for size in args.table_sizes:
                for grad in (False, True):
                    print(f"op_table impl=pytorch op={op} size={size} grad={int(grad)} threads={args.threads} "
                          f"us={us_per_call(op, size, grad, args):.3f}", flush=True)
        return
    for size in args.sizes:
        print(f"op_overhead impl=pytorch size={size} threads={args.threads} "
              f"us_per_op={us_per_op(size, args):.3f}", flush=True)


if __name__ == "__main__":
    main()
