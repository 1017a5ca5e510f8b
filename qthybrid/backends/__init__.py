"""Backend registry: ``get_backend(name, **options)``.

Backends are imported only when requested, so asking for ``analytic`` never
imports Qiskit, PennyLane or torch.
"""

from __future__ import annotations

import importlib

from .base import Backend, Capabilities, TransmissionResult
from .options import Option, Options

_REGISTRY = {
    "analytic": ("qthybrid.backends.analytic", "AnalyticBackend"),
    "statevector": ("qthybrid.backends.statevector", "StatevectorBackend"),
    "aer": ("qthybrid.backends.aer", "AerBackend"),
    "pennylane": ("qthybrid.backends.pennylane", "PennyLaneBackend"),
}


def available_backends() -> list[str]:
    """Names accepted by :func:`get_backend`."""
    return sorted(_REGISTRY)


def get_backend(name: str, **options) -> Backend:
    """Instantiate the backend called ``name`` with validated ``options``."""
    if not isinstance(name, str) or name not in _REGISTRY:
        raise ValueError(f"unknown backend {name!r}; known backends: {', '.join(available_backends())}")
    module_name, class_name = _REGISTRY[name]
    backend_class = getattr(importlib.import_module(module_name), class_name)
    return backend_class(**options)


__all__ = ["Backend", "Capabilities", "TransmissionResult", "Option", "Options",
           "available_backends", "get_backend"]
