"""Speed of the QT activation against torch.sigmoid, tanh and relu, and of a QT network against its ReLU twin.

    GLIBC_TUNABLES=glibc.malloc.mmap_max=0 python benchmarks/activation_speed.py \\
        [--n 10000000] [--repeats 15] [--epochs 9] [--threads 2] [--compile]

Three measurements, each interleaved (every repeat times every contender once,
in turn) and summarised by medians:

* forward + backward on ``--n`` float32 values: sigmoid, tanh, relu, the fused
  QT kernel (``FusedQT``: T in the forward pass, the slope recomputed in the
  backward pass), the fused kernel keeping dT/dz from the forward pass (the
  alternative design), the eager torch path (``AnalyticQT`` in float32, the
  fallback), and with ``--compile`` the eager path under ``torch.compile``;
* the first QTActivation call in a fresh process: with the kernel built by
  the install, and without it, from an empty cache directory (the kernel is
  compiled) and from the filled cache;
* one training epoch of FeedForward(784, 512, 10) on 6,000 synthetic images of
  MNIST's shape (batch 64, SGD, ``train_epoch``), activation="qt" against
  "relu"; the ratio is taken per repeat (paired) and its median reported.

GLIBC_TUNABLES=glibc.malloc.mmap_max=0 keeps large tensors on the heap, so
fresh-memory page faults do not swing the elementwise ratios.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import torch

from _report import write_report
from qthybrid.models.feedforward import FeedForward, train_epoch
from qthybrid.nn import AnalyticQT, QTActivation
from qthybrid.nn.kernels import fused_backend

FIRST_CALL = """
import sys, time, torch
torch.set_num_threads({threads})
from qthybrid.nn import QTActivation
from qthybrid.nn.kernels import cpu
if {ignore_install}:
    cpu._prebuilt = lambda: None
z = torch.randn(64, 512)
start = time.perf_counter()
QTActivation()(z)
print(time.perf_counter() - start)
"""


class KeptSlopeQT(torch.autograd.Function):
    """The alternative design: T and dT/dz written by the forward pass, the backward one multiplication."""

    @staticmethod
    def forward(ctx, z):
        T, slope = fused_backend(z.device).transmission_and_slope(z, 10.0, 30.0, 0.5, 10.0)
        ctx.save_for_backward(slope)
        return T

    @staticmethod
    def backward(ctx, grad_output):
        (slope,) = ctx.saved_tensors
        return grad_output * slope


def eager_qt(z):
    V0, g = torch.tensor(30.0), torch.tensor(0.5)
    return AnalyticQT.apply(z, 10.0, V0, g, False)


def forward_backward(function, x):
    z = x.detach().requires_grad_()
    y = function(z)
    y.backward(torch.ones_like(y))
    return z.grad


def interleaved(contenders: dict, repeats: int, run) -> tuple[dict, dict]:
    """Wall and process-CPU seconds per call of ``run(contender)``: ``repeats`` rounds, one call each per round.

    CPU time (both threads) is the steadier figure when other jobs share the cores.
    """
    for contender in contenders.values():   # warm-up: allocator, thread pool, kernel cache
        run(contender)
    wall, cpu = ({name: [] for name in contenders} for _ in range(2))
    for _ in range(repeats):
        for name, contender in contenders.items():
            cpu_start, start = time.process_time(), time.perf_counter()
            run(contender)
            wall[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - cpu_start)
    return wall, cpu


def elementwise(args) -> list[dict]:
    torch.manual_seed(0)
    x = torch.randn(args.n, dtype=torch.float32)
    contenders = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
                  "qt, fused kernel (QTActivation)": QTActivation(),
                  "qt, fused kernel keeping dT/dz from the forward pass": KeptSlopeQT.apply,
                  "qt, eager torch path (AnalyticQT, float32)": eager_qt}
    if args.compile:
        compiled = torch.compile(eager_qt)
        start = time.perf_counter()
        forward_backward(compiled, x)
        print(f"torch.compile first call: {time.perf_counter() - start:.1f} s", flush=True)
        contenders["qt, eager path under torch.compile"] = compiled
    times, cpu = interleaved(contenders, args.repeats, lambda f: forward_backward(f, x))
    sigmoid, sigmoid_cpu = statistics.median(times["sigmoid"]), statistics.median(cpu["sigmoid"])
    return [{"measurement": f"fwd+bwd, {args.n:,} float32", "contender": name,
             "median_ms": 1e3 * statistics.median(t), "min_ms": 1e3 * min(t),
             "ratio": statistics.median(t) / sigmoid, "cpu_ratio": statistics.median(cpu[name]) / sigmoid_cpu,
             "ratio_to": "sigmoid"} for name, t in times.items()]


def first_calls(args) -> list[dict]:
    """The first QTActivation call of fresh processes: the install's build, then the cache's (cold, warm)."""
    from qthybrid.nn.kernels import cpu

    runs = [("kernel built by the install", False)] if cpu._prebuilt() is not None else []
    runs += [("no install build, empty cache (kernel compiled)", True), ("no install build, cache filled", True)]
    rows = []
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "QTHYBRID_CACHE_DIR": cache}
        for label, ignore_install in runs:
            code = FIRST_CALL.format(threads=args.threads, ignore_install=ignore_install)
            result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                    check=True)
            rows.append({"measurement": "first call in a fresh process, 64x512 float32", "contender": label,
                         "median_ms": 1e3 * float(result.stdout.split()[-1])})
    return rows


def epochs(args) -> list[dict]:
    generator = torch.Generator().manual_seed(0)
    X = torch.rand(6000, 784, generator=generator)
    y = torch.randint(0, 10, (6000,), generator=generator)
    contenders = {}
    for activation in ("relu", "qt"):
        torch.manual_seed(0)
        model = FeedForward(784, 512, 10, activation=activation)
        contenders[activation] = (model, torch.optim.SGD(model.parameters(), lr=0.01))
    times, cpu = interleaved(contenders, args.epochs,
                             lambda pair: train_epoch(pair[0], pair[1], X, y, batch_size=64, generator=generator))

    def paired(values):
        return statistics.median(q / r for q, r in zip(values["qt"], values["relu"]))

    ratios = {"relu": (1.0, 1.0), "qt": (paired(times), paired(cpu))}
    return [{"measurement": "FeedForward 784-512-10 epoch (6,000 x 784, batch 64)", "contender": name,
             "median_ms": 1e3 * statistics.median(t), "min_ms": 1e3 * min(t), "ratio": ratios[name][0],
             "cpu_ratio": ratios[name][1], "ratio_to": "relu (paired median)"} for name, t in times.items()]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000_000, help="elements (float32)")
    parser.add_argument("--repeats", type=int, default=15, help="interleaved rounds of the elementwise timing")
    parser.add_argument("--epochs", type=int, default=9, help="interleaved epochs per network")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--compile", action="store_true", help="add the eager path under torch.compile (slow start)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if fused_backend(torch.device("cpu")) is None:
        print("warning: no fused kernel on this machine; QTActivation runs the eager torch path", flush=True)

    load_before = os.getloadavg()
    rows = elementwise(args) + first_calls(args) + epochs(args)
    columns = ["measurement", "contender", "median_ms", "min_ms", "ratio", "cpu_ratio", "ratio_to"]
    table = write_report("activation_speed", rows, columns,
                         extra={"n": args.n, "repeats": args.repeats, "epochs": args.epochs, "threads": args.threads,
                                "glibc_tunables": os.environ.get("GLIBC_TUNABLES", ""),
                                "load_average_1_5_15_min": {"before": load_before, "after": os.getloadavg()}})
    print(table)
    print(f"\nload average (1, 5, 15 min) before {load_before}, after {os.getloadavg()}")


if __name__ == "__main__":
    main()
