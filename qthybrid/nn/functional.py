"""The analytic QT activation as a ``torch.autograd.Function`` with a closed-form backward."""

from __future__ import annotations

import torch

from .._arrays import check_float_tensor, torch_namespace
from ..physics.transmission import transmission_dg_kernel, transmission_kernel

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


def qt_activation(z, ampl: float = 10.0, V0=30.0, g=0.5, paper_gradient: bool = False):
    """h = T(ampl * z) with the analytic barrier (V0 in eV, g); differentiable in z, V0, g.

    float16/bfloat16 inputs are evaluated in float32 and cast back. NaN inputs
    propagate (as in ``torch.sigmoid``); use :func:`qthybrid.transmission` for
    checked evaluation.
    """
    check_float_tensor(z, "z")
    work_dtype = z.dtype if z.dtype in (torch.float32, torch.float64) else torch.float32
    V0 = torch.as_tensor(V0, device=z.device).to(work_dtype)
    g = torch.as_tensor(g, device=z.device).to(work_dtype)
    out = AnalyticQT.apply(z.to(work_dtype), float(ampl), V0, g, bool(paper_gradient))
    return out.to(z.dtype)
