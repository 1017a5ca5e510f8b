"""One-dimensional pieces of the walker solver: the ground state on a line, and relaxation along it.

The kinetic operator factorises exactly along the coordinate axes,
exp(tau D laplacian) = prod_a exp(tau D d^2/dx_a^2), so the imaginary-time propagator
can be applied one axis at a time (a Trotter splitting whose only error is the
kinetic-potential ordering). Along one axis, with the other coordinates of a walker
held, the QDE is one-dimensional and small enough to solve exactly: ``line_ground_state``
diagonalises H = -D d^2/dt^2 + zeta on M sample points of the line (reflecting walls,
the finite-difference Laplacian), with zeta the sampled objective scaled to [0, 1].
The density |phi_0|^2 is the importance-sampling guide for the walker's move.
"""

from __future__ import annotations

import numpy as np

_GOLDEN = (3 - np.sqrt(5)) / 2          # 0.381966...


def line_ground_state(values: np.ndarray, D) -> tuple[np.ndarray, np.ndarray]:
    """Ground state of H = -D d^2/dt^2 + zeta on equally spaced samples of lines (t in [0, 1]).

    Args:
        values: objective samples, shape (L, M): L lines of M points each.
        D: kinetic weight in units of (line length)^2 x (range of zeta on the line): a number,
            or one per line (shape (L,)).

    Returns:
        (density, energy): |phi_0|^2 per line, shape (L, M), summing to 1; and the ground-state
        energy in the units of ``values`` (min + range x E_0 of the scaled problem), shape (L,).
    """
    L, M = values.shape
    low = values.min(axis=1, keepdims=True)
    span = values.max(axis=1, keepdims=True) - low
    span = np.where(span > 0, span, 1.0)
    zeta = (values - low) / span
    hop = np.broadcast_to(np.asarray(D, dtype=float), (L,))[:, None, None] * M**2   # D / h^2, h = 1 / M
    walls = np.full(M, 2.0)
    walls[[0, -1]] = 1.0                              # reflecting (Neumann) ends
    index = np.arange(M)
    H = np.zeros((L, M, M))
    H[:, index, index] = hop[:, :, 0] * walls + zeta
    H[:, index[:-1], index[1:]] = -hop[:, :, 0]
    H[:, index[1:], index[:-1]] = -hop[:, :, 0]
    energies, vectors = np.linalg.eigh(H)
    density = vectors[:, :, 0] ** 2
    return density / density.sum(axis=1, keepdims=True), low[:, 0] + span[:, 0] * energies[:, 0]


def relax_along_axis(evaluate, points: np.ndarray, axis: int, left: np.ndarray, right: np.ndarray,
                     start: np.ndarray, start_values: np.ndarray, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Golden-section descent along ``axis`` for a batch of lines, all in one call per step.

    Each line k is ``points[k]`` with coordinate ``axis`` free in [left[k], right[k]]; the search
    starts from the known sample ``start[k]`` (value ``start_values[k]``) and spends ``steps``
    evaluations per line. Returns (coordinates, values) of the lowest point seen on each line.
    """
    a, b = left.astype(float).copy(), right.astype(float).copy()
    x, fx = start.astype(float).copy(), start_values.astype(float).copy()
    for _ in range(steps):
        upper = (b - x) >= (x - a)
        trial = np.where(upper, x + _GOLDEN * (b - x), x - _GOLDEN * (x - a))
        probe = points.copy()
        probe[:, axis] = trial
        f_trial = evaluate(probe)
        better = f_trial < fx
        # Better: the trial becomes the centre, the old centre a bracket end. Worse: the trial is an end.
        a = np.where(better, np.where(upper, x, a), np.where(upper, a, trial))
        b = np.where(better, np.where(upper, b, x), np.where(upper, trial, b))
        x, fx = np.where(better, trial, x), np.where(better, f_trial, fx)
    return x, fx


def crossed_barrier(samples_t: np.ndarray, samples_f: np.ndarray, old: float, new: float, level: float) -> bool:
    """True if a sample strictly between ``old`` and ``new`` on the line lies above ``level``:
    the move went through a barrier (tunnelling) rather than down a slope."""
    between = (samples_t > min(old, new)) & (samples_t < max(old, new))
    return bool(np.any(samples_f[between] > level))
