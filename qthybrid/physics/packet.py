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

import math

import numpy as np

from .._arrays import as_float_array, check_finite, is_tensor
from .barrier import Barrier
from .transmission import transmission

_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(256)
_HALF_SPAN_SIGMAS = 10.0


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
    k0, sigma = np.broadcast_arrays(k0, sigma)
    low = np.maximum(0.0, k0 - _HALF_SPAN_SIGMAS * sigma)
    high = k0 + _HALF_SPAN_SIGMAS * sigma
    half = (high - low)[..., None] / 2
    k = half * _NODES + (high + low)[..., None] / 2
    density = np.exp(-0.5 * ((k - k0[..., None]) / sigma[..., None]) ** 2) / (
        math.sqrt(2 * math.pi) * sigma[..., None])
    T = transmission(barrier.V0 * k * k, barrier)
    result = np.sum(half * _WEIGHTS * density * T, axis=-1)
    return result[()] if result.ndim == 0 else result
