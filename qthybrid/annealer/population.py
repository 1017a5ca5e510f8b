"""The population (walker) solver: diffusion Monte Carlo for the QDE ground state, in any dimension.

Paper 2's algorithm is an outer loop that lowers D and an inner search for the ground
state of H_D = -D laplacian + zeta. A grid holds the wave function only in 1-3
dimensions; here it is carried by a small population of walkers (unit-box coordinates,
D in box^2 units), and the f evaluations go where the wave function is:

* **Kinetic step, one axis at a time.** The kinetic propagator factorises exactly over the
  axes, so each sweep moves every walker along every axis in turn (random order). Along
  one axis the QDE is one-dimensional and is solved exactly on M samples of a window of
  half-width w = sqrt(D / D0) around the walker (the whole box at D = D0, a quarter of
  it per stage after that with decay = 1/16; see ``lines.line_ground_state``). The samples
  sit at a random offset per walker, so copies of one walker look at different points.
* **Importance sampling.** The line's ground-state density is the guide: its peak and the
  lowest sample are the two proposals, each relaxed along the axis by golden-section
  steps, and the walker takes the lowest point (it stays if neither is lower). A move
  that passes over a sampled barrier counts as tunnelling.
* **Local relaxation.** After each sweep the walkers are relaxed by L-BFGS-B (the
  strong-drift limit of a guiding function exp(-f/T)), one relaxation per group of walkers
  that share a spot, so the walkers live on the basin-level landscape, as in basin hopping.
* **Branching.** Walkers are resampled (systematic resampling, fixed population) with
  weights exp(-(f - f_min)/sigma_f), the reaction term -zeta psi: good basins multiply and
  poor ones die out.
* **Stages.** One sweep per D. A sweep without tunnelling (after ``min_stages``) means the
  ground state has settled in one basin at the resolution the lines can see: the replica
  stops and its best point is polished to full precision.

``anneal`` runs independent replicas until two agree on the minimum (to ``tol`` (1 + |f|)):
agreement of independent ground-state searches is the convergence test behind ``success``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .lines import crossed_barrier, line_ground_state, relax_along_axis
from .local import relax
from .objective import ANNEALING, LOCAL_SEARCH, CountedObjective


@dataclass(frozen=True)
class WalkerSettings:
    """Settings of one replica (see the module docstring); D in unit-box units."""

    walkers: int                 #: population size
    line_points: int             #: samples per line (M)
    initial_points: int          #: Latin-hypercube sample that seeds the walkers
    D0: float                    #: first D; the window spans the box at D0
    D_min: float                 #: last D
    decay: float                 #: D <- decay D per stage
    relax_steps: int             #: golden-section steps per proposal along a line
    local_iterations: int        #: L-BFGS-B iterations per walker per stage (0: none)
    min_stages: int = 2          #: stages before a stage without tunnelling may stop the replica
    max_stages: int | None = None  #: at most this many stages (None: until D_min)
    box_line_points: int = 0     #: samples per line on the whole-box window (scaled with the window, >= line_points)

    def __post_init__(self):
        for name in ("walkers", "line_points", "initial_points"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)!r}")
        if self.line_points < 3:
            raise ValueError(f"line_points must be >= 3, got {self.line_points!r}")
        if not 0 < self.decay < 1:
            raise ValueError(f"decay must be in (0, 1), got {self.decay!r}")
        if not 0 < self.D_min <= self.D0:
            raise ValueError(f"need 0 < D_min <= D0, got D_min={self.D_min!r}, D0={self.D0!r}")


@dataclass
class ReplicaOutcome:
    x: np.ndarray
    fun: float
    converged: bool
    stages: int


def latin_hypercube(count: int, d: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` points in [0, 1]^d, one in each of ``count`` slabs along every axis."""
    slabs = np.argsort(rng.random((d, count)), axis=1).T
    return (slabs + rng.random((count, d))) / count


def systematic_resample(weights: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Indices drawn by systematic resampling (low variance) from normalised ``weights``."""
    n = len(weights)
    positions = (rng.random() + np.arange(n)) / n
    return np.minimum(np.searchsorted(np.cumsum(weights), positions), n - 1)


def _neighbourhoods(walkers: np.ndarray, values: np.ndarray, radius: float = 1e-3) -> list[np.ndarray]:
    """Walkers grouped by proximity (within ``radius`` of the box on every axis of the group's best),
    best first: one relaxation serves a group, since its walkers share a basin."""
    left = np.argsort(values)
    groups = []
    while left.size:
        near = np.all(np.abs(walkers[left] - walkers[left[0]]) <= radius, axis=1)
        groups.append(left[near])
        left = left[~near]
    return groups


def _line_sweep(objective: CountedObjective, walkers, values, D, D0, settings, rng):
    """One kinetic sweep over all axes; returns (walkers, values, tunnelling, moves, mean energy, multimodal)."""
    count, d = walkers.shape
    w = np.sqrt(D / D0)
    M = max(settings.line_points, int(round(settings.box_line_points * min(w, 1.0))))
    tunnelling = moves = multimodal = 0
    energies = []
    rows = np.arange(count)
    for axis in rng.permutation(d):
        old, old_values = walkers[:, axis].copy(), values.copy()
        left, right = np.clip(old - w, 0.0, 1.0), np.clip(old + w, 0.0, 1.0)
        span = right - left
        t = left[:, None] + span[:, None] * (np.arange(M) + rng.random((count, 1))) / M
        lines = np.repeat(walkers[:, None, :], M, axis=1)
        lines[:, :, axis] = t
        samples = objective.unit(lines)
        interior = (samples[:, 1:-1] < samples[:, :-2]) & (samples[:, 1:-1] < samples[:, 2:])
        minima = interior.sum(1) + (samples[:, 0] < samples[:, 1]) + (samples[:, -1] < samples[:, -2])
        multimodal += int(np.sum(minima > 1))
        density, energy = line_ground_state(samples, D / span**2)
        energies.append(energy)
        # Proposals: the ground-state peak and the lowest sample, each relaxed along the axis.
        peak, lowest = np.argmax(density, axis=1), np.argmin(samples, axis=1)
        owner = np.concatenate([rows, rows[peak != lowest]])
        index = np.concatenate([peak, lowest[peak != lowest]])
        cell = span[owner] / M
        start = t[owner, index]
        coordinate, value = relax_along_axis(
            objective.unit, walkers[owner], axis, np.maximum(0.0, start - cell), np.minimum(1.0, start + cell),
            start, samples[owner, index], settings.relax_steps)
        for k, i in enumerate(owner):
            if value[k] < values[i]:
                walkers[i, axis], values[i] = coordinate[k], value[k]
        for i in rows:
            if values[i] < old_values[i]:
                moves += 1
                tunnelling += crossed_barrier(t[i], samples[i], old[i], walkers[i, axis], old_values[i])
    return walkers, values, tunnelling, moves, float(np.mean(energies)), multimodal


def anneal_replica(objective: CountedObjective, bounds: np.ndarray, rng: np.random.Generator,
                   settings: WalkerSettings, x0=None, replica: int = 0, trajectory: list | None = None,
                   on_stage=None, polish: bool = True, minimizer_kwargs: dict | None = None) -> ReplicaOutcome:
    """One independent ground-state search (see the module docstring).

    ``trajectory`` (a list) receives one record per stage; ``on_stage(record)`` is called after
    each. Raises ``BudgetExhausted`` / ``StopRequested`` from the objective; the best point so far
    is then in ``objective.scope_best_x``.
    """
    objective.begin_scope()
    objective.phase = ANNEALING
    d = len(bounds)
    sample = latin_hypercube(settings.initial_points, d, rng)
    if x0 is not None:
        sample = np.vstack([objective.to_unit(x0)[None, :], sample])
    sample_values = objective.unit(sample)
    order = np.argsort(sample_values)[: settings.walkers]
    order = np.resize(order, settings.walkers)
    walkers, values = sample[order].copy(), sample_values[order].copy()
    D, stage, converged = settings.D0, 0, False
    while True:
        walkers, values, tunnelling, moves, energy, multimodal = _line_sweep(objective, walkers, values, D,
                                                                             settings.D0, settings, rng)
        if settings.local_iterations:
            objective.phase = LOCAL_SEARCH
            for group in _neighbourhoods(walkers, values):
                x, f, _ = relax(objective, objective.from_unit(walkers[group[0]]), bounds, settings.local_iterations)
                better = group[f <= values[group]]
                walkers[better], values[better] = objective.to_unit(x), f
            objective.phase = ANNEALING
        stage += 1
        positions = objective.from_unit(walkers)
        weights = np.exp(-(values - values.min()) / (values.std() or 1.0))
        parents = systematic_resample(weights / weights.sum(), rng)
        record = {"replica": replica, "D": D, "window": float(np.sqrt(D / settings.D0)), "energy": energy,
                  "mean": positions.mean(0).tolist(), "spread": positions.std(0).tolist(),
                  "best": float(values.min()), "mean_value": float(values.mean()), "walkers": len(walkers),
                  "moves": moves, "tunnelling": tunnelling, "multimodal_lines": multimodal,
                  "parents": int(len(np.unique(parents))),
                  "nfev": objective.nfev}
        if trajectory is not None:
            trajectory.append(record)
        if on_stage is not None:
            on_stage(record)
        if stage >= settings.min_stages and tunnelling == 0:
            converged = True
            break
        if D * settings.decay < settings.D_min * (1 - 1e-12):
            converged = True                 # the schedule is complete
            break
        if settings.max_stages is not None and stage >= settings.max_stages:
            break
        walkers, values = walkers[parents].copy(), values[parents].copy()
        D *= settings.decay
    best_x, best_f = objective.scope_best_x.copy(), objective.scope_best_f
    if polish:
        objective.phase = LOCAL_SEARCH
        x, f, ok = relax(objective, best_x, bounds, 15000, tight=True, minimizer_kwargs=minimizer_kwargs)
        objective.phase = ANNEALING
        best_x, best_f = objective.scope_best_x.copy(), objective.scope_best_f
    return ReplicaOutcome(x=best_x, fun=best_f, converged=converged, stages=stage)


def agree(a: float, b: float, tol: float) -> bool:
    """Two minima agree when they differ by at most ``tol`` (1 + |value|)."""
    return abs(a - b) <= tol * (1.0 + min(abs(a), abs(b)))


def anneal(objective: CountedObjective, bounds: np.ndarray, rng: np.random.Generator, settings: WalkerSettings,
           replicas: int, agree_tol: float, x0=None, trajectory: list | None = None, on_stage=None,
           polish: bool = True, minimizer_kwargs: dict | None = None) -> tuple[list[ReplicaOutcome], bool]:
    """Independent replicas (the first starts with ``x0`` among its walkers) until the two best
    agree to ``agree_tol``. Returns (outcomes, converged); with ``replicas=1``, converged is the
    replica's own (its last stage found no tunnelling, or its schedule completed)."""
    outcomes: list[ReplicaOutcome] = []
    for replica in range(replicas):
        outcomes.append(anneal_replica(objective, bounds, rng, settings, x0 if replica == 0 else None, replica,
                                       trajectory, on_stage, polish, minimizer_kwargs))
        best = sorted(outcome.fun for outcome in outcomes)
        if len(best) >= 2 and agree(best[0], best[1], agree_tol):
            return outcomes, True
    return outcomes, replicas == 1 and outcomes[0].converged
