"""The QDE annealer as a split-operator program: real-time adiabatic evolution on a qubit grid.

n qubits per dimension hold a periodic grid over the box, scaled to the unit
box: point j of dimension a sits at low_a + (high_a - low_a) (j + 1/2) / 2^n.
The state starts uniform (a Hadamard on every qubit: the ground state of the
kinetic term) and each Trotter step applies exp(-i zeta dt), then
exp(-i D_j k^2 dt) in every register, while D_j falls geometrically from D0 to
D_min, so that (adiabatically) it follows the ground state of
H_D = -D laplacian + zeta towards the global minimum of zeta. zeta is the
objective on the grid scaled to [0, 1] (phases need a scale). The readout is
the position distribution; flat index i = j_0 + N j_1 + N^2 j_2 ...
"""

from __future__ import annotations

import math

import numpy as np

from .split_operator import Readout, SplitOperatorProgram

#: The most qubits an annealing program may use (a 2^20-entry diagonal per distinct step time).
MAX_ANNEALING_QUBITS = 20


def check_annealing_size(qubits_per_dim: int, dimensions: int) -> None:
    """Refuse, before anything is evaluated, a grid larger than MAX_ANNEALING_QUBITS qubits."""
    if not (isinstance(qubits_per_dim, int) and not isinstance(qubits_per_dim, bool) and qubits_per_dim >= 1):
        raise ValueError(f"qubits_per_dim must be an int >= 1, got {qubits_per_dim!r}")
    if not (isinstance(dimensions, int) and dimensions >= 1):
        raise ValueError(f"the bounds must give at least one dimension, got {dimensions!r}")
    total = qubits_per_dim * dimensions
    if total > MAX_ANNEALING_QUBITS:
        raise ValueError(f"{qubits_per_dim} qubits per dimension x {dimensions} dimensions = {total} qubits: the "
                         f"circuit solver allows at most {MAX_ANNEALING_QUBITS} (a 2^{MAX_ANNEALING_QUBITS}-point "
                         f"grid); use fewer qubits per dimension or method='population'")


def grid_axes(bounds, qubits_per_dim: int) -> list:
    """Grid coordinates per dimension (the periodic grid's points inside the box)."""
    N = 2**qubits_per_dim
    return [low + (high - low) * (np.arange(N) + 0.5) / N for low, high in bounds]


def grid_points(bounds, qubits_per_dim: int) -> np.ndarray:
    """All grid points in flat circuit order (i = j_0 + N j_1 + ...), shape (N^d, d)."""
    axes = grid_axes(bounds, qubits_per_dim)
    mesh = np.meshgrid(*axes, indexing="ij")
    return np.stack([m.flatten(order="F") for m in mesh], axis=-1)


def annealing_program(values, qubits_per_dim: int, dimensions: int, D0: float, D_min: float, steps: int,
                      dt: float) -> SplitOperatorProgram:
    """The program for objective ``values`` on the grid (flat circuit order, any real scale).

    ``D`` falls geometrically from ``D0`` to ``D_min`` over ``steps`` steps (unit-box units).
    """
    check_annealing_size(qubits_per_dim, dimensions)
    values = np.asarray(values, dtype=float).reshape(-1)
    if values.size != 2 ** (qubits_per_dim * dimensions):
        raise ValueError(f"values must hold {2 ** (qubits_per_dim * dimensions)} grid values, got {values.size}")
    if not np.all(np.isfinite(values)):
        raise ValueError("the objective returned non-finite values (NaN or inf) on the grid")
    for name, value in (("D0", D0), ("D_min", D_min), ("dt", dt)):
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be finite and > 0, got {value!r}")
    if not (isinstance(steps, int) and steps >= 1):
        raise ValueError(f"steps must be an int >= 1, got {steps!r}")
    spread = values.max() - values.min()
    zeta = (values - values.min()) / (spread if spread > 0 else 1.0)
    D = D0 * (D_min / D0) ** (np.arange(steps) / max(steps - 1, 1))
    n = qubits_per_dim * dimensions
    return SplitOperatorProgram(
        registers=(qubits_per_dim,) * dimensions, potential=zeta,
        potential_times=np.concatenate([np.full(steps, dt), [0.0]]),
        kinetic_phases=np.repeat(((2 * math.pi) ** 2 * D * dt)[:, None], dimensions, axis=1),
        readout=Readout(measured=tuple(range(n))), name=f"qde_anneal_{dimensions}d_{qubits_per_dim}q",
        metadata={"D": D.tolist(), "dt": dt})
