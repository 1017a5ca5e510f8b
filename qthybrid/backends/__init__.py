"""Backend registry: ``get_backend(name, **options)``.

Backends are found through the ``qthybrid.backends`` entry-point group, so a
third-party package plugs a backend in by declaring, in its own pyproject::

    [project.entry-points."qthybrid.backends"]
    mybackend = "mypackage.module:MyBackend"

qthybrid's own backends are always available, installed or not. Backends are
imported only when requested, so asking for ``analytic`` never imports Qiskit,
PennyLane or torch.
"""

from __future__ import annotations

import importlib

from .base import Backend, Capabilities, ProgramBackend, TransmissionResult
from .options import Option, Options

#: The entry-point group third-party backends register under.
ENTRY_POINT_GROUP = "qthybrid.backends"

_BUILTIN = {
    "analytic": "qthybrid.backends.analytic:AnalyticBackend",
    "statevector": "qthybrid.backends.statevector:StatevectorBackend",
    "aer": "qthybrid.backends.aer:AerBackend",
    "pennylane": "qthybrid.backends.pennylane:PennyLaneBackend",
}


def _registry() -> dict:
    """name -> 'module:Class' for the built-in and every entry-point backend (built-ins win)."""
    from importlib.metadata import entry_points

    found = {entry.name: entry.value for entry in entry_points(group=ENTRY_POINT_GROUP)}
    return {**found, **_BUILTIN}


def available_backends() -> list[str]:
    """Names accepted by :func:`get_backend`."""
    return sorted(_registry())


def backend_class(name: str) -> type:
    """The Backend class registered as ``name``."""
    registry = _registry()
    if not isinstance(name, str) or name not in registry:
        raise ValueError(f"unknown backend {name!r}; known backends: {', '.join(sorted(registry))}")
    module_name, _, class_name = registry[name].partition(":")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise ImportError(f"backend {name!r} is registered as {registry[name]!r} but cannot be loaded: {exc}") from exc
    if not (isinstance(cls, type) and issubclass(cls, Backend)):
        raise TypeError(f"backend {name!r} ({registry[name]}) is not a qthybrid.backends.Backend subclass")
    return cls


def get_backend(name: str, **options) -> Backend:
    """Instantiate the backend called ``name`` with validated ``options``.

    ``"pennylane:lightning.qubit"`` is short for ``get_backend("pennylane", device="lightning.qubit")``
    (any backend with a ``device`` option).
    """
    if isinstance(name, str) and ":" in name:
        name, _, device = name.partition(":")
        options = {"device": device, **options}
    return backend_class(name)(**options)


__all__ = ["Backend", "ProgramBackend", "Capabilities", "TransmissionResult", "Option", "Options",
           "ENTRY_POINT_GROUP", "available_backends", "backend_class", "get_backend"]
