"""``QDEAnnealer``: optimisation as Schrodinger dynamics (paper 2), on any backend.

The outer loop lowers D (annealing the scale); the inner loop searches for the
ground state of H_D = -D laplacian + zeta at fixed D. ``minimize`` returns a
``scipy.optimize.OptimizeResult`` (x, fun, nfev, nit, success, status, message)
with ``trajectory``: one record per D stage (the ground-state energy estimate, the
mean and spread of the position distribution, and for walkers their statistics).

Solvers (``method``):
* ``"population"`` (``backend="analytic"``, any dimension): walkers that carry the
  wave function, moved one axis at a time by the exactly solved 1-D QDE, relaxed and
  branched; independent replicas until two agree (``population.py``);
* ``"grid"`` (``backend="analytic"``, 1-3 dimensions): imaginary time on a grid
  (``grid.py``);
* ``"circuit"`` (any backend that executes programs: ``"statevector"``, ``"aer"``,
  ``"pennylane"``, a plug-in, or a ``Backend`` instance such as
  ``get_backend("aer", device="GPU")``): real-time adiabatic evolution on n qubits per
  dimension, built as a :class:`~qthybrid.programs.SplitOperatorProgram`
  (:func:`qthybrid.programs.annealing_program`) and run through the backend's own
  ``execute``, with its options.
``method="auto"`` picks the circuit for the simulated-quantum backends, the grid when
``grid_points`` is given (1-3 dimensions), and the population solver otherwise: its
defaults were chosen on ``benchmarks/anneal.py`` against scipy's global optimisers.

Every method spends at most ``maxfev`` evaluations (default 2000 per dimension, the
number of visits dual_annealing's default chain makes, plus the grid points of an explicit
grid or of the circuit); ``x`` and ``fun`` are always the best point evaluated and its
value. ``status``: 0 converged (``success``), 1 the budget ran out, 2 not converged (the
walker replicas disagree, the last grid stage did not relax, or the circuit's readout is
not finite), 3 a callback stopped the run.
"""

from __future__ import annotations

import math
import time

import numpy as np
from scipy.optimize import OptimizeResult

from ..programs import annealing_program, check_annealing_size, grid_points
from .grid import anneal_on_grid
from .local import relax
from .objective import LOCAL_SEARCH, BudgetExhausted, CountedObjective, StopRequested
from .population import WalkerSettings, anneal

_METHODS = ("auto", "grid", "population", "circuit")

#: Population-solver settings not exposed as arguments (chosen on benchmarks/anneal.py).
_LINE_RELAX_STEPS = 10          # golden-section steps per proposal along a line
_LOCAL_ITERATIONS = 30          # L-BFGS-B iterations per walker per stage
_POLISH_ITERATIONS = 15000      # the final L-BFGS-B polish
_BOX_LINE_FACTOR = 4            # above 3 dimensions, the whole-box lines take 4 x line_points samples


def check_bounds(bounds) -> np.ndarray:
    """``bounds`` as an array (d, 2); a ``scipy.optimize.Bounds`` is accepted too."""
    if hasattr(bounds, "lb") and hasattr(bounds, "ub"):
        low, high = np.broadcast_arrays(np.atleast_1d(np.asarray(bounds.lb, dtype=float)),
                                        np.atleast_1d(np.asarray(bounds.ub, dtype=float)))
        bounds = np.column_stack([low, high])
    try:
        array = np.asarray(bounds, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"bounds must be a sequence of (low, high) pairs, got {bounds!r}") from None
    if array.ndim != 2 or array.shape[1] != 2 or len(array) == 0:
        raise ValueError(f"bounds must be a non-empty sequence of (low, high) pairs (one per dimension, at least "
                         f"one), got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError("bounds must be finite")
    bad = np.flatnonzero(array[:, 1] <= array[:, 0])
    if bad.size:
        raise ValueError(f"bounds must have low < high; dimension {int(bad[0])} has {tuple(array[bad[0]])}")
    return array


def check_x0(x0, bounds: np.ndarray) -> np.ndarray | None:
    """``x0`` as a float array of shape (d,) inside ``bounds``, or None."""
    if x0 is None:
        return None
    x0 = np.asarray(x0, dtype=float).reshape(-1)
    if x0.shape != (len(bounds),):
        raise ValueError(f"x0 must have one coordinate per dimension ({len(bounds)}), got shape {x0.shape}")
    if not np.all(np.isfinite(x0)) or np.any(x0 < bounds[:, 0]) or np.any(x0 > bounds[:, 1]):
        raise ValueError(f"x0 must be finite and inside the bounds, got {x0.tolist()}")
    return x0


def _program_backend(backend, device):
    """None for the classical solvers ("analytic"), else the Backend instance that executes programs."""
    from ..backends import Backend, get_backend

    if isinstance(backend, Backend):
        if device is not None:
            raise ValueError("device= applies to a backend given by name; a Backend instance carries its own")
        return None if backend.name == "analytic" else _checked_executor(backend)
    if not isinstance(backend, str):
        raise TypeError(f"backend must be a backend name or a qthybrid Backend instance, got {type(backend).__name__}")
    if backend == "analytic":
        return None
    options = {} if device is None else {"device": device}
    return _checked_executor(get_backend(backend, **options))


def _checked_executor(backend):
    if not backend.capabilities.programs:
        raise ValueError(f"backend {backend.name!r} does not execute programs, so it cannot run the circuit solver")
    return backend


class QDEAnnealer:
    """Minimise f over a box by annealing the kinetic weight D of the QDE (see module docstring).

    Args:
        backend: ``"analytic"`` (classical solvers), the name of a program backend
            (``"statevector"``, ``"aer"``, ``"pennylane"``, ``"pennylane:lightning.qubit"`` or a
            plug-in) or a ``Backend`` instance, whose options are honoured (circuit solver).
        method: ``"auto"``, ``"population"``, ``"grid"`` or ``"circuit"``.
        maxfev: evaluation budget, honoured by every method (None: 2000 per dimension, or
            the explicit grid plus that).
        maxiter: at most this many D stages (per replica for the walkers; None: the schedule's).
        D0, D_min: first and last D. None picks them from the problem: for the grid, 0.02 R L^2
            down to 512 R L^2 / N^4 (R the range of f on the grid, L the mean box width); for
            the walkers (unit box), 4e-3 (the line window spans the box) down to 4e-11; for the
            circuit, 1e-2 down to 1e-5.
        decay: D is multiplied by this after each stage (0 < decay < 1; None: 1/2 on the grid,
            1/16 for the walkers, whose line window then halves per stage).
        dtau, inner_tol, max_inner: the grid's imaginary time step (in 1/R) and its stopping
            rule at fixed D (relative energy change, or at most ``max_inner`` steps).
        grid_points: points per dimension of the grid solver (None: from the budget, at most
            256); giving it makes ``method="auto"`` use the grid in 1-3 dimensions.
        walkers: walkers per replica (None: 4 in 1-2 dimensions, 3 in 3, 2 above).
        line_points: samples per line in the walkers' one-axis moves.
        replicas: at most this many independent walker replicas; the run stops when two agree.
        tol: two replicas agree when their minima differ by at most tol (1 + |f|).
        qubits_per_dim, steps, dt: the circuit solver's grid (2^n points per dimension),
            number of Trotter steps and step size (unit box, zeta in [0, 1]).
        shots: circuit readout by sampling (None: the backend's own ``shots`` option, exact by default).
        candidates: how many density peaks (grid) or most probable grid points (circuit)
            are polished.
        polish: finish with L-BFGS-B (walkers: from each replica's best; grid and circuit:
            from each candidate, confined to a local box that grows only while the minimum sits
            on its edge); its evaluations are counted.
        seed: random seed, an int or a ``numpy.random.Generator`` (walkers, shots); the same seed
            gives the same result.
        device: PennyLane device name when ``backend="pennylane"`` is given by name.
        progress: a progress bar for long grid runs (None: on a terminal, for grids of 2^18
            points or more).
    """

    def __init__(self, backend="analytic", method: str = "auto", maxfev: int | None = None,
                 maxiter: int | None = None, D0: float | None = None, D_min: float | None = None, decay: float | None = None, dtau: float = 1.0,
                 inner_tol: float = 1e-6, max_inner: int = 200, grid_points: int | None = None,
                 walkers: int | None = None, line_points: int = 24, replicas: int = 4, tol: float = 1e-6,
                 qubits_per_dim: int = 5, steps: int = 800, dt: float = 0.5, shots: int | None = None,
                 candidates: int = 3, polish: bool = True, seed: int | None = None,
                 device: str | None = None, progress: bool | None = None):
        self.executor = _program_backend(backend, device)
        backend = "analytic" if self.executor is None else self.executor.name
        if method not in _METHODS:
            raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
        if decay is not None and not 0 < decay < 1:
            raise ValueError(f"decay must be in (0, 1), got {decay!r}")
        for name, value in (("dtau", dtau), ("inner_tol", inner_tol), ("dt", dt), ("tol", tol)):
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be finite and > 0, got {value!r}")
        for name, value in (("D0", D0), ("D_min", D_min)):
            if value is not None and not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be None or finite and > 0, got {value!r}")
        if D0 is not None and D_min is not None and D_min > D0:
            raise ValueError(f"D_min ({D_min}) must not exceed D0 ({D0})")
        for name, value, least in (("maxfev", maxfev, 1), ("maxiter", maxiter, 1), ("grid_points", grid_points, 2),
                                   ("walkers", walkers, 1)):
            if value is not None and not (isinstance(value, (int, np.integer)) and value >= least):
                raise ValueError(f"{name} must be None or an int >= {least}, got {value!r}")
        for name, value, least in (("line_points", line_points, 3), ("replicas", replicas, 1),
                                   ("max_inner", max_inner, 1), ("candidates", candidates, 1)):
            if not (isinstance(value, (int, np.integer)) and value >= least):
                raise ValueError(f"{name} must be an int >= {least}, got {value!r}")
        self.backend, self.method, self.maxfev, self.D0, self.D_min, self.decay = backend, method, maxfev, D0, D_min, decay
        self.dtau, self.inner_tol, self.max_inner, self.grid_points = dtau, inner_tol, max_inner, grid_points
        self.walkers, self.line_points, self.replicas, self.tol = walkers, line_points, replicas, tol
        self.qubits_per_dim, self.steps, self.dt = qubits_per_dim, steps, dt
        self.shots, self.candidates, self.polish, self.seed, self.device = shots, candidates, polish, seed, device
        self.progress, self.maxiter = progress, maxiter

    # ---------------------------------------------------------------------------------------
    def minimize(self, f, bounds, x0=None, callback=None) -> OptimizeResult:
        """Minimise the vectorised objective ``f`` (array (..., d) -> (...)) over ``bounds``.

        ``x0`` joins the first replica's walkers (population) or starts the wave function as a
        narrow packet there (grid). ``callback(intermediate_result)`` is called after each D
        stage with an ``OptimizeResult`` (x, fun, nfev, nit and the stage's record); returning
        True stops the run (``success=False``).
        """
        return self._run(f, bounds, x0, callback)

    def _run(self, f, bounds, x0=None, callback=None, on_new_best=None, minimizer_kwargs=None) -> OptimizeResult:
        """``minimize`` with the hooks ``qthybrid.optimize.qde`` also needs: ``on_new_best(x, f, context)``
        for every new lowest value, and ``minimizer_kwargs`` for the final polish."""
        bounds = check_bounds(bounds)
        x0 = check_x0(x0, bounds)
        d = len(bounds)
        method = self._method_for(d)
        budget = self._budget(method, d)
        objective = CountedObjective(f, bounds, budget, on_new_best)
        trajectory: list = []

        def on_stage(record):
            if callback is not None:
                state = OptimizeResult(x=objective.best_x.copy(), fun=objective.best_f, nfev=objective.nfev,
                                       nit=len(trajectory), stage=record)
                if callback(state):
                    raise StopRequested("the callback asked to stop")

        started = time.perf_counter()
        result = OptimizeResult(method=method, backend=self.backend, trajectory=trajectory, maxfev=budget)
        try:
            if method == "population":
                converged, message = self._population(objective, bounds, x0, trajectory, on_stage, minimizer_kwargs)
            elif method == "grid":
                converged, message = self._grid(objective, bounds, x0, trajectory, on_stage, minimizer_kwargs)
            else:
                converged, message = self._run_circuit(objective, bounds, x0, result, on_stage, minimizer_kwargs)
            status = 0 if converged else 2
        except BudgetExhausted:
            status, message = 1, f"the evaluation budget maxfev={budget} ran out before convergence"
        except StopRequested:
            status, message = 3, "stopped early: the callback returned True"
        if objective.best_x is None:
            raise ValueError(f"maxfev={budget} is too small: not one point could be evaluated")
        result.update(x=objective.best_x.copy(), fun=objective.best_f, nfev=objective.nfev, nit=len(trajectory),
                      success=status == 0, status=status, message=message,
                      seconds=time.perf_counter() - started)
        return result

    def _method_for(self, d: int) -> str:
        method = self.method
        if method == "auto":
            if self.backend != "analytic":
                method = "circuit"
            else:
                method = "grid" if self.grid_points is not None and d <= 3 else "population"
        if method == "circuit" and self.executor is None:
            raise ValueError("method='circuit' needs a backend that executes programs: 'statevector', 'aer', "
                             "'pennylane' or a Backend instance")
        if method != "circuit" and self.backend != "analytic":
            raise ValueError(f"backend={self.backend!r} runs method='circuit' only")
        if method == "grid" and d > 3:
            raise ValueError(f"the grid solver handles 1-3 dimensions, got {d}: use method='population'")
        return method

    def _budget(self, method: str, d: int) -> int:
        """``maxfev``, or its default: 2000 evaluations per dimension, plus an explicit grid or the
        circuit's grid of 2^qubits_per_dim points per dimension."""
        if self.maxfev is not None:
            return int(self.maxfev)
        default = 2000 * d
        if method == "grid" and self.grid_points is not None:
            default += self.grid_points**d
        if method == "circuit":
            default += 2 ** (self.qubits_per_dim * d)
        return default

    # Walkers ------------------------------------------------------------------------------------
    def _population(self, objective, bounds, x0, trajectory, on_stage, minimizer_kwargs):
        d = len(bounds)
        D0 = self.D0 if self.D0 is not None else 4e-3
        walkers = self.walkers or max(2, min(4, math.ceil(8 / d)))
        settings = WalkerSettings(
            walkers=walkers, line_points=self.line_points,
            box_line_points=self.line_points * (_BOX_LINE_FACTOR if d > 3 else 1),
            initial_points=max(walkers, min(max(min(64 * d, 128), 8 * d), int(objective.remaining) // 4)),
            D0=D0, D_min=self.D_min if self.D_min is not None else min(D0, 4e-11), decay=self.decay or 1 / 16,
            relax_steps=_LINE_RELAX_STEPS, local_iterations=_LOCAL_ITERATIONS if self.polish else 0,
            max_stages=self.maxiter)
        rng = np.random.default_rng(self.seed)
        outcomes, converged = anneal(objective, bounds, rng, settings, self.replicas, self.tol, x0, trajectory,
                                     on_stage, self.polish, minimizer_kwargs)
        values = ", ".join(f"{outcome.fun:.10g}" for outcome in outcomes)
        if converged and len(outcomes) > 1:
            message = f"two of {len(outcomes)} independent replicas agree on the minimum (replica minima: {values})"
        elif converged:
            message = f"the replica converged (no tunnelling in its last stage) after {outcomes[0].stages} stages"
        else:
            message = (f"no two of {len(outcomes)} replicas agree to tol={self.tol} (replica minima: {values}): "
                       f"raise replicas or maxfev")
        return converged, message

    # Grid ---------------------------------------------------------------------------------------
    def _grid(self, objective, bounds, x0, trajectory, on_stage, minimizer_kwargs):
        d = len(bounds)
        n = self.grid_points
        if n is None:                      # half the budget on the grid, the rest for polishing
            n = int(min(256, math.floor((objective.remaining / 2) ** (1 / d) + 1e-9)))
            if n < 2:
                raise ValueError(f"maxfev={objective.maxfev} is too small for a grid in {d} dimensions")
        starts, radius, stages, converged = anneal_on_grid(
            objective, bounds, n, self.D0, self.D_min, self.decay or 0.5, self.dtau, self.inner_tol, self.max_inner,
            x0, self.candidates, trajectory, on_stage, self.progress, self.maxiter)
        if self.polish:
            self._polish(objective, bounds, starts, radius, minimizer_kwargs)
        message = (f"annealed D over {stages} stages on {n} points per dimension"
                   + ("" if converged else f"; the last stage did not relax within max_inner={self.max_inner} steps"))
        return converged, message

    # Circuit: the solver's candidates are polished like the grid's ---------------------------------
    def _run_circuit(self, objective, bounds, x0, result, on_stage, minimizer_kwargs):
        solved = self._circuit(objective, bounds, x0)
        for key in ("probabilities", "program"):
            if key in solved:
                result[key] = solved[key]
        probabilities = solved.get("probabilities")
        if probabilities is not None and not np.all(np.isfinite(probabilities)):
            return False, ("the circuit returned non-finite probabilities (NaN or inf): its readout is unusable, so x "
                           "is only the best grid point evaluated")
        on_stage(solved.trajectory[-1] if solved.get("trajectory") else {})
        result.trajectory.extend(solved.get("trajectory", []))
        if self.polish:
            self._polish(objective, bounds, solved.starts, solved.polish_radius, minimizer_kwargs)
        return bool(solved.get("success", True)), solved.message

    # Circuit ---------------------------------------------------------------------------------------
    def _circuit(self, objective, bounds, x0):
        """The annealing program of ``objective`` on the grid, executed by the backend."""
        d = len(bounds)
        check_annealing_size(self.qubits_per_dim, d)          # before any grid is built or evaluated
        N = 2**self.qubits_per_dim
        if N**d > objective.remaining:
            raise ValueError(f"the circuit solver evaluates the objective on its {N}^{d} = {N ** d} grid points, "
                             f"more than maxfev={objective.maxfev} allows: raise maxfev or lower qubits_per_dim")
        D0 = self.D0 if self.D0 is not None else 1e-2
        D_min = self.D_min if self.D_min is not None else 1e-5
        points = grid_points(bounds, self.qubits_per_dim)
        values = objective(points)
        program = annealing_program(values, self.qubits_per_dim, d, D0, D_min, self.steps, self.dt)
        overrides = {key: value for key, value in (("shots", self.shots), ("seed", self.seed)) if value is not None}
        outcome = self.executor.execute([program], **overrides)[0]
        probabilities = outcome.probabilities[0]
        order = np.argsort(-probabilities)[: self.candidates]
        best = min(order, key=lambda i: values[i])
        mean = (probabilities @ points).tolist()
        spread = np.sqrt(probabilities @ (points - np.asarray(mean)) ** 2).tolist()
        return OptimizeResult(x=points[best], fun=float(values[best]), starts=[points[i] for i in order],
                              polish_radius=2 * (bounds[:, 1] - bounds[:, 0]) / N,
                              nfev=int(values.size), nit=1, success=True, probabilities=probabilities,
                              program=program, execution=outcome.metadata,
                              message=f"adiabatic sweep of D from {D0:.3g} to {D_min:.3g} in {self.steps} "
                                      f"steps on {program.num_qubits} qubits ({self.backend})",
                              trajectory=[{"D": D_min, "energy": float(probabilities @ values),
                                           "mean": mean, "spread": spread}])

    # Polish ------------------------------------------------------------------------------------
    def _polish(self, objective, bounds, starts, radius, minimizer_kwargs=None):
        """L-BFGS-B from each start inside a local box (every evaluation counted): while the
        minimum sits on the box's edge (a long valley) the box doubles, and after three tries it
        is the whole bounds, so the polish refines the basin the annealer chose."""
        objective.phase = LOCAL_SEARCH
        for start in starts:
            start, width = np.asarray(start, dtype=float), np.asarray(radius, dtype=float)
            for attempt in range(4):
                box = bounds if attempt == 3 else np.column_stack(
                    [np.maximum(bounds[:, 0], start - width), np.minimum(bounds[:, 1], start + width)])
                x, _, _ = relax(objective, start, box, _POLISH_ITERATIONS, tight=True,
                                minimizer_kwargs=minimizer_kwargs)
                on_edge = np.any(np.isclose(x, box[:, 0]) & (box[:, 0] > bounds[:, 0])) or \
                    np.any(np.isclose(x, box[:, 1]) & (box[:, 1] < bounds[:, 1]))
                start, width = x, 2 * width
                if not on_edge:
                    break
