"""QDE annealer: ground states against closed forms, tunnelling, test functions, circuit solvers."""

import numpy as np
import pytest

from qthybrid import QDEAnnealer
from qthybrid.annealer.grid import Grid, relax
from qthybrid.annealer.objectives import FUNCTIONS, SCALABLE, ackley, rastrigin, tilted_double_well


@pytest.mark.parametrize("D, k", [(0.5, 2.0), (0.05, 1.0)])
def test_harmonic_ground_state_matches_the_closed_form(D, k):
    grid = Grid.over([(-8.0, 8.0)], 1023)
    x = grid.points[0]
    zeta = 0.5 * k * x**2
    psi = np.exp(-(x - 1.0) ** 2)                    # any start with ground-state overlap
    psi, E, _ = relax(psi / np.linalg.norm(psi), zeta, grid.k_squared(), D, dtau=0.002, tol=1e-13,
                      max_steps=200_000)
    x2 = np.sum(psi**2 * x**2)
    assert x2 == pytest.approx(np.sqrt(D / (2 * k)), rel=1e-3)
    assert E == pytest.approx(np.sqrt(D * k / 2), rel=1e-3)


def test_started_in_the_wrong_well_it_tunnels_to_the_global_one():
    result = QDEAnnealer(method="grid", grid_points=128, polish=False).minimize(tilted_double_well, [(-2.0, 2.0)],
                                                                               x0=[1.0])
    assert result.x[0] < -0.9                       # the left (global) well
    early = result.trajectory[0]["mean"][0]
    assert result.trajectory[-1]["mean"][0] < early < 1.0   # the packet has left the right well
    D = [stage["D"] for stage in result.trajectory]
    assert all(b < a for a, b in zip(D, D[1:]))


@pytest.mark.parametrize("function, bounds", [(rastrigin, [(-5.12, 5.12)]), (ackley, [(-5.0, 5.0)]),
                                               (rastrigin, [(-5.12, 5.12)] * 2), (ackley, [(-5.0, 5.0)] * 2)])
def test_rastrigin_and_ackley_are_solved(function, bounds):
    result = QDEAnnealer(grid_points=64).minimize(function, bounds)
    assert result.fun <= 1e-6 and np.linalg.norm(result.x) <= 1e-3
    assert result.success and result.nit == len(result.trajectory) and result.nfev >= 64 ** len(bounds)


def test_result_is_a_scipy_optimize_result_with_a_trajectory():
    from scipy.optimize import OptimizeResult

    result = QDEAnnealer(grid_points=32).minimize(rastrigin, [(-5.12, 5.12)])
    assert isinstance(result, OptimizeResult)
    for key in ("x", "fun", "nfev", "nit", "success", "message", "trajectory"):
        assert key in result
    assert set(result.trajectory[0]) >= {"D", "energy", "mean", "spread"}


def test_line_ground_state_matches_the_harmonic_closed_form():
    """A parabola sampled on a line: density variance sqrt(D / 2k) and energy sqrt(D k / 2) (scaled units)."""
    from qthybrid.annealer.lines import line_ground_state

    t = (np.arange(400) + 0.5) / 400
    values = 3.0 * (t - 0.5) ** 2                    # scaled to [0, 1]: zeta = 4 (t - 1/2)^2 = k/2 (t - 1/2)^2, k = 8
    D = 1e-4
    density, energy = line_ground_state(values[None, :], D)
    assert np.sum(density[0] * (t - 0.5) ** 2) == pytest.approx(np.sqrt(D / 16), rel=1e-2)
    assert energy[0] == pytest.approx(0.75 * np.sqrt(4 * D), rel=1e-2)   # range 3/4 times E0 = sqrt(D k / 2)


def test_golden_relaxation_along_an_axis_finds_each_lines_minimum():
    from qthybrid.annealer.lines import relax_along_axis

    centres = np.array([0.2, 0.55, 0.9])
    points = np.column_stack([np.zeros(3), centres])

    def f(p):
        return (p[..., 0] - centres[: len(p)]) ** 2 + p[..., 1]

    x, fx = relax_along_axis(f, points, 0, np.zeros(3), np.ones(3), np.full(3, 0.5), f(np.column_stack(
        [np.full(3, 0.5), centres])), steps=40)
    np.testing.assert_allclose(x, centres, atol=1e-6)
    np.testing.assert_allclose(fx, centres, atol=1e-10)


def test_population_solver_works_in_ten_dimensions():
    result = QDEAnnealer(method="population", seed=1).minimize(ackley, [(-5.0, 5.0)] * 10)
    assert result.fun <= 1e-6
    again = QDEAnnealer(method="population", seed=1).minimize(ackley, [(-5.0, 5.0)] * 10)
    assert again.fun == result.fun and again.nfev == result.nfev


def test_circuit_backends_run_the_annealing_program_through_their_own_execute(monkeypatch):
    """QDEAnnealer(backend=...) builds one program and calls that backend's execute with its options."""
    import qthybrid
    from qthybrid.backends.aer import AerBackend

    seen = []
    original = AerBackend.execute

    def spy(self, programs, **overrides):
        seen.append((self.options.form, [p.registers for p in programs], overrides))
        return original(self, programs, **overrides)

    monkeypatch.setattr(AerBackend, "execute", spy)
    backend = qthybrid.get_backend("aer", form="gates")
    via_aer = QDEAnnealer(backend=backend, qubits_per_dim=3, steps=20, polish=False).minimize(
        lambda x: rastrigin(x / 2), [(-5, 5), (-4, 6)])
    assert seen == [("gates", [(3, 3)], {})]
    reference = QDEAnnealer(backend="statevector", qubits_per_dim=3, steps=20, polish=False).minimize(
        lambda x: rastrigin(x / 2), [(-5, 5), (-4, 6)])
    np.testing.assert_allclose(via_aer.probabilities, reference.probabilities, atol=1e-10)
    via_lightning = QDEAnnealer(backend="pennylane:lightning.qubit", qubits_per_dim=3, steps=20,
                                polish=False).minimize(lambda x: rastrigin(x / 2), [(-5, 5), (-4, 6)])
    np.testing.assert_allclose(via_lightning.probabilities, reference.probabilities, atol=1e-10)


def test_adiabatic_circuit_follows_the_ground_state_and_agrees_with_the_classical_solver():
    annealer = QDEAnnealer(backend="statevector", qubits_per_dim=5, polish=False)
    result = annealer.minimize(tilted_double_well, [(-2.0, 2.0)])
    program = result.program
    N = 2 ** program.registers[0]
    k = 2 * np.pi * np.fft.fftfreq(N, d=1.0 / N)
    kinetic = np.real(np.fft.ifft(k[:, None] ** 2 * np.fft.fft(np.eye(N), axis=0), axis=0))
    ground = np.linalg.eigh(program.metadata["D"][-1] * kinetic + np.diag(program.potential))[1][:, 0] ** 2
    assert 0.5 * np.abs(ground - result.probabilities).sum() < 0.15            # exact diagonalisation
    assert np.argmax(ground) == np.argmax(result.probabilities)
    classical = QDEAnnealer(grid_points=2**5, polish=False).minimize(tilted_double_well, [(-2.0, 2.0)])
    assert abs(classical.x[0] - result.x[0]) <= 2 * 4.0 / N                    # the same well, to 2 cells


@pytest.mark.parametrize("backend", ["statevector", "aer", "pennylane"])
def test_every_backend_runs_the_same_minimize_call(backend):
    result = QDEAnnealer(backend=backend, qubits_per_dim=5, steps=300).minimize(tilted_double_well, [(-2.0, 2.0)])
    assert result.x[0] == pytest.approx(-1.0356, abs=1e-3)
    assert result.backend == backend and result.method == "circuit"


def test_bad_inputs_are_refused():
    annealer = QDEAnnealer(grid_points=16)
    with pytest.raises(ValueError, match="low < high"):
        annealer.minimize(rastrigin, [(1.0, -1.0)])
    with pytest.raises(ValueError, match="non-finite values"):
        annealer.minimize(lambda x: np.where(x[..., 0] > 0, np.nan, 1.0), [(-1.0, 1.0)])
    with pytest.raises(ValueError, match="must map an array of shape"):
        annealer.minimize(lambda x: np.zeros(3), [(-1.0, 1.0)])
    with pytest.raises(ValueError, match="at most 20"):
        QDEAnnealer(backend="statevector", qubits_per_dim=11).minimize(rastrigin, [(-1, 1), (-1, 1)])
    with pytest.raises(ValueError, match="unknown backend .quantum.; known backends"):
        QDEAnnealer(backend="quantum")
    with pytest.raises(ValueError, match="decay must be in"):
        QDEAnnealer(decay=1.5)
    with pytest.raises(ValueError, match="D_min .* must not exceed D0"):
        QDEAnnealer(D0=1e-3, D_min=1.0)
    with pytest.raises(ValueError, match="grid solver handles 1-3 dimensions"):
        QDEAnnealer(method="grid").minimize(rastrigin, [(-1, 1)] * 4)


class Counting:
    """An independent count of the points an objective is asked for."""

    def __init__(self, f):
        self.f, self.points = f, 0

    def __call__(self, x):
        self.points += int(np.prod(np.shape(x)[:-1]))
        return self.f(x)


def bowl_of_wells(x):
    """Separable, 2^d minima per box: x^4 - 3x^2 + x per coordinate (global well at x = -1.30)."""
    x = np.asarray(x, dtype=float)
    return np.sum(x**4 - 3 * x**2 + x, -1)


BOWL_MIN_1D = -3.513905038934789        # x^4 - 3x^2 + x at x = -1.30083957


@pytest.mark.parametrize("method, maxfev", [("population", 60), ("population", 700), ("population", 5000),
                                            ("grid", 600), ("grid", 5000)])
def test_every_method_honours_the_budget_and_counts_every_point(method, maxfev):
    f = Counting(bowl_of_wells)
    result = QDEAnnealer(method=method, maxfev=maxfev, seed=3).minimize(f, [(-2.0, 2.0)] * 3)
    assert result.nfev == f.points <= maxfev
    assert result.fun == bowl_of_wells(result.x)            # x and fun belong together
    if not result.success:
        assert result.status == 1 and "budget" in result.message


def test_circuit_solver_honours_the_budget():
    f = Counting(tilted_double_well)
    result = QDEAnnealer(backend="statevector", qubits_per_dim=4, steps=50, maxfev=40).minimize(f, [(-2.0, 2.0)])
    assert result.nfev == f.points <= 40 and result.fun == tilted_double_well(result.x)
    with pytest.raises(ValueError, match="maxfev"):
        QDEAnnealer(backend="statevector", qubits_per_dim=6, maxfev=40).minimize(tilted_double_well, [(-2.0, 2.0)])


def test_success_means_convergence_not_a_spent_budget():
    bounds = [(-2.0, 2.0)] * 6
    converged = QDEAnnealer(seed=5).minimize(bowl_of_wells, bounds)
    assert converged.success and converged.status == 0 and "agree" in converged.message
    assert converged.fun == pytest.approx(6 * BOWL_MIN_1D, abs=1e-3)
    starved = QDEAnnealer(seed=5, maxfev=400).minimize(bowl_of_wells, bounds)
    assert not starved.success and starved.status == 1 and starved.nfev <= 400
    single = QDEAnnealer(seed=5, replicas=1).minimize(bowl_of_wells, bounds)
    assert single.success == ("converged" in single.message)


def test_nan_is_refused_never_reported_as_success():
    def holed(x):
        value = bowl_of_wells(x)
        return np.where(np.abs(x[..., 0] - 0.7) < 0.05, np.nan, value)

    for method in ("population", "grid"):
        with pytest.raises(ValueError, match="non-finite values.*at x ="):
            QDEAnnealer(method=method, seed=0).minimize(holed, [(-2.0, 2.0)] * 2)


def test_a_nan_circuit_readout_is_never_a_success(monkeypatch):
    annealer = QDEAnnealer(backend="statevector", qubits_per_dim=3, steps=10)
    solve = annealer._circuit

    def broken(objective, bounds, x0):
        solved = solve(objective, bounds, x0)
        solved.probabilities = np.full_like(solved.probabilities, np.nan)
        return solved

    monkeypatch.setattr(annealer, "_circuit", broken)
    result = annealer.minimize(tilted_double_well, [(-2.0, 2.0)])
    assert not result.success and "non-finite probabilities" in result.message
    assert result.fun == tilted_double_well(result.x)


def test_callback_sees_each_stage_and_can_stop_the_run():
    seen = []

    def callback(intermediate_result):
        seen.append(intermediate_result)
        return len(seen) == 2

    result = QDEAnnealer(seed=2).minimize(bowl_of_wells, [(-2.0, 2.0)] * 4, callback=callback)
    assert len(seen) == 2 and result.nit == 2 and not result.success and result.status == 3
    assert seen[0].nfev < seen[1].nfev <= result.nfev
    assert seen[1].fun == result.fun or result.fun <= seen[1].fun


def test_trajectory_holds_the_energy_estimate_and_walker_statistics():
    result = QDEAnnealer(seed=4).minimize(bowl_of_wells, [(-2.0, 2.0)] * 5)
    assert result.nit == len(result.trajectory) >= 2
    for replica in {record["replica"] for record in result.trajectory}:
        stages = [r for r in result.trajectory if r["replica"] == replica]
        assert all(b["D"] <= a["D"] for a, b in zip(stages, stages[1:]))
    for record in result.trajectory:
        assert set(record) >= {"D", "energy", "mean", "spread", "best", "mean_value", "walkers", "tunnelling",
                               "parents", "nfev"}
        assert np.isfinite(record["energy"]) and record["best"] <= record["mean_value"]
        assert len(record["mean"]) == 5 and 1 <= record["parents"] <= record["walkers"]


def test_x0_is_evaluated_and_can_only_help():
    x0 = np.full(4, -1.30084)                       # the global minimiser
    result = QDEAnnealer(seed=0, replicas=1, maxiter=1, polish=False).minimize(bowl_of_wells, [(-2.0, 2.0)] * 4,
                                                                              x0=x0)
    assert result.fun <= bowl_of_wells(x0)
    with pytest.raises(ValueError, match="x0 must be finite and inside the bounds"):
        QDEAnnealer().minimize(bowl_of_wells, [(-2.0, 2.0)] * 2, x0=[3.0, 0.0])
    with pytest.raises(ValueError, match="x0 must have one coordinate per dimension"):
        QDEAnnealer().minimize(bowl_of_wells, [(-2.0, 2.0)] * 2, x0=[0.0])


def test_same_seed_same_result_and_auto_picks_the_walkers():
    runs = [QDEAnnealer(seed=11).minimize(bowl_of_wells, [(-2.0, 2.0)] * 3) for _ in range(2)]
    assert runs[0].method == "population"
    np.testing.assert_array_equal(runs[0].x, runs[1].x)
    assert runs[0].nfev == runs[1].nfev and runs[0].trajectory == runs[1].trajectory


def test_grid_refuses_what_the_budget_or_memory_cannot_hold_before_evaluating():
    f = Counting(bowl_of_wells)
    with pytest.raises(ValueError, match="grid_points=128 in 3 dimensions is 2097152 evaluations"):
        QDEAnnealer(method="grid", grid_points=128, maxfev=10_000).minimize(f, [(-2.0, 2.0)] * 3)
    with pytest.raises(ValueError, match="GiB"):
        QDEAnnealer(method="grid", grid_points=4096, maxfev=10**12).minimize(f, [(-2.0, 2.0)] * 3)
    assert f.points == 0


def test_cli_refuses_zero_dimensions_and_reports_the_budget(capsys):
    from qthybrid.cli import main

    with pytest.raises(SystemExit) as refused:
        main(["anneal", "rastrigin", "--dims", "0"])
    assert refused.value.code == 2 and "--dims" in capsys.readouterr().err
    assert main(["--json", "anneal", "rastrigin", "--dims", "3", "--maxfev", "500", "--seed", "1"]) == 0
    import json

    payload = json.loads(capsys.readouterr().out)
    assert payload["nfev"] <= 500 and len(payload["x"]) == 3 and "success" in payload


def test_named_functions_have_their_minimum_at_their_minimisers():
    for function in FUNCTIONS.values():
        for point in function.minimisers:
            assert function(np.array(point)) == pytest.approx(function.minimum, abs=1e-5)
    for function in SCALABLE.values():
        for d in (2, 7):
            x = function.minimiser(d)
            assert np.all((x >= function.box[0]) & (x <= function.box[1]))
            gradient = [(function(x + h) - function(x - h)) / 2e-6 for h in 1e-6 * np.eye(d)]
            inside = (x > function.box[0] + 1e-3) & (x < function.box[1] - 1e-3)
            assert np.all(np.abs(np.asarray(gradient)[inside]) < 1e-3), function.name   # a stationary point
