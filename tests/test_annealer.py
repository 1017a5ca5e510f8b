"""QDE annealer: ground states against closed forms, tunnelling, test functions, circuit solvers."""

import numpy as np
import pytest

from qthybrid import QDEAnnealer
from qthybrid.annealer import circuit as circuit_solver
from qthybrid.annealer.grid import Grid, relax
from qthybrid.annealer.objectives import FUNCTIONS, ackley, rastrigin, tilted_double_well


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
    result = QDEAnnealer(polish=False).minimize(tilted_double_well, [(-2.0, 2.0)], x0=[1.0])
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


def test_population_solver_works_in_ten_dimensions():
    result = QDEAnnealer(method="population", seed=1).minimize(ackley, [(-5.0, 5.0)] * 10)
    assert result.fun <= 1e-6
    again = QDEAnnealer(method="population", seed=1).minimize(ackley, [(-5.0, 5.0)] * 10)
    assert again.fun == result.fun and again.nfev == result.nfev


def test_circuit_backends_agree_with_the_statevector():
    program, _ = circuit_solver.make_program(tilted_double_well, [(-2.0, 2.0)], 4, 1e-2, 1e-5, 40, 0.5)
    reference = circuit_solver.statevector_probabilities(program)
    np.testing.assert_allclose(circuit_solver.aer_probabilities(program), reference, atol=1e-10)
    np.testing.assert_allclose(circuit_solver.pennylane_probabilities(program), reference, atol=1e-10)
    two_d, _ = circuit_solver.make_program(lambda x: rastrigin(x / 2), [(-5, 5), (-4, 6)], 3, 1e-2, 1e-5, 20, 0.5)
    np.testing.assert_allclose(circuit_solver.aer_probabilities(two_d), circuit_solver.statevector_probabilities(two_d),
                               atol=1e-10)
    np.testing.assert_allclose(circuit_solver.pennylane_probabilities(two_d),
                               circuit_solver.statevector_probabilities(two_d), atol=1e-10)


def test_adiabatic_circuit_follows_the_ground_state_and_agrees_with_the_classical_solver():
    annealer = QDEAnnealer(backend="statevector", qubits_per_dim=5, polish=False)
    result = annealer.minimize(tilted_double_well, [(-2.0, 2.0)])
    program = result.program
    N = 2**program.qubits_per_dim
    k = 2 * np.pi * np.fft.fftfreq(N, d=1.0 / N)
    kinetic = np.real(np.fft.ifft(k[:, None] ** 2 * np.fft.fft(np.eye(N), axis=0), axis=0))
    ground = np.linalg.eigh(program.D[-1] * kinetic + np.diag(program.zeta))[1][:, 0] ** 2
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
    with pytest.raises(ValueError, match="backend must be one of"):
        QDEAnnealer(backend="quantum")
    with pytest.raises(ValueError, match="decay must be in"):
        QDEAnnealer(decay=1.5)
    with pytest.raises(ValueError, match="D_min .* must not exceed D0"):
        QDEAnnealer(D0=1e-3, D_min=1.0)
    with pytest.raises(ValueError, match="grid solver handles 1-3 dimensions"):
        QDEAnnealer(method="grid").minimize(rastrigin, [(-1, 1)] * 4)


def test_named_functions_have_their_minimum_at_their_minimisers():
    for function in FUNCTIONS.values():
        for point in function.minimisers:
            assert function(np.array(point)) == pytest.approx(function.minimum, abs=1e-5)
