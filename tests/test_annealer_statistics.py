"""Statistical checks of the annealer's defaults over several seeds (slow: run with ``pytest -m slow``).

The functions here are not in ``benchmarks/anneal.py`` (where the defaults were chosen), so these are
out-of-sample checks: QDE's defaults against dual_annealing's on the same problems, with margins.
"""

import numpy as np
import pytest
from scipy.optimize import dual_annealing

from qthybrid import QDEAnnealer
from qthybrid.optimize import qde

pytestmark = pytest.mark.slow


def wells(x):
    """x^4 - 3 x^2 + x per coordinate: 2^d minima, the global one at x_i = -1.30084."""
    x = np.asarray(x, dtype=float)
    return np.sum(x**4 - 3 * x**2 + x, -1)


WELL = -3.513905038934789


def rippled(x):
    """A Rastrigin variant: amplitude 6, frequency 3, shifted to (0.37, -1.21, ...)."""
    x = np.asarray(x, dtype=float)
    z = x - np.resize([0.37, -1.21, 0.88], x.shape[-1])
    return np.sum(z**2 + 6 * (1 - np.cos(3 * z)), -1)


def rotated_wells(x):
    """The 2-D wells turned by 30 degrees about (0.2, 0.1): not separable in the given axes."""
    x = np.asarray(x, dtype=float) - np.array([0.2, 0.1])
    c, s = np.cos(np.pi / 6), np.sin(np.pi / 6)
    return wells(np.stack([c * x[..., 0] - s * x[..., 1], s * x[..., 0] + c * x[..., 1]], -1))


PROBLEMS = [("wells 2-D", wells, [(-2.0, 2.0)] * 2, 2 * WELL),
            ("rotated wells 2-D", rotated_wells, [(-2.0, 2.0)] * 2, 2 * WELL),
            ("rippled 2-D", rippled, [(-4.0, 4.0)] * 2, 0.0),
            ("wells 10-D", wells, [(-2.0, 2.0)] * 10, 10 * WELL),
            ("rippled 10-D", rippled, [(-4.0, 4.0)] * 10, 0.0)]


def solved(value, minimum):
    return abs(value - minimum) <= 1e-6 * max(1.0, abs(minimum))


def test_defaults_solve_more_with_fewer_evaluations_than_dual_annealing():
    ours, theirs, our_nfev, their_nfev = 0, 0, [], []
    for name, f, bounds, minimum in PROBLEMS:
        for seed in range(4):
            calls = [0]

            def scalar(x):
                calls[0] += 1
                return float(f(x))

            result = qde(scalar, bounds, seed=seed)
            assert result.nfev == calls[0]
            ours += solved(result.fun, minimum)
            our_nfev.append(result.nfev)
            calls[0] = 0
            reference = dual_annealing(scalar, bounds, rng=seed)
            theirs += solved(reference.fun, minimum)
            their_nfev.append(calls[0])
    runs = 4 * len(PROBLEMS)
    assert ours >= theirs - 1 and ours >= runs - 2, (ours, theirs)
    assert np.mean(our_nfev) <= 0.8 * np.mean(their_nfev), (np.mean(our_nfev), np.mean(their_nfev))


def test_success_flag_is_reliable_over_seeds_in_twenty_dimensions():
    bounds = [(-2.0, 2.0)] * 20
    results = [QDEAnnealer(seed=seed).minimize(wells, bounds) for seed in range(6)]
    correct = [solved(r.fun, 20 * WELL) for r in results]
    assert sum(correct) >= 5
    assert all(c for c, r in zip(correct, results) if r.success)     # success=True never on a wrong minimum here
    assert all(r.nfev <= 40_000 for r in results)


def test_grid_and_walkers_agree_on_a_three_dimensional_problem():
    bounds = [(-4.0, 4.0)] * 3
    grid = QDEAnnealer(method="grid", grid_points=32).minimize(rippled, bounds)
    walkers = [QDEAnnealer(seed=seed).minimize(rippled, bounds) for seed in range(3)]
    assert solved(grid.fun, 0.0)
    assert sum(solved(w.fun, 0.0) for w in walkers) >= 2


def test_benchmark_quick_mode_writes_its_report(tmp_path):
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    folder = Path(__file__).resolve().parent.parent / "benchmarks"
    env = {**os.environ, "QTHYBRID_BENCH_RESULTS": str(tmp_path)}
    subprocess.run([sys.executable, "anneal.py", "--quick", "--modes", "defaults,budget"], cwd=folder, env=env,
                   check=True, capture_output=True, timeout=900)
    rows = json.loads((tmp_path / "anneal.json").read_text())["rows"]
    summary = {(r["mode"], r["suite"], r["method"]): r for r in rows if r["function"] == "ALL"}
    assert {method for _, _, method in summary} == {"qde", "dual_annealing", "differential_evolution",
                                                    "basinhopping"}
    for (mode, suite, method), row in summary.items():
        assert 0 <= row["success"] <= 1 and row["mean_nfev"] > 0
        if mode == "budget":
            assert row["mean_nfev"] <= 1000 * (2 if suite == "2d" else 10)
    assert (tmp_path / "anneal.md").read_text().startswith("# anneal")
