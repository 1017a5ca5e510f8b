"""The QDE annealer (``qthybrid.optimize.qde``) against scipy's global optimisers.

    python benchmarks/anneal.py --quick         # a small smoke run (used by the tests)
    python benchmarks/anneal.py --suites 1d,2d,2d-holdout,3d --out anneal_low                    # ~20 min
    python benchmarks/anneal.py --suites high --modes defaults --methods qde,dual_annealing \
        --out anneal_high                                                                         # ~10 min
    python benchmarks/anneal.py --suites high --modes budget --out anneal_high_budget             # ~8 min
    python benchmarks/anneal.py --suites high-holdout,50d --modes defaults \
        --methods qde,dual_annealing --out anneal_50d                                             # ~7 min

(times on one core of the 2-core machine; ``python benchmarks/anneal.py`` alone runs every
suite, method and mode into one report: differential_evolution and basinhopping with their
defaults in 10-50 D take hours.)

Suites (each function x seed is one problem; every method gets the same problems):

* ``2d``: 19 two-dimensional functions, the set the annealer's defaults were chosen on;
* ``2d-holdout``: 9 more two-dimensional functions, never used to choose anything;
* ``1d``, ``3d``: 9 and 10 scalable functions in one and three dimensions (checks, not tuning);
* ``high``: 10 scalable functions in 10 and 20 dimensions (the tuning set);
* ``high-holdout``: 4 other scalable functions in 10 and 20 dimensions;
* ``50d``: 5 scalable functions in 50 dimensions.

A function with its minimum inside the box is moved by a random shift of up to 5 % of the
box per coordinate (a different shift per seed): f_s(x) = f(x - s). The reference minimum
f* is the listed value, refined by a tight local polish from each (shifted) listed minimiser.
Success: |f - f*| <= 1e-6 max(1, |f*|). Every evaluation of f is counted (one per point).

Modes: ``defaults`` (everyone's defaults: ``qde(f, bounds, seed=s)``, ``dual_annealing(f,
bounds, rng=s)``, ``differential_evolution(f, bounds, rng=s)``, ``basinhopping(f, x0, rng=s)``
with L-BFGS-B inside the bounds and x0 uniform in the box) and ``budget`` (all methods get the
same budget of 1000 evaluations per dimension; a method is stopped when it is spent and its
best point so far is scored).

Output: ``results/<out>.json`` and ``results/<out>.md`` (see ``_report.py``): per function and
method the success rate, the mean evaluations, how often the method itself claimed success
(``claimed``) and how many of those claims were wrong (``false_claims``); per suite a summary row.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from scipy.optimize import basinhopping, differential_evolution, dual_annealing, minimize

from _report import write_report
from qthybrid.annealer.objectives import FUNCTIONS, SCALABLE
from qthybrid.optimize import qde

SUITES = {
    "2d": ["ackley", "rastrigin", "levy", "griewank", "styblinski_tang", "michalewicz", "holder_table", "eggholder",
           "schwefel", "rosenbrock", "himmelblau", "drop_wave", "six_hump_camel", "branin", "shubert", "easom",
           "cross_in_tray", "goldstein_price", "schaffer2"],
    "2d-holdout": ["three_hump_camel", "schaffer4", "bukin6", "beale", "levy13", "bohachevsky", "mccormick",
                   "foxholes", "salomon"],
    "1d": [(name, 1) for name in ("rastrigin", "ackley", "griewank", "levy", "schwefel", "styblinski_tang",
                                  "michalewicz", "alpine", "salomon")],
    "3d": [(name, 3) for name in ("rastrigin", "ackley", "griewank", "levy", "schwefel", "styblinski_tang",
                                  "rosenbrock", "michalewicz", "zakharov", "alpine")],
    "high": [(name, d) for d in (10, 20) for name in ("rastrigin", "ackley", "griewank", "levy", "schwefel",
                                                      "styblinski_tang", "rosenbrock", "alpine", "zakharov",
                                                      "dixon_price")],
    "high-holdout": [(name, d) for d in (10, 20) for name in ("salomon", "qing", "different_powers", "michalewicz")],
    "50d": [(name, 50) for name in ("rastrigin", "ackley", "levy", "styblinski_tang", "rosenbrock")],
}
#: 2-D functions moved by the seed's shift (one interior minimiser and a box that keeps it inside).
SHIFTED_2D = {"ackley", "rastrigin", "levy", "griewank", "styblinski_tang", "rosenbrock", "drop_wave", "easom",
              "goldstein_price", "schaffer2", "three_hump_camel", "schaffer4", "beale", "levy13", "bohachevsky",
              "salomon"}
#: Griewank's usual 2-D box (+-600) has hundreds of near-equal minima; the benchmark uses +-50.
BOX_2D = {"griewank": ((-50.0, 50.0), (-50.0, 50.0))}
METHODS = ("qde", "dual_annealing", "differential_evolution", "basinhopping")
SHIFT = 0.05


class Exhausted(Exception):
    """The evaluation budget of a benchmark run is spent."""


class Counted:
    """A scalar objective that counts its evaluations, remembers its best point and can enforce a budget."""

    def __init__(self, f, budget=None):
        self.f, self.budget, self.nfev, self.best_f, self.best_x = f, budget, 0, np.inf, None

    def __call__(self, x):
        if self.budget is not None and self.nfev >= self.budget:
            raise Exhausted
        self.nfev += 1
        value = float(self.f(np.asarray(x, dtype=float)))
        if value < self.best_f:
            self.best_f, self.best_x = value, np.array(x, dtype=float)
        return value


def problem(entry, seed: int):
    """(name, d, f, bounds, f_star) of one suite entry for one seed."""
    rng = np.random.default_rng(10_000 + seed)
    if isinstance(entry, str) and entry in FUNCTIONS:
        spec = FUNCTIONS[entry]
        bounds = np.array(BOX_2D.get(entry, spec.bounds), dtype=float)
        minimisers, f_star = [np.asarray(m, dtype=float) for m in spec.minimisers], spec.minimum
        shiftable, name = entry in SHIFTED_2D, entry
    else:
        name, d = (entry, 2) if isinstance(entry, str) else entry
        spec = SCALABLE[name]
        bounds = np.array(spec.bounds(d), dtype=float)
        minimisers = [spec.minimiser(d)]
        f_star = float(spec(minimisers[0]))
        shiftable = spec.shiftable
    d = len(bounds)
    width = bounds[:, 1] - bounds[:, 0]
    shift = rng.uniform(-SHIFT, SHIFT, d) * width if shiftable else np.zeros(d)
    function = spec.function

    def f(x):
        return function(np.asarray(x, dtype=float) - shift)

    for m in minimisers:                           # the reference minimum, refined by a tight polish
        start = np.clip(m + shift, bounds[:, 0], bounds[:, 1])
        local = minimize(lambda x: float(f(x)), start, method="L-BFGS-B", bounds=bounds,
                         options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 10_000})
        f_star = min(f_star, float(local.fun))
    return f"{name} {d}-D" if d != 2 else name, d, f, bounds, f_star


def run(method: str, f, bounds, seed: int, budget=None, qde_options=None):
    """(best f, nfev, success flag) of one method on one problem (scalar objective, every evaluation
    counted); the flag is the method's own ``success`` (None when it stopped on the benchmark's budget)."""
    counted = Counted(f, budget)
    box = [tuple(b) for b in bounds]
    try:
        if method == "qde":
            result = qde(counted, box, seed=seed, maxfev=budget, **(qde_options or {}))
        elif method == "dual_annealing":
            result = dual_annealing(counted, box, rng=seed, **({"maxfun": budget} if budget else {}))
        elif method == "differential_evolution":
            result = differential_evolution(counted, box, rng=seed, **({"maxiter": 10**6} if budget else {}))
        else:
            x0 = np.random.default_rng(seed).uniform(bounds[:, 0], bounds[:, 1])
            result = basinhopping(counted, x0, rng=seed, niter=10**6 if budget else 100,
                                  minimizer_kwargs={"method": "L-BFGS-B", "bounds": box})
        best, flag = min(float(result.fun), counted.best_f), bool(result.success)
    except Exhausted:
        best, flag = counted.best_f, None
    return best, counted.nfev, flag


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few problems and 2 seeds (smoke test)")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--suites", default="2d,2d-holdout,1d,3d,high,high-holdout,50d")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--modes", default="defaults,budget")
    parser.add_argument("--out", default="anneal", help="report name (results/<out>.json and .md)")
    parser.add_argument("--qde-options", default="{}", help="QDEAnnealer arguments as JSON (how the defaults "
                                                            "were chosen: compare settings on the tuning suites)")
    args = parser.parse_args()

    methods = [m for m in args.methods.split(",") if m]
    suites = {name: SUITES[name] for name in args.suites.split(",") if name}
    seeds = args.seeds
    if args.quick:
        suites = {"2d": ["rastrigin", "branin"], "high": [("styblinski_tang", 10)]}
        seeds = 2
    rows, summary = [], []
    for mode in [m for m in args.modes.split(",") if m]:
        for suite, entries in suites.items():
            totals = {method: [0, 0.0, 0, 0, 0] for method in methods}
            for entry in entries:
                for method in methods:
                    successes, claims, false_claims, nfevs, started = 0, 0, 0, [], time.perf_counter()
                    for seed in range(args.first_seed, args.first_seed + seeds):
                        name, d, f, bounds, f_star = problem(entry, seed)
                        budget = 1000 * d if mode == "budget" else None
                        best, nfev, flag = run(method, f, bounds, seed, budget, json.loads(args.qde_options))
                        solved = abs(best - f_star) <= 1e-6 * max(1.0, abs(f_star))
                        successes += solved
                        claims += bool(flag)
                        false_claims += bool(flag) and not solved
                        nfevs.append(nfev)
                    row = {"mode": mode, "suite": suite, "function": name, "method": method,
                           "success": successes / seeds, "mean_nfev": float(np.mean(nfevs)),
                           "claimed": claims / seeds, "false_claims": false_claims,
                           "mean_seconds": (time.perf_counter() - started) / seeds}
                    rows.append(row)
                    totals[method][0] += successes
                    totals[method][1] += float(np.sum(nfevs))
                    totals[method][2] += seeds
                    totals[method][3] += claims
                    totals[method][4] += false_claims
                    print(json.dumps(row), flush=True)
            for method, (successes, nfev, runs, claims, false_claims) in totals.items():
                summary.append({"mode": mode, "suite": suite, "function": "ALL", "method": method,
                                "success": successes / runs, "solved": f"{successes}/{runs}",
                                "mean_nfev": nfev / runs, "claimed": claims / runs, "false_claims": false_claims})
    columns = ["mode", "suite", "function", "method", "success", "mean_nfev"]
    table = write_report(args.out, summary + rows, columns + ["solved", "claimed", "false_claims", "mean_seconds"],
                         extra={"seeds": seeds, "shift": SHIFT, "success": "|f - f*| <= 1e-6 max(1, |f*|)",
                                "budget_mode": "1000 evaluations per dimension"})
    print(table)


if __name__ == "__main__":
    main()
