"""Array plumbing shared by the numerical kernels: numpy/torch dispatch and input checks.

torch is never imported here: a tensor is recognised only if torch is already
loaded by the caller, so numpy users do not pay torch's import time.
"""

from __future__ import annotations

import math
import sys
from types import SimpleNamespace

import numpy as np


def is_tensor(value) -> bool:
    """True when ``value`` is a torch tensor (without importing torch)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(value, torch.Tensor)


def numpy_namespace() -> SimpleNamespace:
    """numpy functions under the names the kernels use."""
    from scipy.special import expit

    return SimpleNamespace(
        where=np.where, log=np.log, log1p=np.log1p, exp=np.exp, sqrt=np.sqrt,
        abs=np.abs, sinh=np.sinh, sin=np.sin, cos=np.cos, tanh=np.tanh,
        clip=np.clip, sigmoid=expit,
        tiny=lambda dtype: np.finfo(dtype).tiny,
    )


def torch_namespace() -> SimpleNamespace:
    """torch functions under the names the kernels use."""
    import torch

    return SimpleNamespace(
        where=torch.where, log=torch.log, log1p=torch.log1p, exp=torch.exp,
        sqrt=torch.sqrt, abs=torch.abs, sinh=torch.sinh, sin=torch.sin,
        cos=torch.cos, tanh=torch.tanh, clip=torch.clip, sigmoid=torch.sigmoid,
        tiny=lambda dtype: torch.finfo(dtype).tiny,
    )


def as_float_array(value, name: str) -> np.ndarray:
    """Convert ``value`` to a float32/float64 numpy array or raise a TypeError naming ``name``.

    Integers become float64 (as numpy's own ufuncs do); float16 is computed in
    float32; booleans, complex numbers, strings and objects are refused.
    """
    try:
        array = np.asarray(value)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name} must be an array of real numbers: {exc}") from None
    kind = array.dtype.kind
    if kind in "iu":
        return array.astype(np.float64)
    if kind != "f":
        raise TypeError(
            f"{name} must hold real floating-point or integer values, got dtype {array.dtype}")
    if array.dtype == np.float16:
        return array.astype(np.float32)
    if array.dtype not in (np.float32, np.float64):
        return array.astype(np.float64)
    return array


def check_float_tensor(tensor, name: str) -> None:
    """Raise a TypeError naming ``name`` unless ``tensor`` has a real floating dtype."""
    if not tensor.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {tensor.dtype}")


def check_finite(values, name: str) -> None:
    """Raise a ValueError naming ``name`` if any entry is NaN or infinite."""
    if is_tensor(values):
        import torch

        bad = int((~torch.isfinite(values)).sum())
    else:
        bad = int(np.count_nonzero(~np.isfinite(values)))
    if bad:
        raise ValueError(f"{name} must be finite: {bad} of {values.size if not is_tensor(values) else values.numel()} "
                         f"values are NaN or infinite")


def check_positive_number(value, name: str) -> None:
    """Raise a ValueError naming ``name`` unless ``value`` is an int or float (not a bool), finite and > 0."""
    if not (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
