"""The population (walker) reading of the diffusion-reaction QDE, for dimensions a grid cannot hold.

Walkers diffuse with steps sqrt(2 D dtau) N(0, I) (the D laplacian term) and are
reweighted by exp(-dtau zeta) and resampled (the -zeta psi term: the softmax
over walkers the paper derives); D is lowered stage by stage. Coordinates are
scaled to the unit box, D to box^2 per unit tau, and zeta to (f - min f) / std f
over the walkers, so the defaults do not depend on the objective's units.
"""

from __future__ import annotations

import numpy as np


def systematic_resample(weights: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Indices drawn by systematic resampling (low variance) from normalised ``weights``."""
    n = len(weights)
    positions = (rng.random() + np.arange(n)) / n
    return np.minimum(np.searchsorted(np.cumsum(weights), positions), n - 1)


def reflect_into_unit_box(u: np.ndarray) -> np.ndarray:
    """Fold coordinates back into [0, 1] by reflection at the walls."""
    u = np.mod(u, 2.0)
    return np.where(u > 1.0, 2.0 - u, u)


def population_stage(f_unit, walkers, values, D, dtau, steps, rng):
    """``steps`` diffusion-reaction iterations at fixed D. Returns (walkers, values, nfev, best)."""
    nfev = 0
    best = (values.min(), walkers[np.argmin(values)].copy())
    for _ in range(steps):
        walkers = reflect_into_unit_box(walkers + np.sqrt(2 * D * dtau) * rng.standard_normal(walkers.shape))
        values = f_unit(walkers)
        nfev += len(walkers)
        if not np.all(np.isfinite(values)):
            raise ValueError("the objective returned non-finite values (NaN or inf) at some points")
        if values.min() < best[0]:
            best = (values.min(), walkers[np.argmin(values)].copy())
        spread = values.std()
        zeta = (values - values.min()) / (spread if spread > 0 else 1.0)
        weights = np.exp(-dtau * zeta)
        chosen = systematic_resample(weights / weights.sum(), rng)
        walkers, values = walkers[chosen], values[chosen]
    return walkers, values, nfev, best
