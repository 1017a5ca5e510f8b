"""Fused kernels of the analytic QT activation for float32 tensors: C on CPU, Triton on CUDA.

Each backend module offers the same three functions on contiguous float32 tensors
(``V0`` in eV and ``g`` as numbers or 0-d tensors):

* ``transmission(z, ampl, V0, g)``: T(ampl z / V0);
* ``transmission_and_slope(z, ampl, V0, g, chain_numerator)``: T and (chain_numerator / V0) dT/deps;
* ``input_gradient(z, grad, ampl, V0, g, chain_numerator)``: grad * (chain_numerator / V0) dT/deps.
"""

from __future__ import annotations

import functools
import warnings

import torch

from . import cpu


def fused_backend(device: torch.device):
    """The kernel module for float32 tensors on ``device``, or None where the torch path must serve."""
    if device.type == "cpu":
        return cpu if cpu.library() is not None else None
    if device.type == "cuda":
        return _cuda_backend()
    return None


@functools.lru_cache(maxsize=None)
def _cuda_backend():
    try:
        from . import cuda
    except ImportError as exc:   # a torch build without Triton
        warnings.warn(f"qthybrid: Triton is not available ({exc}), so float32 QTActivation on CUDA uses the "
                      f"slower torch path", cpu.KernelFallbackWarning, stacklevel=3)
        return None
    return cuda
