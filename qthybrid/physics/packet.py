"""Transmission averaged over a Gaussian wave packet's momentum distribution.

Lengths are measured in units of 1/q0 and momenta in units of
q0 = sqrt(2 m V0) / hbar, so that a plane wave of momentum k has
eps = E / V0 = k^2 and the barrier width is g. A packet with mean momentum
k0 = sqrt(E / V0) and momentum spread ``sigma_k`` (standard deviation of
|phi(k)|^2) transmits

    <T> = integral N(k; k0, sigma_k) T(k^2) dk   over k > 0,

since components moving away from the barrier (k < 0) are never transmitted.
This is exactly what a wave-packet simulation measures once the packet has
left the barrier.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from .._arrays import as_float_array, check_finite, is_tensor
from .barrier import Barrier
from .transmission import transmission

_HALF_SPAN_SIGMAS = 10.0
#: Energies per quadrature block: its (block x 256) work arrays stay near 1 MB each.
_ENERGIES_PER_BLOCK = 512


def packet_transmission(E, barrier: Barrier = Barrier(), sigma_k: float = 0.04):
    """Packet-averaged transmission for mean energies ``E`` (eV, >= 0).

    ``sigma_k`` is the momentum spread in units of q0 = sqrt(2 m V0)/hbar
    (scalar or one per energy). numpy in, numpy out; torch in, torch out
    (values only: no gradient flows through the quadrature).
    """
    if is_tensor(E):
        import torch

        result = packet_transmission(E.detach().cpu().double().numpy(), barrier, sigma_k)
        return torch.as_tensor(result, dtype=E.dtype, device=E.device)
    energies = as_float_array(E, "E").astype(np.float64)
    check_finite(energies, "E")
    if np.any(energies < 0):
        raise ValueError("E must be >= 0 for a wave packet (its mean kinetic energy); "
                         f"got min {energies.min()!r} eV")
    sigma = as_float_array(sigma_k, "sigma_k").astype(np.float64)
    check_finite(sigma, "sigma_k")
    if np.any(sigma <= 0):
        raise ValueError(f"sigma_k must be > 0, got {sigma_k!r}")
    k0 = np.sqrt(energies / barrier.V0)
    try:
        k0, sigma = np.broadcast_arrays(k0, sigma)
    except ValueError:
        raise ValueError(f"sigma_k must be a scalar or broadcast against E's shape {energies.shape}, got shape "
                         f"{sigma.shape}") from None
    with np.errstate(over="ignore"):
        top = barrier.V0 * (k0 + _HALF_SPAN_SIGMAS * sigma) ** 2      # the highest energy the quadrature visits
    if not np.all(np.isfinite(top)):
        raise ValueError(f"sigma_k = {sigma_k!r} (x q0) with E up to {float(energies.max())!r} eV reaches energies beyond "
                         f"the float range; use sigma_k <= 1 (a packet narrower than q0)")
    result = np.empty(k0.shape)
    flat_k0, flat_sigma, flat_result = k0.reshape(-1), sigma.reshape(-1), result.reshape(-1)
    for start in range(0, flat_k0.size, _ENERGIES_PER_BLOCK):
        block = slice(start, start + _ENERGIES_PER_BLOCK)
        flat_result[block] = _packet_block(flat_k0[block], flat_sigma[block], barrier)
    return result[()] if result.ndim == 0 else result


@functools.cache
def _gauss_legendre() -> tuple[np.ndarray, np.ndarray]:
    """256 Gauss-Legendre nodes and weights on [-1, 1] (computed on first use, not at import)."""
    return np.polynomial.legendre.leggauss(256)


def _packet_block(k0, sigma, barrier: Barrier):
    """<T> for 1-d arrays of mean momenta and spreads, by Gauss-Legendre in t = (k - k0) / sigma.

    Working in t keeps the nodes distinct even when sigma is far below k0's float resolution
    (the packet is then monochromatic and <T> = T(E)).
    """
    nodes, weights = _gauss_legendre()
    low = np.maximum(-_HALF_SPAN_SIGMAS, -k0 / sigma)[:, None]        # k > 0 only
    half = (_HALF_SPAN_SIGMAS - low) / 2
    t = half * nodes + (_HALF_SPAN_SIGMAS + low) / 2
    density = np.exp(-0.5 * t * t) / math.sqrt(2 * math.pi)
    k = k0[:, None] + sigma[:, None] * t
    T = transmission(barrier.V0 * k * k, barrier)
    return np.sum(half * weights * density * T, axis=-1)
