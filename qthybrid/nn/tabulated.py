"""Circuit-backed QT activation: T(eps) from one simulated sweep, served by a monotone interpolant.

A circuit backend measures T at a grid of energies in one execution (one job);
the curve is cached on disk, keyed by the scattering design's fingerprint, the backend
and its options, and the library versions. Between knots T is the monotone
cubic Hermite (PCHIP) interpolant, which torch differentiates exactly. Below
the lowest energy the simulation's box can measure, T follows the rectangular
barrier's threshold law T = eps / (eps + b), T proportional to eps as eps -> 0
(exact up to the slow variation of (sinh u / u)^2, 0.6 % in b for the paper's
g = 0.5), with b fixed by the lowest simulated knot; T = 0 for E <= 0. Above the
last knot T is held constant. ``mode="exact"`` instead simulates every distinct input value
(small tensors only), with gradients from central differences in the same sweep.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..backends import get_backend
from ..physics import Barrier

#: Largest eps tabulated: T is within 2e-5 of 1 beyond it for the paper's barrier.
EPS_TABLE_MAX = 40.0
#: Knots below the simulated range, on the threshold law (geometric down to 1e-4 of the lowest energy).
THRESHOLD_KNOTS = 12
#: Most distinct values ``mode="exact"`` will simulate in one call.
EXACT_MAX_VALUES = 256
_FD_STEP = 1e-3   # relative step of the central difference in exact mode
_T_SLACK = 1e-9   # rounding allowed outside [0, 1] in a cached curve

log = logging.getLogger(__name__)


def cache_dir() -> Path:
    """Where simulated curves are kept: $QTHYBRID_CACHE_DIR or ~/.cache/qthybrid."""
    return Path(os.environ.get("QTHYBRID_CACHE_DIR", Path.home() / ".cache" / "qthybrid"))


def _versions() -> dict:
    from .._version import __version__

    versions = {"qthybrid": __version__}
    for module in ("qiskit", "qiskit_aer", "pennylane"):
        try:
            versions[module] = __import__(module).__version__
        except ImportError:
            pass
    return versions


def _pchip_slopes(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    from scipy.interpolate import PchipInterpolator

    return PchipInterpolator(x, y).derivative()(x)


def simulated_curve(backend, barrier: Barrier, eps: np.ndarray) -> np.ndarray:
    """T at ``eps`` from ``backend``, read from or written to the disk cache."""
    design = backend.scattering_design(backend.options, barrier)
    key_material = {"design": design.fingerprint(), "backend": backend.name,
                    "options": {k: repr(v) for k, v in backend.options.items() if k != "scattering"},
                    "V0": barrier.V0, "eps": np.round(eps, 12).tolist(), "versions": _versions()}
    key = hashlib.sha256(json.dumps(key_material, sort_keys=True).encode()).hexdigest()[:24]
    path = cache_dir() / f"curve-{backend.name}-{design.name}-{key}.npz"
    cached = _load_cached_curve(path, eps)
    if cached is not None:
        return cached
    T = np.asarray(backend.transmission(eps * barrier.V0, barrier), dtype=np.float64)
    _store_curve(path, eps, T, key_material)
    return T


def _load_cached_curve(path: Path, eps: np.ndarray) -> np.ndarray | None:
    """The cached T at ``eps``, or None (recompute) when the entry is missing or cannot be trusted:
    unreadable (truncated, corrupt), for other energies, or holding values outside [0, 1] or NaN.
    Entries are loaded without pickle, so a cache file can never run code."""
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as stored:
            stored_eps, T = np.asarray(stored["eps"]), np.asarray(stored["T"])
    except Exception as exc:   # BadZipFile, EOFError, OSError, ValueError, KeyError, ... from a damaged file
        log.warning("curve cache entry %s is unreadable (%s: %s): recomputing it", path, type(exc).__name__, exc)
        return None
    if stored_eps.shape != eps.shape or T.shape != eps.shape or not np.array_equal(stored_eps, eps):
        log.warning("curve cache entry %s is for other energies: recomputing it", path)
        return None
    if T.dtype.kind != "f" or not np.all(np.isfinite(T)) or T.min() < -_T_SLACK or T.max() > 1 + _T_SLACK:
        log.warning("curve cache entry %s holds values outside [0, 1] or non-finite ones: recomputing it", path)
        return None
    return T.astype(np.float64)


def _store_curve(path: Path, eps: np.ndarray, T: np.ndarray, key_material: dict) -> None:
    """Write the curve atomically; a cache that cannot be written only costs a recomputation later."""
    handle = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".npz", delete=False) as handle:
            np.savez(handle, eps=eps, T=T, key=json.dumps(key_material))
        os.replace(handle.name, path)
    except OSError as exc:
        log.warning("could not write the curve cache %s (%s): the curve is used without caching", path, exc)
        if handle is not None:
            Path(handle.name).unlink(missing_ok=True)


def hermite_interpolate(x, knots, values, slopes):
    """Cubic Hermite interpolation of (knots, values, slopes) at ``x``; constant beyond the last knot."""
    last = knots.numel() - 1
    inside = x.clamp(knots[0], knots[-1])
    index = torch.searchsorted(knots, inside.detach(), right=True).clamp(1, last) - 1
    x0, x1 = knots[index], knots[index + 1]
    h = x1 - x0
    t = (inside - x0) / h
    t2, t3 = t * t, t * t * t
    return ((2 * t3 - 3 * t2 + 1) * values[index] + (t3 - 2 * t2 + t) * h * slopes[index]
            + (-2 * t3 + 3 * t2) * values[index + 1] + (t3 - t2) * h * slopes[index + 1])


class _ExactCircuitQT(torch.autograd.Function):
    """T at each distinct eps, simulated; gradient by central differences from the same sweep."""

    @staticmethod
    def forward(ctx, eps, backend, barrier):
        flat = eps.detach().cpu().double().numpy().reshape(-1)
        positive = np.unique(flat[flat > 0])
        if positive.size > EXACT_MAX_VALUES:
            raise ValueError(f"mode='exact' simulates each distinct value; got {positive.size} "
                             f"(at most {EXACT_MAX_VALUES}): use mode='table'")
        T = np.where(np.isnan(flat), np.nan, 0.0)    # NaN propagates, as in the analytic activation
        dT = T.copy()
        if positive.size:
            h = _FD_STEP * positive
            sweep = np.concatenate([positive, positive - h, positive + h])
            values = backend.transmission(sweep * barrier.V0, barrier)
            centre, low, high = np.split(values, 3)
            where = np.searchsorted(positive, flat[flat > 0])
            T[flat > 0] = centre[where]
            dT[flat > 0] = ((high - low) / (2 * h))[where]
        ctx.save_for_backward(torch.as_tensor(dT.reshape(eps.shape), dtype=eps.dtype, device=eps.device))
        return torch.as_tensor(T.reshape(eps.shape), dtype=eps.dtype, device=eps.device)

    @staticmethod
    def backward(ctx, grad_output):
        (dT,) = ctx.saved_tensors
        return grad_output * dT, None, None


class TabulatedQT(nn.Module):
    """The QT activation served from a circuit backend (see module docstring).

    Args:
        backend: a backend name (``"statevector"``, ``"aer"``, ...) or instance.
        barrier: the barrier (V0 in eV, g).
        ampl: eV per unit of pre-activation.
        mode: ``"table"`` or ``"exact"``.
        paper_gradient: drop the chain factor ampl in the backward pass.
        backend_options: options when ``backend`` is a name.
        num_points: knots in the simulated sweep (``"table"`` mode).
    """

    def __init__(self, backend, barrier: Barrier, ampl: float, mode: str = "table",
                 paper_gradient: bool = False, backend_options: dict | None = None, num_points: int = 48):
        super().__init__()
        if mode not in ("table", "exact"):
            raise ValueError(f"mode must be 'table' or 'exact', got {mode!r}")
        self.backend = get_backend(backend, **(backend_options or {})) if isinstance(backend, str) else backend
        if not self.backend.capabilities.programs:
            raise ValueError(f"backend {self.backend.name!r} does not run Schrodinger programs; "
                             f"use backend='analytic' for the closed form")
        self.barrier, self.ampl, self.mode = barrier, float(ampl), mode
        self.paper_gradient = bool(paper_gradient)
        low, high = self.backend.scattering_design(self.backend.options, barrier).energy_range()
        self.eps_range = (low, high)
        if mode == "table":
            eps = np.geomspace(low * 1.02, min(high, EPS_TABLE_MAX), num_points)
            T = simulated_curve(self.backend, barrier, eps)
            below = eps[0] * np.geomspace(1e-4, 1.0, THRESHOLD_KNOTS + 1)[:-1]
            b = eps[0] * (1.0 / T[0] - 1.0) if T[0] > 0 else np.inf
            knots = np.concatenate([[0.0], below, eps])
            values = np.concatenate([[0.0], below / (below + b), T])
            self.register_buffer("knots", torch.as_tensor(knots))
            self.register_buffer("values", torch.as_tensor(values))
            self.register_buffer("slopes", torch.as_tensor(_pchip_slopes(knots, values)))

    def energy_ratio(self, z):
        """eps = ampl z / V0, with the gradient path scaled as ``paper_gradient`` asks."""
        if not self.paper_gradient:
            return z * (self.ampl / self.barrier.V0)
        return z.detach() * (self.ampl / self.barrier.V0) + (z - z.detach()) / self.barrier.V0

    def forward(self, z):
        if not z.is_floating_point():
            raise TypeError(f"z must be a floating-point tensor, got dtype {z.dtype}")
        eps = self.energy_ratio(z)
        if self.mode == "exact":
            low, high = self.eps_range
            values = eps.detach()
            outside = (values > 0) & ((values < low) | (values > high))
            if bool(outside.any()):
                raise ValueError(f"mode='exact' can simulate eps = ampl*z/V0 in [{low:.4g}, {high:.4g}] "
                                 f"(or <= 0); got {values[outside].flatten()[:5].tolist()}")
            return _ExactCircuitQT.apply(eps, self.backend, self.barrier)
        knots, values, slopes = (t.to(eps.dtype) for t in (self.knots, self.values, self.slopes))
        T = hermite_interpolate(eps, knots, values, slopes)
        # 0 for E <= 0; NaN propagates, as in the analytic activation (a diverged run must show).
        return torch.where(eps > 0, T, torch.where(torch.isnan(eps), eps, torch.zeros_like(T)))
