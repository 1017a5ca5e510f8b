"""The analytic QT activation as ``torch.autograd.Function``s with closed-form backward passes.

float64 tensors take :class:`AnalyticQT` (the float64 physics kernel, exact);
float32, float16 and bfloat16 tensors take :class:`FusedQT` (one fused kernel
pass in float32, see :mod:`qthybrid.nn.kernels`), or :class:`AnalyticQT` in
float32 where no fused kernel is available.
"""

from __future__ import annotations

import torch
from torch.autograd.function import once_differentiable

from .._arrays import check_float_tensor, torch_namespace
from ..physics.transmission import transmission_dg_kernel, transmission_kernel
from .kernels import fused_backend

_XP = torch_namespace()


class AnalyticQT(torch.autograd.Function):
    """h = T(ampl * z) for a barrier given as 0-d tensors V0 (eV) and g.

    ``z``, ``V0`` and ``g`` share one dtype (float32 or float64). The forward
    pass computes T and dT/deps together and keeps only the factor the backward
    pass needs, so the input gradient costs one multiplication:
    dh/dz = ampl * T'(E), or T'(E) alone with ``paper_gradient`` (the paper's
    code omits the chain factor ampl). Gradients for V0 and g are formed only
    when asked for, and are always the true ones.
    """

    @staticmethod
    def forward(ctx, z, ampl: float, V0, g, paper_gradient: bool):
        eps = z * (ampl / V0)
        needs_z, _, needs_V0, needs_g, _ = ctx.needs_input_grad
        T, dT_deps = transmission_kernel(_XP, eps, g, with_derivative=needs_z or needs_V0)
        chain_numerator = 1.0 if paper_gradient else ampl
        ctx.chain_numerator = chain_numerator
        ctx.save_for_backward(
            None if dT_deps is None else dT_deps * (chain_numerator / V0),
            eps if (needs_V0 or needs_g) else None, g)
        return T

    @staticmethod
    def backward(ctx, grad_output):
        dT_dz, eps, g = ctx.saved_tensors
        needs_z, _, needs_V0, needs_g, _ = ctx.needs_input_grad
        grad_z = grad_V0 = grad_g = None
        if needs_z:
            grad_z = grad_output * dT_dz
        if needs_V0:
            # dT/dV0 = dT/deps * (-eps / V0), and dT_dz = dT/deps * chain_numerator / V0.
            grad_V0 = (-(grad_output * dT_dz * eps).sum() / ctx.chain_numerator).reshape(())
        if needs_g:
            grad_g = (grad_output * transmission_dg_kernel(_XP, eps, g)).sum().reshape(())
        return grad_z, None, grad_V0, grad_g, None


class FusedQT(torch.autograd.Function):
    """h = T(ampl * z / V0) for a contiguous float32 ``z`` from one fused kernel pass.

    The forward pass writes T only and keeps z; the backward pass recomputes
    the slope in the same pass that multiplies it by the incoming gradient.
    Each pass thus reads and writes as much memory as ``torch.sigmoid``'s
    (keeping dT/dz from the forward pass instead costs one more tensor written
    and read, and is slower: see the README). ``paper_gradient`` drops the
    chain factor ampl from dh/dz as in :class:`AnalyticQT`; V0 and g (0-d
    tensors) get their true gradients when they require them.
    """

    @staticmethod
    def forward(ctx, z, ampl: float, V0, g, paper_gradient: bool):
        backend = fused_backend(z.device)
        ctx.backend, ctx.ampl, ctx.paper_gradient = backend, ampl, paper_gradient
        ctx.save_for_backward(z, V0, g)
        return backend.transmission(z, ampl, V0.detach(), g.detach())

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        z, V0, g = ctx.saved_tensors
        V0, g = V0.detach(), g.detach()
        needs_z, _, needs_V0, needs_g, _ = ctx.needs_input_grad
        backend, ampl = ctx.backend, ctx.ampl
        if not grad_output.is_contiguous():
            grad_output = grad_output.contiguous()
        grad_z = grad_V0 = grad_g = None
        if needs_z:
            grad_z = backend.input_gradient(z, grad_output, ampl, V0, g, 1.0 if ctx.paper_gradient else ampl)
        if needs_V0:
            # dT/dV0 = -(z / V0) dT/dz with the true dT/dz (chain numerator ampl).
            true_grad_z = grad_z if (grad_z is not None and not ctx.paper_gradient) else \
                backend.input_gradient(z, grad_output, ampl, V0, g, ampl)
            grad_V0 = (-(true_grad_z * z).sum(dtype=torch.float64) / V0).reshape(())
        if needs_g:
            eps = z * (ampl / V0).to(z.dtype)
            grad_g = (grad_output * transmission_dg_kernel(_XP, eps, g.to(z.dtype))).sum(dtype=torch.float64)
            grad_g = grad_g.reshape(())
        return grad_z, None, grad_V0, grad_g, None


def _as_float64(value, device) -> torch.Tensor:
    if isinstance(value, torch.Tensor) and value.dtype == torch.float64 and value.device == device:
        return value
    return torch.as_tensor(value, dtype=torch.float64, device=device)


@torch.compiler.disable   # an opaque kernel call: torch.compile runs it as it is, between its graphs
def _fused_qt(z, ampl: float, V0, g, paper_gradient: bool):
    """:class:`FusedQT` on ``z`` in float32, cast back; None where no fused kernel serves z's device.

    Small tensors (a recurrent net's steps) are dominated by per-call costs, so
    conversions are skipped where they would do nothing, and without anything to
    differentiate the kernel is called without the autograd.Function.
    """
    backend = fused_backend(z.device)
    if backend is None:
        return None
    work = z if z.dtype == torch.float32 else z.to(torch.float32)
    if not work.is_contiguous():
        work = work.contiguous()
    V0, g = _as_float64(V0, z.device), _as_float64(g, z.device)
    if torch.is_grad_enabled() and (work.requires_grad or V0.requires_grad or g.requires_grad):
        out = FusedQT.apply(work, ampl, V0, g, paper_gradient)
    else:
        out = backend.transmission(work, ampl, V0, g)
    return out if z.dtype == torch.float32 else out.to(z.dtype)


def qt_activation(z, ampl: float = 10.0, V0=30.0, g=0.5, paper_gradient: bool = False):
    """h = T(ampl * z) with the analytic barrier (V0 in eV, g); differentiable in z, V0, g.

    float64 inputs take the exact float64 kernel. float32 inputs take the fused
    kernel: T within a few float32 roundings of the float64 result (measured
    worst case 3e-7 relative, dT/dz 6e-7; see the README); float16/bfloat16
    inputs are evaluated the same way in float32 and cast back. NaN inputs
    propagate (as in ``torch.sigmoid``); use :func:`qthybrid.transmission` for
    checked evaluation.
    """
    check_float_tensor(z, "z")
    ampl, paper_gradient = float(ampl), bool(paper_gradient)
    if z.dtype != torch.float64:
        out = _fused_qt(z, ampl, V0, g, paper_gradient)
        if out is not None:
            return out
    work_dtype = z.dtype if z.dtype in (torch.float32, torch.float64) else torch.float32
    V0 = torch.as_tensor(V0, device=z.device).to(work_dtype)
    g = torch.as_tensor(g, device=z.device).to(work_dtype)
    out = AnalyticQT.apply(z.to(work_dtype), ampl, V0, g, paper_gradient)
    return out.to(z.dtype)
