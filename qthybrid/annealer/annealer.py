"""``QDEAnnealer``: optimisation as Schrodinger dynamics (paper 2), on any backend.

The outer loop lowers D (annealing the scale); the inner loop evolves to the
ground state of H_D = -D laplacian + zeta at fixed D. ``minimize`` returns a
``scipy.optimize.OptimizeResult`` (x, fun, nfev, nit, success, message) with
``trajectory``: per D stage, the ground-state energy estimate and the mean and
spread of the position distribution.

Solvers (``method``):
* ``"grid"`` (``backend="analytic"``, 1-3 dimensions): imaginary time on a grid;
* ``"population"`` (``backend="analytic"``, any dimension): diffusing walkers;
* ``"circuit"`` (``backend="statevector" | "aer" | "pennylane"``): real-time
  adiabatic evolution on n qubits per dimension.
``method="auto"`` picks grid up to 3 dimensions, population above, and circuit
for the simulated-quantum backends.
"""

from __future__ import annotations

import math
import time

import numpy as np
from scipy.optimize import OptimizeResult, minimize

from . import circuit as circuit_solver
from .grid import Grid, relax
from .population import population_stage

_METHODS = ("auto", "grid", "population", "circuit")
_BACKENDS = ("analytic", "statevector", "aer", "pennylane")


def _check_bounds(bounds) -> np.ndarray:
    try:
        array = np.asarray(bounds, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"bounds must be a sequence of (low, high) pairs, got {bounds!r}") from None
    if array.ndim != 2 or array.shape[1] != 2 or len(array) == 0:
        raise ValueError(f"bounds must be a sequence of (low, high) pairs, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError("bounds must be finite")
    bad = np.flatnonzero(array[:, 1] <= array[:, 0])
    if bad.size:
        raise ValueError(f"bounds must have low < high; dimension {int(bad[0])} has {tuple(array[bad[0]])}")
    return array


class QDEAnnealer:
    """Minimise f over a box by annealing the kinetic weight D of the QDE (see module docstring).

    Args:
        backend: ``"analytic"`` (classical solvers) or ``"statevector"``, ``"aer"``,
            ``"pennylane"`` (circuit solver).
        method: ``"auto"``, ``"grid"``, ``"population"`` or ``"circuit"``.
        D0, D_min: first and last D. None picks them from the problem: for the grid,
            0.02 R L^2 down to 512 R L^2 / N^4 (R the range of f on the grid, L the mean box
            width: from a ground state spanning the box to one about four grid cells wide,
            which still weighs whole basins rather than single grid values); in the unit-box
            units of the population and circuit solvers, 1e-2 down to 1e-7 (1e-5 circuit).
        decay: D is multiplied by this after each stage (0 < decay < 1).
        dtau: imaginary time step in units of 1/R (grid), or the reweighting strength
            (population).
        inner_tol, max_inner: the inner loop stops when the energy changes by less than
            ``inner_tol`` (relative) or after ``max_inner`` steps (grid); the population
            solver takes ``max_inner`` iterations per stage.
        grid_points: points per dimension (grid solver).
        walkers: population size (default 20 per dimension, at least 200).
        population_steps: diffusion-reaction iterations per D stage (population solver).
        qubits_per_dim, steps, dt: the circuit solver's grid (2^n points per dimension),
            number of Trotter steps and step size (unit box, zeta in [0, 1]).
        shots: circuit readout by sampling (None: exact distribution).
        candidates: how many density peaks (grid) or most probable grid points (circuit)
            are polished; the best polished point is returned.
        polish: finish with L-BFGS-B from each start, confined to a local box (two grid
            cells, or 5 % of the box for walkers) so it refines the basin the annealer chose
            instead of jumping to another; its evaluations are counted.
        seed: random seed (population solver, shots).
        device: PennyLane device name (backend="pennylane").
    """

    def __init__(self, backend: str = "analytic", method: str = "auto", D0: float | None = None,
                 D_min: float | None = None, decay: float = 0.5, dtau: float = 1.0, inner_tol: float = 1e-6,
                 max_inner: int = 200, grid_points: int = 128, walkers: int | None = None,
                 population_steps: int = 20,
                 qubits_per_dim: int = 5, steps: int = 800, dt: float = 0.5, shots: int | None = None,
                 candidates: int = 3, polish: bool = True, seed: int | None = None,
                 device: str = "default.qubit"):
        if backend not in _BACKENDS:
            raise ValueError(f"backend must be one of {_BACKENDS}, got {backend!r}")
        if method not in _METHODS:
            raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
        if not 0 < decay < 1:
            raise ValueError(f"decay must be in (0, 1), got {decay!r}")
        for name, value in (("dtau", dtau), ("inner_tol", inner_tol), ("dt", dt)):
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be finite and > 0, got {value!r}")
        for name, value in (("D0", D0), ("D_min", D_min)):
            if value is not None and not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be None or finite and > 0, got {value!r}")
        if D0 is not None and D_min is not None and D_min > D0:
            raise ValueError(f"D_min ({D_min}) must not exceed D0 ({D0})")
        self.backend, self.method, self.D0, self.D_min, self.decay = backend, method, D0, D_min, decay
        self.dtau, self.inner_tol, self.max_inner, self.grid_points = dtau, inner_tol, max_inner, grid_points
        self.walkers, self.qubits_per_dim, self.steps, self.dt = walkers, qubits_per_dim, steps, dt
        self.population_steps = population_steps
        self.shots, self.candidates, self.polish, self.seed, self.device = shots, candidates, polish, seed, device

    # ---------------------------------------------------------------------------------------
    def minimize(self, f, bounds, x0=None) -> OptimizeResult:
        """Minimise the vectorised objective ``f`` (array (..., d) -> (...)) over ``bounds``.

        ``x0`` (grid solver) starts the wave function as a narrow packet there instead of
        spread over the box.
        """
        bounds = _check_bounds(bounds)
        method = self.method
        if method == "auto":
            method = "circuit" if self.backend != "analytic" else ("grid" if len(bounds) <= 3 else "population")
        if method == "circuit" and self.backend == "analytic":
            raise ValueError("method='circuit' needs backend='statevector', 'aer' or 'pennylane'")
        if method != "circuit" and self.backend != "analytic":
            raise ValueError(f"backend={self.backend!r} runs method='circuit' only")
        if method == "grid" and len(bounds) > 3:
            raise ValueError(f"the grid solver handles 1-3 dimensions, got {len(bounds)}: use method='population'")
        started = time.perf_counter()
        solve = {"grid": self._grid, "population": self._population, "circuit": self._circuit}[method]
        result = solve(f, bounds, x0)
        if self.polish:
            result = self._polish(f, bounds, result)
        result.method, result.backend = method, self.backend
        result.seconds = time.perf_counter() - started
        return result

    # Classical grid --------------------------------------------------------------------------------
    def _grid(self, f, bounds, x0):
        n = self.grid_points
        if n ** len(bounds) > 2**24:
            raise ValueError(f"{n}^{len(bounds)} grid points are too many (at most 2^24)")
        grid = Grid.over(bounds, n)
        mesh = grid.mesh()
        values = _evaluate(f, mesh)
        R = float(values.max() - values.min()) or 1.0
        zeta = values - values.min()
        L = float(np.mean(grid.L))
        D0 = self.D0 if self.D0 is not None else 0.02 * R * L**2
        D_min = self.D_min if self.D_min is not None else min(D0, 512 * R * L**2 / n**4)
        k2 = grid.k_squared()
        if x0 is None:
            psi = np.ones(values.shape)
        else:
            x0 = np.asarray(x0, dtype=float)
            width = grid.L / 20
            psi = np.exp(-np.sum(((mesh - x0) / width) ** 2, axis=-1) / 4)
        psi = psi / np.linalg.norm(psi)
        trajectory, D, stage = [], D0, 0
        while D >= D_min * (1 - 1e-12):
            psi, E, steps = relax(psi, zeta, k2, D, self.dtau / R, self.inner_tol, self.max_inner)
            density = psi**2
            mean = np.tensordot(density, mesh, axes=(tuple(range(len(bounds))), tuple(range(len(bounds)))))
            spread = np.sqrt(np.tensordot(density, (mesh - mean) ** 2,
                                          axes=(tuple(range(len(bounds))), tuple(range(len(bounds))))))
            trajectory.append({"D": D, "energy": E + float(values.min()), "mean": mean.tolist(),
                               "spread": spread.tolist(), "inner_steps": steps})
            D *= self.decay
            stage += 1
        starts = _density_peaks(psi**2, mesh, self.candidates)
        best = min(starts, key=lambda i: values[i])
        return OptimizeResult(x=mesh[best], fun=float(values[best]), starts=[mesh[i] for i in starts],
                              polish_radius=2 * grid.h,
                              nfev=int(values.size), nit=stage, success=True,
                              message=f"annealed D from {D0:.3g} to {trajectory[-1]['D']:.3g} on {n} points "
                                      f"per dimension", trajectory=trajectory)

    # Classical population --------------------------------------------------------------------------
    def _population(self, f, bounds, x0):
        rng = np.random.default_rng(self.seed)
        d = len(bounds)
        low, width = bounds[:, 0], bounds[:, 1] - bounds[:, 0]

        def f_unit(u):
            return _evaluate(f, low + u * width)

        count = self.walkers or max(200, 20 * d)
        walkers = rng.random((count, d))
        values = f_unit(walkers)
        nfev = count
        D = self.D0 if self.D0 is not None else 1e-2
        D_min = self.D_min if self.D_min is not None else 1e-7
        best_value, best_u = values.min(), walkers[np.argmin(values)].copy()
        trajectory, stage = [], 0
        while D >= D_min * (1 - 1e-12):
            walkers, values, used, (value, u) = population_stage(f_unit, walkers, values, D, self.dtau,
                                                                 self.population_steps, rng)
            nfev += used
            if value < best_value:
                best_value, best_u = value, u
            positions = low + walkers * width
            trajectory.append({"D": D * float(np.mean(width)) ** 2, "energy": float(values.mean()),
                               "mean": positions.mean(0).tolist(), "spread": positions.std(0).tolist()})
            D *= self.decay
            stage += 1
        return OptimizeResult(x=low + best_u * width, fun=float(best_value), starts=[low + best_u * width],
                              polish_radius=0.05 * width,
                              nfev=nfev, nit=stage, success=True,
                              message=f"{count} walkers, {stage} stages", trajectory=trajectory)

    # Circuit ---------------------------------------------------------------------------------------
    def _circuit(self, f, bounds, x0):
        D0 = self.D0 if self.D0 is not None else 1e-2
        D_min = self.D_min if self.D_min is not None else 1e-5
        program, values = circuit_solver.make_program(f, bounds, self.qubits_per_dim, D0, D_min,
                                                      self.steps, self.dt)
        if self.backend == "statevector":
            probabilities = circuit_solver.statevector_probabilities(program)
            if self.shots is not None:
                rng = np.random.default_rng(self.seed)
                probabilities = rng.multinomial(self.shots, probabilities / probabilities.sum()) / self.shots
        elif self.backend == "aer":
            probabilities = circuit_solver.aer_probabilities(program, self.shots, self.seed)
        else:
            probabilities = circuit_solver.pennylane_probabilities(program, self.device, self.shots)
        flat_values = values.flatten(order="F")
        axes = program.points()
        N = 2**self.qubits_per_dim
        order = np.argsort(-probabilities)[: self.candidates]
        best = min(order, key=lambda i: flat_values[i])

        def point(i):
            return np.array([axes[a][(i // N**a) % N] for a in range(len(bounds))])

        coordinates = point(best)
        mean = [float(np.sum(probabilities * axes[a][(np.arange(len(probabilities)) // N**a) % N]))
                for a in range(len(bounds))]
        return OptimizeResult(x=coordinates, fun=float(flat_values[best]), starts=[point(i) for i in order],
                              polish_radius=2 * (bounds[:, 1] - bounds[:, 0]) / N,
                              nfev=int(values.size), nit=1, success=True, probabilities=probabilities,
                              program=program,
                              message=f"adiabatic sweep of D from {D0:.3g} to {D_min:.3g} in {self.steps} "
                                      f"steps on {program.num_qubits} qubits ({self.backend})",
                              trajectory=[{"D": D_min, "energy": float(np.sum(probabilities * flat_values)),
                                           "mean": mean, "spread": None}])

    # Polish ----------------------------------------------------------------------------------------
    def _polish(self, f, bounds, result):
        """L-BFGS-B from each start point; the best result wins (every evaluation counted)."""
        def objective(x):
            return float(_evaluate(f, np.asarray(x)[None, :])[0])

        for start in result.starts:
            radius = np.asarray(result.polish_radius, dtype=float)
            for attempt in range(4):
                # A local box around the start; while the minimum sits on its edge (a long
                # valley), double it, and after three tries use the whole bounds.
                box = bounds if attempt == 3 else np.column_stack(
                    [np.maximum(bounds[:, 0], start - radius), np.minimum(bounds[:, 1], start + radius)])
                local = minimize(objective, start, method="L-BFGS-B", bounds=box)
                result.nfev += int(local.nfev)
                on_edge = np.any(np.isclose(local.x, box[:, 0]) & (box[:, 0] > bounds[:, 0])) or \
                    np.any(np.isclose(local.x, box[:, 1]) & (box[:, 1] < bounds[:, 1]))
                start, radius = np.asarray(local.x), 2 * radius
                if not on_edge:
                    break
            if local.fun < result.fun:
                result.x, result.fun = np.asarray(local.x), float(local.fun)
        result.polished = True
        return result


def _density_peaks(density: np.ndarray, mesh: np.ndarray, count: int) -> list:
    """Indices of the ``count`` highest local maxima of ``density`` on the grid."""
    from scipy.ndimage import maximum_filter

    peaks = np.argwhere(density == maximum_filter(density, size=3, mode="constant"))
    ranked = sorted((tuple(p) for p in peaks), key=lambda p: -density[p])
    return ranked[:count] or [np.unravel_index(np.argmax(density), density.shape)]


def _evaluate(f, points: np.ndarray) -> np.ndarray:
    values = np.asarray(f(points), dtype=float)
    if values.shape != points.shape[:-1]:
        raise ValueError(f"the objective must map an array of shape (..., d) to shape (...): "
                         f"got {values.shape} for input {points.shape}")
    if not np.all(np.isfinite(values)):
        raise ValueError("the objective returned non-finite values (NaN or inf) at some points")
    return values
