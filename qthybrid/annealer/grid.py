"""Imaginary-time QDE on a grid (the exact classical path; 1 to 3 dimensions).

After the Wick rotation the QDE is the diffusion-reaction equation
d psi / d tau = D laplacian(psi) - zeta psi. On the cell centres of the box
(reflecting walls: d psi / dn = 0 on the bounds, so a minimum on a wall is as
reachable as one inside) it is advanced by Strang splitting,

    psi <- exp(-zeta dtau/2) IDCT[ exp(-D k^2 dtau) DCT[ exp(-zeta dtau/2) psi ] ],

with cosine transforms (DCT-II, k_m = pi m / L, m = 0 .. n-1), and renormalised
each step, so psi relaxes to the ground state of H_D = -D laplacian + zeta at
rate exp(-(E1 - E0) tau). Units are the user's: x as the bounds, zeta as the
objective, D in units of [f][x]^2, tau in 1/[f].

``anneal_on_grid`` is the solver: f on the whole grid once (n^d evaluations), then
D lowered stage by stage, each stage relaxed to its ground state; the highest
density peaks are the candidates the annealer polishes.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import numpy as np
from scipy import fft

log = logging.getLogger(__name__)

#: Bytes per grid point while the solver runs: the mesh (d floats) plus about eight work arrays.
_BYTES_PER_POINT = 8 * 8


@dataclass(frozen=True)
class Grid:
    """Cell centres of a box: ``points[i]`` along axis i, spacing ``h[i]``, lengths ``L[i]``."""

    points: tuple
    h: np.ndarray
    L: np.ndarray

    @classmethod
    def over(cls, bounds, n: int) -> "Grid":
        bounds = np.asarray(bounds, dtype=float)
        L = bounds[:, 1] - bounds[:, 0]
        h = L / n
        points = tuple(low + h_i * (np.arange(n) + 0.5) for (low, _), h_i in zip(bounds, h))
        return cls(points=points, h=h, L=L)

    def mesh(self) -> np.ndarray:
        """All grid points, shape (n, ..., n, d)."""
        return np.stack(np.meshgrid(*self.points, indexing="ij"), axis=-1)

    def k_squared(self) -> np.ndarray:
        """Sum over axes of (pi m / L)^2 for the DCT-II modes, broadcast to the grid shape."""
        total = 0.0
        for axis, (points, L) in enumerate(zip(self.points, self.L)):
            k = np.pi * np.arange(len(points)) / L
            shape = [1] * len(self.points)
            shape[axis] = len(points)
            total = total + (k**2).reshape(shape)
        return total


def energy(psi, zeta, k2, D) -> float:
    """<psi| -D laplacian + zeta |psi> for a normalised real psi (DCT-II is orthonormal)."""
    coefficients = fft.dctn(psi, type=2, norm="ortho")
    return float(D * np.sum(k2 * coefficients**2) + np.sum(zeta * psi**2))


def relax(psi, zeta, k2, D: float, dtau: float, tol: float, max_steps: int, energy_scale: float = 0.0):
    """Imaginary-time evolution at fixed D until the energy changes by less than
    ``tol`` max(|E|, energy_scale) between steps, or ``max_steps``. Returns (psi, E, steps)."""
    half = np.exp(-0.5 * dtau * zeta)
    kinetic = np.exp(-D * k2 * dtau)
    previous = np.inf
    E = energy(psi, zeta, k2, D)
    for step in range(1, max_steps + 1):
        psi = half * fft.idctn(kinetic * fft.dctn(half * psi, type=2, norm="ortho"), type=2, norm="ortho")
        norm = np.linalg.norm(psi)
        if norm == 0 or not np.isfinite(norm):
            raise FloatingPointError("the wave function vanished: lower dtau")
        psi /= norm
        E = energy(psi, zeta, k2, D)
        if abs(E - previous) <= tol * max(abs(E), energy_scale, 1e-300):
            return psi, E, step
        previous = E
    return psi, E, max_steps


def check_grid_size(n: int, d: int, budget: float) -> None:
    """Refuse, before anything is allocated, a grid that the budget or the memory cannot hold."""
    points = n**d
    if points > budget:
        raise ValueError(f"grid_points={n} in {d} dimensions is {points} evaluations, more than the budget "
                         f"maxfev allows ({int(budget)}): lower grid_points or raise maxfev")
    need = points * (d + _BYTES_PER_POINT // 8) * 8
    available = _available_memory()
    if need > available / 2:
        raise ValueError(f"grid_points={n} in {d} dimensions needs about {need / 2**30:.1f} GiB, more than half "
                         f"the available memory ({available / 2**30:.1f} GiB): lower grid_points")


def _available_memory() -> float:
    try:
        return float(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return 8.0 * 2**30


def anneal_on_grid(objective, bounds: np.ndarray, n: int, D0: float | None, D_min: float | None, decay: float,
                   dtau: float, inner_tol: float, max_inner: int, x0=None, candidates: int = 3,
                   trajectory: list | None = None, on_stage=None, progress: bool | None = None,
                   max_stages: int | None = None):
    """The grid solver. Returns (starts, polish_radius, stages, converged).

    D0, D_min default to 0.02 R L^2 and 512 R L^2 / n^4 (R the range of f on the grid, L the
    mean box width): from a ground state spanning the box to one about four cells wide, which
    still weighs whole basins rather than single grid values. ``converged``: the last stage's
    relaxation met ``inner_tol`` (relative to max(|E|, R)) within ``max_inner`` steps.
    """
    d = len(bounds)
    check_grid_size(n, d, objective.remaining)
    grid = Grid.over(bounds, n)
    mesh = grid.mesh()
    values = objective(mesh)
    R = float(values.max() - values.min()) or 1.0
    zeta = values - values.min()
    L = float(np.mean(grid.L))
    D0 = D0 if D0 is not None else 0.02 * R * L**2
    D_min = D_min if D_min is not None else min(D0, 512 * R * L**2 / n**4)
    k2 = grid.k_squared()
    if x0 is None:
        psi = np.ones(values.shape)
    else:
        psi = np.exp(-np.sum(((mesh - x0) / (grid.L / 20)) ** 2, axis=-1) / 4)
    psi = psi / np.linalg.norm(psi)
    total = int(np.floor(np.log(D_min / D0) / np.log(decay) + 1e-9)) + 1
    if max_stages is not None:
        total = min(total, max_stages)
    bar = _progress_bar(total, n**d, progress)
    axes = tuple(range(d))
    D, stage, steps = D0, 0, 0
    try:
        while stage < total:
            psi, E, steps = relax(psi, zeta, k2, D, dtau / R, inner_tol, max_inner, energy_scale=R)
            density = psi**2
            mean = np.tensordot(density, mesh, axes=(axes, axes))
            spread = np.sqrt(np.tensordot(density, (mesh - mean) ** 2, axes=(axes, axes)))
            record = {"D": D, "energy": E + float(values.min()), "mean": mean.tolist(), "spread": spread.tolist(),
                      "inner_steps": steps}
            stage += 1
            if trajectory is not None:
                trajectory.append(record)
            log.info("grid stage %d/%d: D=%.3g E=%.6g (%d steps)", stage, total, D, record["energy"], steps)
            if bar is not None:
                bar.update(1)
            if on_stage is not None:
                on_stage(record)
            D *= decay
    finally:
        if bar is not None:
            bar.close()
    starts = [mesh[i] for i in density_peaks(psi**2, candidates, values)]
    return starts, 2 * grid.h, stage, steps < max_inner


def _progress_bar(total: int, points: int, progress: bool | None):
    """A tqdm bar over the stages: always if ``progress``, never if False, and for None only on a
    terminal when the grid is large (2^18 points or more)."""
    if progress is False or (progress is None and points < 2**18):
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=f"QDE grid ({points} points)", unit="stage",
                disable=None if progress is None else False)


def density_peaks(density: np.ndarray, count: int, values: np.ndarray) -> list:
    """Indices of the ``count`` highest local maxima of ``density`` (ties broken by lower ``values``)."""
    from scipy.ndimage import maximum_filter

    peaks = np.argwhere(density == maximum_filter(density, size=3, mode="nearest"))
    ranked = sorted((tuple(p) for p in peaks), key=lambda p: (-density[p], values[p]))
    return ranked[:count] or [np.unravel_index(np.argmax(density), density.shape)]
