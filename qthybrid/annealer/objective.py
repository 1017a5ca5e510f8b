"""The objective as the annealer sees it: counted, budgeted, checked, and remembered at its best.

Every solver calls the user's function only through a ``CountedObjective``. It

* counts evaluations point by point (a batch of K points is K evaluations),
* refuses a batch that would take the count past ``maxfev`` (``BudgetExhausted``,
  raised before the call, so ``nfev <= maxfev`` always holds),
* checks the output shape and refuses NaN or infinite values with a message that
  names the objective and the first offending point,
* keeps the best point evaluated so far, so the result's ``x`` and ``fun`` are
  always a point and the value ``f`` returned there (never a value from another
  point, never NaN), and reports each new best to an optional hook.
"""

from __future__ import annotations

import numpy as np


class BudgetExhausted(Exception):
    """The evaluation budget (``maxfev``) would be exceeded by the next call."""


class StopRequested(Exception):
    """A callback asked the run to stop."""


#: ``context`` values passed to the new-best hook (the codes of ``scipy.optimize.dual_annealing``).
ANNEALING, LOCAL_SEARCH = 0, 1


class CountedObjective:
    """Wrap a vectorised objective ``f`` (array (..., d) -> (...)) over a box.

    Args:
        f: the objective.
        bounds: array (d, 2) of (low, high).
        maxfev: evaluation budget (None: unlimited).
        on_new_best: called as ``on_new_best(x, value, context)`` whenever a lower value is
            seen; ``context`` is the ``phase`` at that moment (``ANNEALING`` or ``LOCAL_SEARCH``).
            If it returns True, ``StopRequested`` is raised.
    """

    def __init__(self, f, bounds: np.ndarray, maxfev: int | None = None, on_new_best=None):
        self.f = f
        self.low = np.asarray(bounds, dtype=float)[:, 0]
        self.width = np.asarray(bounds, dtype=float)[:, 1] - self.low
        self.maxfev = maxfev
        self.on_new_best = on_new_best
        self.nfev = 0
        self.best_x: np.ndarray | None = None
        self.best_f = np.inf
        self.phase = ANNEALING
        self.begin_scope()

    def begin_scope(self) -> None:
        """Start tracking a separate best (``scope_best_x``, ``scope_best_f``), e.g. for one replica."""
        self.scope_best_x: np.ndarray | None = None
        self.scope_best_f = np.inf

    @property
    def dimension(self) -> int:
        return len(self.low)

    @property
    def remaining(self) -> float:
        return np.inf if self.maxfev is None else self.maxfev - self.nfev

    def __call__(self, points) -> np.ndarray:
        """Values at ``points`` (user coordinates, shape (..., d)); shape (...)."""
        points = np.asarray(points, dtype=float)
        count = int(np.prod(points.shape[:-1]))
        if count > self.remaining:
            raise BudgetExhausted(f"the evaluation budget maxfev={self.maxfev} is spent")
        values = np.asarray(self.f(points), dtype=float)
        self.nfev += count
        if values.shape != points.shape[:-1]:
            raise ValueError(f"the objective must map an array of shape (..., d) to shape (...): got {values.shape} "
                             f"for input {points.shape} (for a function of one point, use qthybrid.optimize.qde)")
        if not np.all(np.isfinite(values)):
            where = np.argwhere(~np.isfinite(values))[0]
            raise ValueError(f"the objective returned non-finite values (NaN or inf), e.g. {values[tuple(where)]} "
                             f"at x = {points[tuple(where)].tolist()}; it must be finite everywhere in the bounds")
        if count:
            flat = values.reshape(-1)
            i = int(np.argmin(flat))
            if flat[i] < self.scope_best_f:
                self.scope_best_f = float(flat[i])
                self.scope_best_x = points.reshape(-1, points.shape[-1])[i].copy()
            if flat[i] < self.best_f:
                self.best_f = float(flat[i])
                self.best_x = points.reshape(-1, points.shape[-1])[i].copy()
                if self.on_new_best is not None and self.on_new_best(self.best_x.copy(), self.best_f, self.phase):
                    raise StopRequested("the callback asked to stop")
        return values

    # The solvers work in the unit box [0, 1]^d -------------------------------------------------------
    def to_unit(self, x) -> np.ndarray:
        return (np.asarray(x, dtype=float) - self.low) / self.width

    def from_unit(self, u) -> np.ndarray:
        return self.low + np.asarray(u, dtype=float) * self.width

    def unit(self, u) -> np.ndarray:
        """Values at unit-box points ``u`` (shape (..., d))."""
        return self(self.from_unit(u))
