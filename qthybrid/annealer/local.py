"""Local relaxation: L-BFGS-B with a finite-difference gradient taken in one batched call.

A walker relaxed to the bottom of its basin is the strong-drift limit of importance-sampled
diffusion (the guiding function exp(-f/T) pulls it downhill); it is also how the result is
polished to full precision. The gradient is the forward difference with step
sqrt(machine epsilon) max(1, |x_i|) (backward where a bound is in the way), so one
gradient is one call of the vectorised objective with d + 1 points (d + 1 evaluations,
the same count as scipy's own finite differences).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

from .objective import CountedObjective

_STEP = np.sqrt(np.finfo(float).eps)
#: The final polish's L-BFGS-B tolerances (relative reduction of f, projected gradient).
_TIGHT_FTOL, _TIGHT_GTOL = 1e-15, 1e-10


def value_and_gradient(x: np.ndarray, objective: CountedObjective, bounds: np.ndarray):
    """f(x) and its forward-difference gradient from one batch of d + 1 points."""
    d = len(x)
    step = _STEP * np.maximum(1.0, np.abs(x))
    step = np.where(x + step > bounds[:, 1], -step, step)
    points = np.repeat(x[None, :], d + 1, axis=0)
    points[1:][np.arange(d), np.arange(d)] += step
    values = objective(points)
    return float(values[0]), (values[1:] - values[0]) / step


def relax(objective: CountedObjective, x0, bounds: np.ndarray, maxiter: int, tight: bool = False,
          minimizer_kwargs: dict | None = None):
    """Minimise from ``x0`` inside ``bounds`` (user coordinates); returns (x, f, converged).

    ``tight`` asks for full precision (the final polish); otherwise scipy's default tolerances.
    ``minimizer_kwargs`` (as for ``scipy.optimize.minimize``) replace the default method.
    """
    x0 = np.clip(np.asarray(x0, dtype=float), bounds[:, 0], bounds[:, 1])
    if minimizer_kwargs:
        kwargs = dict(minimizer_kwargs)
        kwargs.setdefault("bounds", [tuple(b) for b in bounds])
        result = minimize(lambda x: float(objective(np.asarray(x, dtype=float)[None, :])[0]), x0, **kwargs)
    else:
        options = {"maxiter": maxiter}
        if tight:
            options.update(ftol=_TIGHT_FTOL, gtol=_TIGHT_GTOL)
        result = minimize(value_and_gradient, x0, args=(objective, bounds), jac=True, method="L-BFGS-B",
                          bounds=[tuple(b) for b in bounds], options=options)
    return np.asarray(result.x, dtype=float), float(result.fun), bool(result.success)
