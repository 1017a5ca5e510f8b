"""Logistic-in-energy transmission laws offered beside the rectangular barrier.

* :func:`logistic_transmission` is the tunnelling classifier's
  Q(x) = 1 / (1 + exp(alpha (beta - x))) (paper 3): a heuristic.
* :func:`hill_wheeler_transmission` is the exact (Kemble / Hill-Wheeler)
  transmission through an inverted parabolic barrier
  V(x) = V0 - m omega^2 x^2 / 2:  T = 1 / (1 + exp(2 pi (V0 - E) / (hbar omega))).
  It is the logistic law with alpha = 2 pi / (hbar omega) and beta = V0, which
  gives the classifier's parameters a physical reading.
"""

from __future__ import annotations

import math

from .._arrays import as_float_array, check_finite, check_float_tensor, is_tensor


def _sigmoid(values, name):
    if is_tensor(values):
        import torch

        check_float_tensor(values, name)
        check_finite(values, name)
        return torch.sigmoid(values)
    from scipy.special import expit

    array = as_float_array(values, name)
    check_finite(array, name)
    result = expit(array)
    return result[()] if result.ndim == 0 else result


def logistic_transmission(x, alpha: float = 1.0, beta: float = 0.0):
    """Q(x) = 1 / (1 + exp(alpha (beta - x))); stable for any finite input."""
    for name, value in (("alpha", alpha), ("beta", beta)):
        if not math.isfinite(float(value)):
            raise ValueError(f"{name} must be finite, got {value!r}")
    if is_tensor(x):
        check_float_tensor(x, "x")
        return _sigmoid(alpha * (x - beta), "x")
    return _sigmoid(float(alpha) * (as_float_array(x, "x") - float(beta)), "x")


def hill_wheeler_transmission(E, V0: float = 30.0, hbar_omega: float = 1.0):
    """Parabolic-barrier transmission at energy ``E`` (eV) for height ``V0`` (eV)
    and curvature energy ``hbar_omega`` (eV, > 0)."""
    if not (math.isfinite(float(V0)) and V0 > 0):
        raise ValueError(f"V0 must be finite and > 0, got {V0!r}")
    if not (math.isfinite(float(hbar_omega)) and hbar_omega > 0):
        raise ValueError(f"hbar_omega must be finite and > 0, got {hbar_omega!r}")
    return logistic_transmission(E, alpha=2 * math.pi / hbar_omega, beta=V0)
