"""Transmission of a particle on a tight-binding chain (the lattice the hardware preset simulates).

The chain has hopping J between neighbouring sites and on-site energies V_j on a
finite scattering region, with perfect leads (V = 0) on both sides:

    H = -J sum_j (|j><j+1| + |j+1><j|) + sum_j V_j |j><j|.

A plane wave e^{i q j} in a lead has energy E = -2 J cos q (the band [-2J, 2J],
group velocity 2 J sin q sites per unit time). Its transmission through the
region follows from the transfer matrix of the discrete Schroedinger equation
J (psi_{j+1} + psi_{j-1}) = (V_j - E) psi_j. A single site of strength U at the
band centre (q = pi/2, E = 0) transmits T = 1 / (1 + (U / 2J)^2); a barrier much
thinner than the wavelength is such a site.

Mapping to the continuum barrier (thin-barrier limit): a rectangular barrier of
height V0 and strength g is, for a particle of wave number k = sqrt(eps) (units
of q0), a delta barrier of integrated strength g, whose T = 1 / (1 + g^2 / (4 eps))
depends only on g / v with v = 2k its velocity. A chain whose lead velocity at
q = pi/2 equals v (spacing a = 1/k) carrying the barrier on one site therefore
has U / J = g / sqrt(eps) and the same T: see :func:`thin_barrier_strength`.
"""

from __future__ import annotations

import math

import numpy as np

from .._arrays import as_float_array, check_finite


def lattice_momentum(energy, hopping: float = 1.0) -> np.ndarray:
    """q in (0, pi) with E = -2 J cos q (NaN outside the band)."""
    energy = as_float_array(energy, "energy").astype(np.float64)
    with np.errstate(invalid="ignore"):
        return np.arccos(np.where(np.abs(energy) <= 2 * hopping, -energy / (2 * hopping), np.nan))


def lattice_transmission(energy, potential, hopping: float = 1.0) -> np.ndarray:
    """T at ``energy`` for a plane wave crossing sites with on-site energies ``potential`` (same units as J).

    ``energy`` is any shape (T has that shape); outside the open band (-2J, 2J)
    nothing propagates and T = 0. Exact: transfer matrices of the discrete
    Schroedinger equation, with the incoming, reflected and transmitted waves
    matched on the lead sites next to the region.
    """
    if not (isinstance(hopping, (int, float)) and not isinstance(hopping, bool) and math.isfinite(hopping)
            and hopping > 0):
        raise ValueError(f"hopping must be a finite number > 0, got {hopping!r}")
    energy = as_float_array(energy, "energy").astype(np.float64)
    check_finite(energy, "energy")
    V = as_float_array(potential, "potential").astype(np.float64).reshape(-1)
    check_finite(V, "potential")
    if V.size == 0:
        raise ValueError("potential must hold at least one site")
    J = float(hopping)
    flat = energy.reshape(-1)
    inside = np.abs(flat) < 2 * J
    E = np.where(inside, flat, 0.0)
    q = np.arccos(-E / (2 * J))
    # (psi_{j+1}, psi_j) = M_j (psi_j, psi_{j-1}),  M_j = [[(V_j - E)/J, -1], [1, 0]]
    M = np.broadcast_to(np.eye(2, dtype=complex), (E.size, 2, 2)).copy()
    for v in V:
        step = np.zeros((E.size, 2, 2), dtype=complex)
        step[:, 0, 0] = (v - E) / J
        step[:, 0, 1] = -1.0
        step[:, 1, 0] = 1.0
        M = step @ M
    m = V.size
    # Region sites 0..m-1. Left: psi_j = e^{iqj} + r e^{-iqj} for j <= 0; right: psi_j = t e^{iqj} for j >= m-1.
    phase = np.exp(1j * q)
    incoming = np.stack([np.ones_like(phase), 1 / phase], axis=-1)          # (psi_0, psi_-1) of e^{iqj}
    reflected = np.stack([np.ones_like(phase), phase], axis=-1)             # (psi_0, psi_-1) of e^{-iqj}
    outgoing = np.stack([phase**m, phase ** (m - 1)], axis=-1)             # (psi_m, psi_{m-1}) of e^{iqj}
    A = np.stack([np.einsum("bij,bj->bi", M, reflected), -outgoing], axis=-1)
    rhs = -np.einsum("bij,bj->bi", M, incoming)
    solution = np.linalg.solve(A, rhs[..., None])[..., 0]
    T = np.where(inside, np.abs(solution[:, 1]) ** 2, 0.0)
    return T.reshape(energy.shape)[()] if energy.ndim == 0 else T.reshape(energy.shape)


def thin_barrier_strength(eps, g: float) -> np.ndarray:
    """U/J of the one-site barrier standing for a rectangular barrier of strength ``g`` at eps = E/V0.

    The chain is read at its band centre (q = pi/2) with lead velocity matched to
    the particle's, so U/J = g / sqrt(eps) (see the module docstring).
    """
    eps = as_float_array(eps, "eps").astype(np.float64)
    check_finite(eps, "eps")
    if np.any(eps <= 0):
        raise ValueError(f"eps must be > 0, got min {float(eps.min())!r}")
    return g / np.sqrt(eps)


def thin_barrier_transmission(eps, g: float) -> np.ndarray:
    """The continuum delta barrier's T = 1 / (1 + g^2 / (4 eps)), the thin-barrier limit of the rectangle."""
    eps = as_float_array(eps, "eps").astype(np.float64)
    check_finite(eps, "eps")
    return 1.0 / (1.0 + g * g / (4.0 * eps))
