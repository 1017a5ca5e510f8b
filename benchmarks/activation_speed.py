"""Forward+backward time of QTActivation against torch.sigmoid, tanh and relu.

    python benchmarks/activation_speed.py [--n 10000000] [--repeats 7] [--no-compile]

Each repeat times every contender once, in turn (interleaved), on the same
float32 input; the median over repeats is reported with its ratio to sigmoid.
Set GLIBC_TUNABLES=glibc.malloc.mmap_max=0 so that fresh-memory page faults do
not swing the ratios.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from _report import write_report
from qthybrid.nn import QTActivation


def forward_backward(function, x):
    z = x.detach().requires_grad_()
    y = function(z)
    y.backward(torch.ones_like(y))
    return z.grad


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000_000, help="elements (float32)")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--no-compile", action="store_true", help="skip the torch.compile contender")
    args = parser.parse_args()

    torch.manual_seed(0)
    x = torch.randn(args.n, dtype=torch.float32)
    contenders = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
                  "qt (eager autograd.Function)": QTActivation()}
    compile_seconds = None
    if not args.no_compile:
        compiled = torch.compile(QTActivation())
        start = time.perf_counter()
        forward_backward(compiled, x)
        compile_seconds = time.perf_counter() - start
        contenders["qt (torch.compile)"] = compiled
    for function in contenders.values():   # warm-up: allocator, thread pool
        forward_backward(function, x)

    times = {name: [] for name in contenders}
    for _ in range(args.repeats):
        for name, function in contenders.items():
            start = time.perf_counter()
            forward_backward(function, x)
            times[name].append(time.perf_counter() - start)

    sigmoid = statistics.median(times["sigmoid"])
    rows = [{"activation": name, "median_ms": 1e3 * statistics.median(t), "min_ms": 1e3 * min(t),
             "ratio_to_sigmoid": statistics.median(t) / sigmoid} for name, t in times.items()]
    table = write_report("activation_speed", rows, ["activation", "median_ms", "min_ms", "ratio_to_sigmoid"],
                         extra={"n": args.n, "repeats": args.repeats, "threads": torch.get_num_threads(),
                                "first_compile_seconds": compile_seconds})
    print(table)
    if compile_seconds is not None:
        print(f"\nfirst torch.compile call: {compile_seconds:.1f} s")


if __name__ == "__main__":
    main()
