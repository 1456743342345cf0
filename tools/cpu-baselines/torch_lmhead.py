"""PyTorch's CPU BF16 matmul on the LM-head shapes of `tpk bench --backend cpu --kernel lm-head`.

X [M, K] times W [N, K] transposed, BF16 in (PyTorch's result is BF16), timed the way tpk bench times the CPU:
the median of 25 timed runs after warm-ups of at least 0.5 s, cycling through enough weight copies
(at least 256 MiB in all) that no run finds W in a cache an earlier run left warm.

    python3 tools/cpu-baselines/torch_lmhead.py            # threads = the machine's cores
    python3 tools/cpu-baselines/torch_lmhead.py --threads 2 --tokens 1 16 128
"""
import argparse
import os
import statistics
import time

import torch
import torch.nn.functional as F


def median_ms(fn, sets, runs, warmup_s):
    start = time.perf_counter()
    i = 0
    while i < 3 or time.perf_counter() - start < warmup_s:
        fn(*sets[i % len(sets)])
        i += 1
    times = []
    for r in range(runs):
        args = sets[(i + r) % len(sets)]
        t0 = time.perf_counter()
        fn(*args)
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--tokens", type=int, nargs="+", default=[1, 16, 128])
    p.add_argument("--n", type=int, default=15808, help="valid vocabulary rows of the shard")
    p.add_argument("--k", type=int, default=2048, help="hidden size")
    p.add_argument("--runs", type=int, default=25)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"bf16 CPU capability: {torch.backends.cpu.get_cpu_capability()}")
    gen = torch.Generator().manual_seed(7)
    w_bytes = args.n * args.k * 2
    copies = max(1, -(-256 * 2**20 // w_bytes))
    weights = [torch.empty(args.n, args.k).uniform_(-1, 1, generator=gen).to(torch.bfloat16) for _ in range(copies)]
    print(f"{'op':<14} {'shape':<24} {'median ms':>10} {'GB/s':>8} {'GFLOP/s':>8}")
    for m in args.tokens:
        xs = [torch.empty(m, args.k).uniform_(-1, 1, generator=gen).to(torch.bfloat16) for _ in range(copies)]
        sets = list(zip(xs, weights))
        byte_count = w_bytes + m * args.k * 2 + m * args.n * 2
        flops = 2.0 * m * args.n * args.k
        with torch.inference_mode():
            for name, fn in (("matmul", lambda x, w: torch.matmul(x, w.t())),
                             ("F.linear", lambda x, w: F.linear(x, w))):
                ms = median_ms(fn, sets, args.runs, 0.5)
                print(f"{name:<14} {f'M={m} N={args.n} K={args.k}':<24} {ms:>10.2f} "
                      f"{byte_count / ms / 1e6:>8.2f} {flops / ms / 1e6:>8.1f}")


if __name__ == "__main__":
    main()
