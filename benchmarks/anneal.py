"""The QDE annealer against scipy's global optimisers on a 2-D suite and in 20 dimensions.

    python benchmarks/anneal.py [--seeds 20] [--high-dim-seeds 5]

Each seed shifts the function inside its box by up to 2 % of the box (so the
optimum is not at the box centre or on a grid line by construction), then
every method minimises it. Success: |f - f*| <= 1e-6 after polish AND the
radius criterion ||x - x*|| <= 0.01 * box width for some global minimiser.
Reported per function and method: success rate, mean nfev, mean wall time.
High-dimensional rows: 20-D Rastrigin and Ackley, population solver vs
dual_annealing and differential_evolution.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.optimize import basinhopping, differential_evolution, dual_annealing

from _report import write_report
from qthybrid import QDEAnnealer
from qthybrid.annealer.objectives import SUITE_2D, ackley, rastrigin


def shifted(function, shift):
    return lambda x: function(np.asarray(x) - shift)


def scalar(f):
    return lambda x: float(f(np.asarray(x)[None, :])[0])


def run_method(name, f, bounds, seed):
    start = time.perf_counter()
    if name == "qde (grid 64)":
        result = QDEAnnealer(grid_points=64).minimize(f, bounds)
    elif name == "qde (circuit, statevector, 6 qubits/dim)":
        result = QDEAnnealer(backend="statevector", qubits_per_dim=6, steps=800).minimize(f, bounds)
    elif name == "qde (population)":
        result = QDEAnnealer(method="population", seed=seed).minimize(f, bounds)
    elif name == "dual_annealing":
        result = dual_annealing(scalar(f), bounds, seed=seed)
    elif name == "differential_evolution":
        result = differential_evolution(scalar(f), bounds, seed=seed, tol=1e-8)
    elif name == "basinhopping":
        rng = np.random.default_rng(seed)
        x0 = np.array([rng.uniform(lo, hi) for lo, hi in bounds])
        result = basinhopping(scalar(f), x0, niter=100, seed=seed,
                              minimizer_kwargs={"method": "L-BFGS-B", "bounds": bounds})
    else:
        raise ValueError(name)
    return np.asarray(result.x), float(result.fun), int(result.nfev), time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--high-dim-seeds", type=int, default=5)
    args = parser.parse_args()

    methods = ["qde (grid 64)", "qde (circuit, statevector, 6 qubits/dim)", "dual_annealing",
               "basinhopping", "differential_evolution"]
    rows = []
    totals = {m: [0, 0, 0.0] for m in methods}
    for function in SUITE_2D:
        bounds = [tuple(b) for b in function.bounds]
        width = max(hi - lo for lo, hi in bounds)
        for method in methods:
            successes, nfevs, seconds = 0, [], []
            for seed in range(args.seeds):
                shift = np.random.default_rng(1000 + seed).uniform(-0.02, 0.02, 2) * width
                minimisers = [np.asarray(m) + shift for m in function.minimisers]
                inside = [m for m in minimisers if all(lo <= v <= hi for v, (lo, hi) in zip(m, bounds))]
                x, fun, nfev, elapsed = run_method(method, shifted(function, shift), bounds, seed)
                near = min(np.linalg.norm(x - m) for m in (inside or minimisers)) <= 0.01 * width
                successes += int(abs(fun - function.minimum) <= 1e-6 and near)
                nfevs.append(nfev)
                seconds.append(elapsed)
            rows.append({"function": function.name, "method": method, "success": successes / args.seeds,
                         "mean_nfev": float(np.mean(nfevs)), "mean_seconds": float(np.mean(seconds))})
            totals[method][0] += successes
            totals[method][1] += float(np.mean(nfevs))
            totals[method][2] += float(np.mean(seconds))
            print(rows[-1], flush=True)
    for method, (successes, nfev, seconds) in totals.items():
        rows.append({"function": "ALL (2-D suite)", "method": method,
                     "success": successes / (args.seeds * len(SUITE_2D)),
                     "mean_nfev": nfev / len(SUITE_2D), "mean_seconds": seconds / len(SUITE_2D)})
    for name, function, box in (("rastrigin 20-D", rastrigin, (-5.12, 5.12)), ("ackley 20-D", ackley, (-5.0, 5.0))):
        bounds = [box] * 20
        for method in ("qde (population)", "dual_annealing", "differential_evolution"):
            successes, nfevs, seconds = 0, [], []
            for seed in range(args.high_dim_seeds):
                x, fun, nfev, elapsed = run_method(method, function, bounds, seed)
                successes += int(fun <= 1e-6 and np.linalg.norm(x) <= 0.01 * (box[1] - box[0]))
                nfevs.append(nfev)
                seconds.append(elapsed)
            rows.append({"function": name, "method": method, "success": successes / args.high_dim_seeds,
                         "mean_nfev": float(np.mean(nfevs)), "mean_seconds": float(np.mean(seconds))})
            print(rows[-1], flush=True)
    table = write_report("anneal", rows, ["function", "method", "success", "mean_nfev", "mean_seconds"],
                         extra={"seeds": args.seeds, "high_dim_seeds": args.high_dim_seeds})
    print(table)


if __name__ == "__main__":
    main()
