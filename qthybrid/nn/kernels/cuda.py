"""The fused QT kernel on CUDA: one Triton program per block of 1024 elements.

It evaluates the same closed forms as ``qt_kernel.c`` (see its header), all in
float64 with every branch computed and the right one selected, so it needs no
host synchronisation and no table: the barrier arrives as a float64 device
tensor (ampl/V0, chain/V0, g, eps_max). A GPU is memory-bound on this kernel, so the
float64 arithmetic costs little on data-centre GPUs. Triton ships with CUDA
builds of torch; this module is imported only for CUDA tensors. With
``TRITON_INTERPRET=1`` the same kernel runs on CPU tensors (the tests use that
where Triton is installed, to check it without a GPU).
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from ...physics.transmission import EPS_FREE

_BLOCK = 1024


@triton.jit
def _qt_kernel(z_ptr, grad_ptr, t_ptr, out_ptr, params_ptr, n,
               WRITE_T: tl.constexpr, WRITE_SLOPE: tl.constexpr, TIMES_GRAD: tl.constexpr, BLOCK: tl.constexpr):
    offsets = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)   # int64: tensors beyond 2^31
    mask = offsets < n
    a = tl.load(params_ptr)
    chain = tl.load(params_ptr + 1)
    g = tl.load(params_ptr + 2)
    eps_max = tl.load(params_ptr + 3)
    g2 = g * g
    eps = tl.load(z_ptr + offsets, mask=mask, other=0.0).to(tl.float64) * a
    positive = eps > 0
    e = tl.where(positive, tl.minimum(eps, eps_max), 1.0)
    s = g2 * (1.0 - e)

    # |s| <= 1: f(s) = sinh(sqrt s)/sqrt s and f'(s) from their series.
    sc = tl.minimum(tl.maximum(s, -1.0), 1.0)
    f = 1.0 + sc * (1.0 / 6 + sc * (1.0 / 120 + sc * (1.0 / 5040 + sc * (1.0 / 362880 + sc * (1.0 / 39916800)))))
    df = 1.0 / 6 + sc * (2.0 / 120 + sc * (3.0 / 5040 + sc * (4.0 / 362880 + sc * (5.0 / 39916800))))
    d_series = 4.0 * e + g2 * f * f
    t_series = 4.0 * e / d_series
    slope_series = 4.0 * g2 * f * (f + 2.0 * e * g2 * df) / (d_series * d_series)

    # s > 1, below the barrier: w = exp(-2v) keeps thick barriers finite.
    v = tl.sqrt(tl.maximum(s, 1.0))
    w = tl.exp(-2.0 * v)
    om = 1.0 - w
    big_n = 16.0 * e * v * v * w
    big_m = g2 * om * om
    inv = 1.0 / (big_n + big_m)
    t_below = big_n * inv
    q = (v * (1.0 + w) / om - 1.0) / (v * v)
    slope_below = 16.0 * v * v * w * big_m * inv * inv + t_below * big_m * inv * g2 * q

    # s < -1, above the barrier.
    u = tl.sqrt(tl.maximum(-s, 1.0))
    sin_u = tl.sin(u)
    cos_u = tl.cos(u)
    x = g2 * sin_u * sin_u / (4.0 * e * u * u)
    t_above = 1.0 / (1.0 + x)
    slope_above = (t_above * t_above * x * (1.0 / e + g2 / (u * u))
                   - t_above * t_above * g2 * g2 * sin_u * cos_u / (4.0 * e * u * u * u))

    series = tl.abs(s) <= 1.0
    t = tl.where(series, t_series, tl.where(s > 0, t_below, t_above))
    slope = tl.where(series, slope_series, tl.where(s > 0, slope_below, slope_above))
    w_g = tl.exp(-2.0 * g)
    slope_at_zero = 16.0 * w_g / ((1.0 - w_g) * (1.0 - w_g))   # 4 / sinh^2 g
    zero_or_nan = tl.where(eps == eps, 0.0, eps)                # NaN propagates
    t = tl.where(positive, t, zero_or_nan)
    slope = tl.where(eps > eps_max, 0.0, slope)
    slope = tl.where(positive, slope, tl.where(eps == 0, slope_at_zero, zero_or_nan)) * chain

    if WRITE_T:
        tl.store(t_ptr + offsets, t.to(tl.float32), mask=mask)
    if WRITE_SLOPE:
        tl.store(out_ptr + offsets, slope.to(tl.float32), mask=mask)
    if TIMES_GRAD:
        grad = tl.load(grad_ptr + offsets, mask=mask, other=0.0).to(tl.float64)
        tl.store(out_ptr + offsets, (grad * slope).to(tl.float32), mask=mask)


def _params(z: torch.Tensor, ampl: float, V0, g, chain_numerator: float) -> torch.Tensor:
    """(ampl/V0, chain_numerator/V0, g, eps_max) as a float64 tensor on z's device, without a host sync."""
    V0 = torch.as_tensor(V0, dtype=torch.float64, device=z.device).detach()
    g = torch.as_tensor(g, dtype=torch.float64, device=z.device).detach()
    return torch.stack((ampl / V0, chain_numerator / V0, g, torch.full_like(g, EPS_FREE)))


def _launch(z, grad, t, out, params, write_t, write_slope, times_grad):
    n = z.numel()
    if n:
        _qt_kernel[(triton.cdiv(n, _BLOCK),)](z, grad, t, out, params, n, WRITE_T=write_t, WRITE_SLOPE=write_slope,
                                              TIMES_GRAD=times_grad, BLOCK=_BLOCK)


def transmission(z: torch.Tensor, ampl: float, V0, g) -> torch.Tensor:
    """T(ampl z / V0) for a contiguous float32 tensor ``z``; ``V0`` (eV) and ``g`` numbers or 0-d tensors."""
    t = torch.empty_like(z)
    _launch(z, z, t, t, _params(z, ampl, V0, g, 1.0), True, False, False)
    return t


def transmission_and_slope(z: torch.Tensor, ampl: float, V0, g, chain_numerator: float):
    """T and (chain_numerator / V0) dT/deps; chain_numerator = ampl gives dT/dz."""
    t, slope = torch.empty_like(z), torch.empty_like(z)
    _launch(z, z, t, slope, _params(z, ampl, V0, g, chain_numerator), True, True, False)
    return t, slope


def input_gradient(z: torch.Tensor, grad: torch.Tensor, ampl: float, V0, g, chain_numerator: float) -> torch.Tensor:
    """grad * (chain_numerator / V0) dT/deps, the slope recomputed in the same pass (``grad`` as ``z``)."""
    out = torch.empty_like(z)
    _launch(z, grad, out, out, _params(z, ampl, V0, g, chain_numerator), False, False, True)
    return out
