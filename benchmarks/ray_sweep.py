"""The demo comparison with --executor ray against the local executor: wall time, peak memory, same results.

    python benchmarks/ray_sweep.py [--repeats 2] [--config examples/demo.toml] [--backends analytic]

Runs ``qthybrid compare CONFIG --backends analytic --baselines relu`` (3 seeds x 2 variants = 6
tasks for the demo) as a fresh process per run, the contenders interleaved in every round:

* ``local``: the default executor (torch's default threads);
* ``ray``: ``--executor ray`` with its defaults: a new local Ray instance, each task with the
  local run's torch threads and as many CPUs, so the results equal ``local``'s;
* ``ray, 1 CPU/task``: ``--executor ray --cpus-per-task 1``: as many tasks at once as cores;
* ``local, 1 thread``: ``OMP_NUM_THREADS=1``, the local run whose numbers ``ray, 1 CPU/task``
  must equal (one torch thread rounds differently from two), and which separates what running
  tasks side by side gains from what a single thread gains on its own.

Wall time includes starting Ray (and its worker processes importing torch). Peak memory is the
largest sum of the resident memory of every process of a run (the CLI, and Ray's processes and
workers), sampled every 0.2 s through /proc. ``same results`` compares compare.json without
timings to its reference run's (``local`` or ``local, 1 thread``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _report import write_report

ROOT = Path(__file__).resolve().parent.parent

CONTENDERS = {
    "local": ([], {}),
    "ray": (["--executor", "ray"], {}),
    "ray, 1 CPU/task": (["--executor", "ray", "--cpus-per-task", "1"], {}),
    "local, 1 thread": ([], {"OMP_NUM_THREADS": "1"}),
}
REFERENCE = {"local": "local", "ray": "local", "ray, 1 CPU/task": "local, 1 thread",
             "local, 1 thread": "local, 1 thread"}


def _tree_rss_bytes(mark: bytes) -> int:
    """Resident memory summed over the processes whose environment holds ``mark``."""
    total = 0
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and mark in (proc / "environ").read_bytes().split(b"\0"):
                for line in (proc / "status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


def _run(args: list, env_extra: dict, out: Path, ray_tmp: Path) -> dict:
    mark = f"QTHYBRID_BENCH_RUN={out.name}"
    env = {**os.environ, **env_extra, "RAY_TMPDIR": str(ray_tmp), "QTHYBRID_BENCH_RUN": out.name}
    peak, done = [0], threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss_bytes(mark.encode()))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    load = os.getloadavg()[0]
    start = time.perf_counter()
    sampler.start()
    result = subprocess.run([sys.executable, "-m", "qthybrid.cli", "--quiet", "compare", *args, "--out", str(out)],
                            capture_output=True, text=True, env=env, cwd=ROOT)
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    if result.returncode:
        raise RuntimeError(f"{args}: exit {result.returncode}: {result.stderr.strip()[-500:]}")
    rows = json.loads((out / "compare.json").read_text())
    kept = [{k: v for k, v in row.items() if k not in ("seconds_per_epoch", "total_seconds")} for row in rows]
    return {"seconds": seconds, "peak_mb": peak[0] / 2**20, "load": load, "rows": kept}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--config", default="examples/demo.toml")
    parser.add_argument("--backends", default="analytic")
    args = parser.parse_args()
    compare_args = [str(ROOT / args.config), "--backends", args.backends, "--baselines", "relu"]
    scratch = Path(tempfile.mkdtemp(prefix="qthybrid-ray-bench-"))
    scratch_ray = Path(tempfile.mkdtemp(prefix="qr", dir="/tmp" if os.path.isdir("/tmp") else None))
    runs = {name: [] for name in CONTENDERS}
    try:
        for round_ in range(args.repeats):
            for index, (name, (extra, env)) in enumerate(CONTENDERS.items()):
                out = scratch / f"r{round_}-{index}"
                ray_tmp = scratch_ray / f"{round_}{index}"     # short: Ray's socket paths stay under 108 bytes
                runs[name].append(_run(compare_args + extra, env, out, ray_tmp))
                print(f"round {round_ + 1}: {name}: {runs[name][-1]['seconds']:.1f} s", flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.rmtree(scratch_ray, ignore_errors=True)
    local = statistics.median(r["seconds"] for r in runs["local"])
    rows = []
    for name, results in runs.items():
        seconds = [r["seconds"] for r in results]
        reference = runs[REFERENCE[name]][0]["rows"]
        rows.append({"executor": name, "median_s": statistics.median(seconds),
                     "runs_s": ", ".join(f"{s:.0f}" for s in seconds),
                     "speedup_vs_local": local / statistics.median(seconds),
                     "peak_mb": max(r["peak_mb"] for r in results),
                     "same_results_as": REFERENCE[name] if all(r["rows"] == reference for r in results) else "NO",
                     "load_avg": ", ".join(f"{r['load']:.1f}" for r in results)})
    print(write_report("ray_sweep", rows, ["executor", "median_s", "runs_s", "speedup_vs_local", "peak_mb",
                                           "same_results_as", "load_avg"],
                       extra={"command": "qthybrid compare " + " ".join([args.config] + compare_args[1:]),
                              "repeats": args.repeats, "cpus": os.cpu_count(),
                              "note": "interleaved rounds; wall time includes starting Ray; load_avg is the 1-min "
                                      "load average when each run started (other jobs share the machine)"}))


if __name__ == "__main__":
    main()
