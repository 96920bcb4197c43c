#!/usr/bin/env python3
"""Two or more builds of libtapegrad.so, alternated in bench_seq2seq train.

Each round runs every precision with every library in turn (same batches,
same weights), so the machine's drift falls on all of them alike. Per run:
tok/s, peak RSS, the host allocator's misses a step, and the huge-page and
minor page faults a step (thp_fault_alloc in /proc/vmstat and the child's
getrusage, whole run over steps). Then each library's medians and, with
both fp32 and bf16, the median of the rounds' bf16/fp32 ratios.

  python3 bench/library_ab.py --lib before=/tmp/a --lib after=build \\
      --bench build/bench/bench_seq2seq --model bahdanau --rounds 6 --steps 30

A library is NAME=DIR, DIR holding libtapegrad.so (the rest of the build's
libraries come from --build) and, to compare code the program links in
itself (apps/translate's), a bench_seq2seq of its own, run instead of --bench.
"""
import argparse
import os
import re
import resource
import statistics
import subprocess


def huge_page_faults():
    with open('/proc/vmstat') as vmstat:
        for line in vmstat:
            if line.startswith('thp_fault_alloc '):
                return int(line.split()[1])
    return 0


def field(output, name):
    match = re.search(name + r'=([0-9.]+)', output)
    if not match:
        raise SystemExit(f'bench_seq2seq printed no {name}=; its output:\n{output}')
    return float(match.group(1))


def run(args, lib_dir, precision):
    env = dict(os.environ, LD_LIBRARY_PATH=f'{os.path.realpath(lib_dir)}:{os.path.realpath(args.build)}')
    own_bench = os.path.join(lib_dir, 'bench_seq2seq')
    command = [own_bench if os.path.exists(own_bench) else args.bench, 'train', '--model', args.model,
               '--steps', str(args.steps), '--warmup', '3', '--threads', str(args.threads), '--precision', precision]
    thp_before, usage_before = huge_page_faults(), resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    thp_after, usage_after = huge_page_faults(), resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f'{" ".join(command)} failed ({done.returncode}):\n{done.stderr}')
    return {'tok_per_s': field(done.stdout, 'tok_per_s'), 'peak_rss_mb': field(done.stdout, 'peak_rss_mb'),
            'misses': field(done.stdout, 'host_misses_per_step'),
            'thp': (thp_after - thp_before) / args.steps,
            'minflt': (usage_after.ru_minflt - usage_before.ru_minflt) / args.steps}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--lib', action='append', required=True, help='NAME=DIR holding libtapegrad.so')
    parser.add_argument('--bench', default='build/bench/bench_seq2seq')
    parser.add_argument('--build', default='build', help="the build directory: the other libraries")
    parser.add_argument('--model', default='bahdanau')
    parser.add_argument('--precisions', default='fp32,bf16')
    parser.add_argument('--rounds', type=int, default=6)
    parser.add_argument('--steps', type=int, default=30)
    parser.add_argument('--threads', type=int, default=2)
    args = parser.parse_args()
    libs = [spec.split('=', 1) for spec in args.lib]
    for name, lib_dir in libs:
        if not os.path.isfile(os.path.join(lib_dir, 'libtapegrad.so')):
            raise SystemExit(f'--lib {name}={lib_dir}: no libtapegrad.so in {lib_dir}')
    precisions = args.precisions.split(',')
    results = {}
    for round_number in range(1, args.rounds + 1):
        for precision in precisions:
            for name, lib_dir in libs:
                r = run(args, lib_dir, precision)
                results.setdefault((name, precision), []).append(r)
                print(f'round {round_number} {name} {precision} tok_per_s={r["tok_per_s"]:.1f} '
                      f'peak_rss_mb={r["peak_rss_mb"]:.1f} misses_per_step={r["misses"]:.1f} '
                      f'huge_page_faults_per_step={r["thp"]:.1f} minor_faults_per_step={r["minflt"]:.0f}', flush=True)
    for name, _ in libs:
        for precision in precisions:
            runs = results[(name, precision)]
            print(f'median {name} {precision} tok_per_s={statistics.median(r["tok_per_s"] for r in runs):.1f} '
                  f'peak_rss_mb={statistics.median(r["peak_rss_mb"] for r in runs):.1f}')
        if 'fp32' in precisions and 'bf16' in precisions:
            ratios = [b['tok_per_s'] / f['tok_per_s'] for b, f in zip(results[(name, 'bf16')], results[(name, 'fp32')])]
            print(f'ratio {name} bf16/fp32 rounds={" ".join(f"{x:.3f}" for x in ratios)} '
                  f'median={statistics.median(ratios):.3f}')


if __name__ == '__main__':
    main()
