"""Transmission coefficient of a rectangular barrier and its derivative, in closed form.

With eps = E / V0 and u = g sqrt|1 - eps| the exact result is

    T = 1 / (1 + x),   x = (g^2 / (4 eps)) S(u),
    S = (sinh u / u)^2 for eps < 1,   (sin u / u)^2 for eps > 1,   S = 1 at eps = 1,

and T = 0 for E <= 0 (no propagating wave). Below the barrier x is formed as
exp(log x), so thick barriers never overflow (T underflows cleanly to 0), and
the derivative is

    dT/deps = T (1 - T) [1/eps + g^2 q(u)],

with q = (u coth u - 1)/u^2 below and (1 - u cot u)/u^2 above the barrier: both
tend to 1/3 at eps = 1, and above the barrier the product with T(1 - T) is
rearranged so that resonances (sin u = 0) never divide by zero. At E = 0 the
derivative is the right-hand limit 4 / (V0 sinh^2 g), the steepest slope.

Every function takes numpy arrays (numpy out) or torch tensors (torch out).
"""

from __future__ import annotations

import math

import numpy as np

from .._arrays import (as_float_array, check_finite, check_float_tensor, is_tensor,
                       numpy_namespace, torch_namespace)
from .barrier import Barrier

_LN2 = math.log(2.0)
#: Values per block in :func:`transmission` and :func:`dtransmission_dE` (bounds their scratch memory).
CHUNK_SIZE = 1 << 16
#: Above this eps, 1 - T <= 1 / (4 eps (eps - 1)) < 3e-19 for every g: the kernel evaluates T at
#: EPS_FREE (= 1 in float64) and gives its derivatives their limit 0 (|dT/deps| < 4e-20 there for
#: g <= 1e4), so E / V0 = inf, e.g. from an overflow, gives T = 1 instead of NaN.
EPS_FREE = 1e9
#: Below this |1 - eps| g^2 the q(u) series replaces the closed form.
_SERIES_LIMIT = 1e-2


def _log_sinh_over_u(xp, u, tiny):
    """log(sinh(u)/u) for u >= 0 without overflow (exact 0 at u = 0)."""
    small = xp.clip(u, tiny, 1.0)
    large = xp.clip(u, 1.0, None)
    return xp.where(
        u <= 1.0,
        xp.log(xp.sinh(small) / small),
        large - _LN2 + xp.log1p(-xp.exp(-2.0 * large)) - xp.log(large),
    )


def _q_series(s):
    """(u coth u - 1)/u^2 as a series in s = +u^2 (below) or -u^2 (above the barrier)."""
    return 1 / 3 - s / 45 + 2 * s**2 / 945 - s**3 / 4725 + 2 * s**4 / 93555


def transmission_kernel(xp, eps, g, with_derivative: bool):
    """T(eps) and, if asked, dT/deps for a dimensionless barrier strength ``g``.

    ``xp`` is a namespace from :mod:`qthybrid._arrays`; ``eps`` a finite float
    array; ``g`` a positive 0-d array/tensor of the same dtype (and device).
    Returns ``(T, dT)`` with ``dT`` None when not asked for.
    """
    tiny = xp.tiny(eps.dtype)
    positive = eps > 0
    below = eps < 1
    e = xp.where(positive, xp.clip(eps, None, EPS_FREE), 1.0)
    s = g * g * (1.0 - e)                        # +u^2 below, -u^2 above the barrier
    u = xp.sqrt(xp.abs(s))
    half_g2 = 0.25 * g * g

    # Below the barrier: x = exp(log x) so that thick barriers cannot overflow.
    log_S = 2.0 * _log_sinh_over_u(xp, u, tiny)
    log_x = xp.log(half_g2) - xp.log(e) + log_S
    t_below = xp.sigmoid(-log_x)
    # Above: S <= 1 and eps > 1, so the direct form is safe.
    u_nz = xp.clip(u, tiny, None)
    sin_u = xp.sin(u_nz)
    x_above = half_g2 * (sin_u / u_nz) ** 2 / e
    t_above = 1.0 / (1.0 + x_above)

    zero_or_nan = xp.where(eps == eps, 0.0, eps)   # NaN propagates, as in torch's activations
    T = xp.where(positive, xp.where(below, t_below, t_above), zero_or_nan)
    if not with_derivative:
        return T, None

    series = xp.abs(s) < _SERIES_LIMIT
    u_big = xp.clip(u, math.sqrt(_SERIES_LIMIT) / 2, None)
    t1mt_below = t_below * xp.sigmoid(log_x)
    q_below = xp.where(series, _q_series(s), (u_big / xp.tanh(u_big) - 1.0) / (u_big * u_big))
    # T (1 - T) / eps = (1 - T) / (eps + g^2 S / 4): finite even for subnormal eps.
    d_below = xp.sigmoid(log_x) / (e + half_g2 * xp.exp(log_S)) + t1mt_below * g * g * q_below

    t1mt_above = x_above * t_above * t_above
    sin_big = xp.sin(u_big)
    d_above = xp.where(
        series,
        t1mt_above * (1.0 / e + g * g * _q_series(s)),
        t1mt_above * (1.0 / e + g * g / (u_big * u_big))
        - t_above * t_above * half_g2 * g * g * sin_big * xp.cos(u_big) / (e * u_big**3),
    )

    slope_at_zero = 4.0 * xp.exp(-2.0 * _log_sinh_over_u(xp, g, tiny)) / (g * g)
    dT = xp.where(positive, xp.where(below, d_below, xp.where(eps > EPS_FREE, 0.0, d_above)),
                  xp.where(eps == 0, slope_at_zero, zero_or_nan))
    return T, dT


def _evaluate(E, barrier: Barrier, with_derivative: bool):
    """(T, dT/dE) for numpy or torch ``E``, computed in blocks of CHUNK_SIZE values.

    The kernel makes about 20 temporaries of its input's size; blocks keep that scratch at a few
    MB, so the peak memory is the input, the output(s) and one block's scratch. (A torch input
    that needs gradients is evaluated in one piece: autograd keeps its intermediates anyway.)
    """
    if not isinstance(barrier, Barrier):
        raise TypeError(f"barrier must be a qthybrid.Barrier, got {type(barrier).__name__}")
    if is_tensor(E):
        return _evaluate_tensor(E, barrier, with_derivative)
    array = as_float_array(E, "E")
    flat = array.reshape(-1)
    V0, g = array.dtype.type(barrier.V0), np.asarray(barrier.g, dtype=array.dtype)
    xp = numpy_namespace()
    T = np.empty_like(flat)
    dT = np.empty_like(flat) if with_derivative else None
    with np.errstate(over="ignore", divide="ignore", invalid="ignore", under="ignore"):
        for start in range(0, flat.size, CHUNK_SIZE):
            block = slice(start, start + CHUNK_SIZE)
            if not np.isfinite(flat[block]).all():
                check_finite(array, "E")     # raises, counting the bad values of the whole input
            T[block], dT_block = transmission_kernel(xp, flat[block] / V0, g, with_derivative)
            if with_derivative:
                dT[block] = dT_block / V0
    T = T.reshape(array.shape)
    dT = None if dT is None else dT.reshape(array.shape)
    if array.ndim == 0:
        return T[()], (None if dT is None else dT[()])
    return T, dT


def _evaluate_tensor(E, barrier: Barrier, with_derivative: bool):
    import torch

    check_float_tensor(E, "E")
    check_finite(E, "E")
    work = E if E.dtype in (torch.float32, torch.float64) else E.float()
    g = torch.as_tensor(barrier.g, dtype=work.dtype, device=work.device)
    xp = torch_namespace()
    if work.requires_grad and torch.is_grad_enabled():
        T, dT = transmission_kernel(xp, work / barrier.V0, g, with_derivative)
        return T.to(E.dtype), None if dT is None else (dT / barrier.V0).to(E.dtype)
    flat = work.detach().reshape(-1)
    T = torch.empty_like(flat)
    dT = torch.empty_like(flat) if with_derivative else None
    for start in range(0, flat.numel(), CHUNK_SIZE):
        T[start:start + CHUNK_SIZE], dT_block = transmission_kernel(xp, flat[start:start + CHUNK_SIZE] / barrier.V0,
                                                                     g, with_derivative)
        if with_derivative:
            dT[start:start + CHUNK_SIZE] = dT_block / barrier.V0
    T = T.reshape(E.shape).to(E.dtype)
    return T, None if dT is None else dT.reshape(E.shape).to(E.dtype)


def transmission(E, barrier: Barrier = Barrier()):
    """Transmission coefficient T(E) of a rectangular barrier; ``E`` in eV.

    numpy (or scalar/list) in, numpy out; torch in, torch out (same dtype and
    device). Raises ValueError for NaN/infinite energies and TypeError for
    non-real dtypes.
    """
    return _evaluate(E, barrier, with_derivative=False)[0]


def dtransmission_dE(E, barrier: Barrier = Barrier()):
    """dT/dE in 1/eV, closed form and finite everywhere (right limit at E = 0)."""
    return _evaluate(E, barrier, with_derivative=True)[1]


def transmission_and_derivative(E, barrier: Barrier = Barrier()):
    """``(T(E), dT/dE)`` from one shared evaluation."""
    return _evaluate(E, barrier, with_derivative=True)


def transmission_dg_kernel(xp, eps, g):
    """dT/dg at fixed eps (same conventions as :func:`transmission_kernel`).

    With x = exp(log x) as above, d(log x)/dg = 2 u coth(u) / g below the
    barrier and 2 u cot(u) / g above it, so dT/dg = -T (1 - T) d(log x)/dg; the
    cot form is rearranged to stay finite at resonances.
    """
    tiny = xp.tiny(eps.dtype)
    T, _ = transmission_kernel(xp, eps, g, with_derivative=False)
    positive = eps > 0
    e = xp.where(positive, xp.clip(eps, None, EPS_FREE), 1.0)
    u = g * xp.sqrt(xp.abs(1.0 - e))
    u_nz = xp.clip(u, tiny, None)
    below = -2.0 / g * T * (1.0 - T) * u_nz / xp.tanh(u_nz)
    above = -0.5 * g * T * T * xp.sin(u_nz) * xp.cos(u_nz) / (e * u_nz)
    return xp.where(positive, xp.where(eps < 1, below, xp.where(eps > EPS_FREE, 0.0, above)), 0.0)
