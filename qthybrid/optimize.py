"""``qde``: the QDE annealer with scipy's calling convention, a drop-in for ``dual_annealing``.

    from qthybrid.optimize import qde
    result = qde(func, bounds, seed=1)          # where dual_annealing(func, bounds, seed=1) was

``func(x, *args)`` takes one point (shape (d,)) and returns a number, exactly as scipy's
global optimisers call it; with ``vectorized=True`` it takes a batch in scipy's
vectorised convention, ``x`` of shape (d, S), and returns S values (as
``differential_evolution(vectorized=True)`` does). Every point counts as one evaluation.

The result is a ``scipy.optimize.OptimizeResult`` with ``x``, ``fun``, ``nfev``, ``nit``,
``success``, ``status``, ``message``, plus ``trajectory`` (one record per D stage: the energy
estimate and the walker statistics). ``success`` is True only when the run converged
(two independent replicas agree on the minimum) within the budget.
"""

from __future__ import annotations

import inspect

import numpy as np
from scipy.optimize import OptimizeResult

from .annealer.annealer import QDEAnnealer, check_bounds


def qde(func, bounds, args=(), maxiter=None, minimizer_kwargs=None, *, maxfev=None, maxfun=None, seed=None,
        rng=None, no_local_search=False, callback=None, x0=None, vectorized=False, method="auto",
        **options) -> OptimizeResult:
    """Find the global minimum of ``func`` over ``bounds`` by QDE annealing.

    Args:
        func: objective, ``func(x, *args) -> float`` for x of shape (d,) (or, with
            ``vectorized=True``, x of shape (d, S) -> shape (S,)).
        bounds: sequence of (min, max) pairs, one per variable, or a ``scipy.optimize.Bounds``.
        args: extra arguments passed to ``func``.
        maxiter: at most this many annealing stages (D values) per replica (None: the schedule's).
        minimizer_kwargs: keyword arguments for the final ``scipy.optimize.minimize`` polish
            (default: L-BFGS-B inside the bounds, to full precision).
        maxfev, maxfun: evaluation budget (the same thing under the issue's and dual_annealing's
            names; give one). Default: 2000 per dimension. The run stops with ``success=False``
            if it is spent before convergence.
        seed, rng: an int, a ``numpy.random.Generator`` (or ``RandomState``), or None; the same
            seed gives the same result. Give at most one.
        no_local_search: if True, no L-BFGS-B at all (neither the walkers' relaxation nor the
            final polish).
        callback: ``callback(x, f, context)`` as in ``dual_annealing``, called at each new lowest
            value (context 0: found by annealing, 1: by local search), or
            ``callback(intermediate_result)`` (scipy's newer form), called after each D stage with an
            ``OptimizeResult``. Returning True stops the run (``success=False``).
        x0: a starting point, added to the first replica's walkers.
        vectorized: see ``func``.
        method: ``"auto"`` (the walker solver), ``"population"`` or ``"grid"`` (1-3 dimensions).
        **options: any further ``QDEAnnealer`` argument (``walkers``, ``replicas``, ``tol`` ...).
    """
    if not callable(func):
        raise TypeError(f"func must be callable, got {type(func).__name__}")
    if not isinstance(args, tuple):
        args = (args,)
    if maxfev is not None and maxfun is not None and int(maxfev) != int(maxfun):
        raise ValueError(f"give maxfev or maxfun, not both with different values ({maxfev} and {maxfun})")
    budget = maxfev if maxfev is not None else maxfun
    if budget is not None:
        if not (np.isfinite(budget) and budget >= 1):
            raise ValueError(f"maxfev must be an integer >= 1, got {budget!r}")
        budget = int(budget)
    if seed is not None and rng is not None:
        raise ValueError("give seed or rng, not both")
    generator = _generator(rng if rng is not None else seed)
    if maxiter is not None and not (isinstance(maxiter, (int, np.integer)) and maxiter >= 1):
        raise ValueError(f"maxiter must be None or an int >= 1, got {maxiter!r}")
    bounds = check_bounds(bounds)
    annealer = QDEAnnealer(method=method, maxfev=budget, maxiter=maxiter, seed=generator,
                           polish=not no_local_search, **options)
    stage_callback, best_callback = _split_callback(callback)
    result = annealer._run(_batched(func, args, vectorized, len(bounds)), bounds, x0, stage_callback,
                           best_callback, minimizer_kwargs)
    result.njev = result.nhev = 0
    return result


def _generator(seed):
    if isinstance(seed, np.random.RandomState):
        return np.random.default_rng(seed.randint(0, 2**31 - 1))
    try:
        return np.random.default_rng(seed)
    except (TypeError, ValueError):
        raise ValueError(f"seed/rng must be None, an int, a numpy Generator or RandomState, got {seed!r}") from None


def _split_callback(callback):
    """(stage callback, new-best callback): scipy's ``callback(intermediate_result)`` is called per
    stage, dual_annealing's ``callback(x, f, context)`` at each new lowest value."""
    if callback is None:
        return None, None
    if not callable(callback):
        raise TypeError(f"callback must be callable, got {type(callback).__name__}")
    try:
        parameters = list(inspect.signature(callback).parameters)
    except (TypeError, ValueError):
        parameters = []
    if parameters == ["intermediate_result"]:
        return callback, None
    return None, lambda x, f, context: callback(x, f, context)


def _batched(func, args, vectorized: bool, d: int):
    """The annealer's objective (array (..., d) -> (...)) built from a scipy-style ``func``."""

    def evaluate(points):
        points = np.asarray(points, dtype=float)
        flat = points.reshape(-1, d)
        if vectorized:
            values = np.asarray(func(flat.T.copy(), *args), dtype=float).reshape(-1)
            if values.shape != (len(flat),):
                raise ValueError(f"with vectorized=True, func must map x of shape (d, S) = {flat.T.shape} to shape "
                                 f"(S,), got {values.shape}")
        else:
            values = np.empty(len(flat))
            for i, x in enumerate(flat):
                value = np.asarray(func(x.copy(), *args), dtype=float)
                if value.size != 1:
                    raise ValueError(f"func must return one number for one point x of shape ({d},), got shape "
                                     f"{value.shape} (for a batch-evaluating func, pass vectorized=True)")
                values[i] = value.reshape(())
        return values.reshape(points.shape[:-1])

    return evaluate
