"""Imaginary-time QDE on a grid (the classical path; 1 to 3 dimensions).

After the Wick rotation the QDE is the diffusion-reaction equation
d psi / d tau = D laplacian(psi) - zeta psi. On a grid of interior points of the
box (Dirichlet walls: psi = 0 on the bounds) it is advanced by Strang splitting,

    psi <- exp(-zeta dtau/2) IDST[ exp(-D k^2 dtau) DST[ exp(-zeta dtau/2) psi ] ],

with sine transforms (DST-I, k_m = pi m / L), and renormalised each step, so psi
relaxes to the ground state of H_D = -D laplacian + zeta at rate exp(-(E1 - E0) tau).
Units are the user's: x as the bounds, zeta as the objective, D in units of
[f][x]^2, tau in 1/[f].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import fft


@dataclass(frozen=True)
class Grid:
    """Interior grid points of a box: ``points[i]`` along axis i, spacing ``h[i]``, lengths ``L[i]``."""

    points: tuple
    h: np.ndarray
    L: np.ndarray

    @classmethod
    def over(cls, bounds, n: int) -> "Grid":
        bounds = np.asarray(bounds, dtype=float)
        L = bounds[:, 1] - bounds[:, 0]
        h = L / (n + 1)
        points = tuple(low + h_i * np.arange(1, n + 1) for (low, _), h_i in zip(bounds, h))
        return cls(points=points, h=h, L=L)

    def mesh(self) -> np.ndarray:
        """All grid points, shape (n, ..., n, d)."""
        return np.stack(np.meshgrid(*self.points, indexing="ij"), axis=-1)

    def k_squared(self) -> np.ndarray:
        """Sum over axes of (pi m / L)^2 for the DST-I modes, broadcast to the grid shape."""
        total = 0.0
        for axis, (points, L) in enumerate(zip(self.points, self.L)):
            k = np.pi * np.arange(1, len(points) + 1) / L
            shape = [1] * len(self.points)
            shape[axis] = len(points)
            total = total + (k**2).reshape(shape)
        return total


def energy(psi, zeta, k2, D) -> float:
    """<psi| -D laplacian + zeta |psi> for a normalised real psi (DST-I is orthonormal)."""
    coefficients = fft.dstn(psi, type=1, norm="ortho")
    return float(D * np.sum(k2 * coefficients**2) + np.sum(zeta * psi**2))


def relax(psi, zeta, k2, D: float, dtau: float, tol: float, max_steps: int):
    """Imaginary-time evolution at fixed D until the energy changes by less than ``tol``
    (relative, between steps) or ``max_steps``. Returns (psi, E, steps)."""
    half = np.exp(-0.5 * dtau * zeta)
    kinetic = np.exp(-D * k2 * dtau)
    previous = np.inf
    E = energy(psi, zeta, k2, D)
    for step in range(1, max_steps + 1):
        psi = half * fft.idstn(kinetic * fft.dstn(half * psi, type=1, norm="ortho"), type=1, norm="ortho")
        norm = np.linalg.norm(psi)
        if norm == 0 or not np.isfinite(norm):
            raise FloatingPointError("the wave function vanished: lower dtau")
        psi /= norm
        E = energy(psi, zeta, k2, D)
        if abs(E - previous) <= tol * max(abs(E), 1e-300):
            return psi, E, step
        previous = E
    return psi, E, max_steps
