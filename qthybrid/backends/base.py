"""The one interface every qthybrid backend implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from ..physics import Barrier
from .options import Option, Options


@dataclass(frozen=True)
class Capabilities:
    """What a backend can do, declared once per backend class."""

    exact: bool = True            #: noiseless, deterministic results are available
    shots: bool = False           #: can sample with a finite number of shots
    programs: bool = False        #: executes Schrodinger programs (wave-packet simulation)
    differentiable: bool = False  #: returns gradients of T with respect to E
    gpu: bool = False             #: can run on a GPU when one is present


@dataclass(frozen=True)
class TransmissionResult:
    """T at each swept energy, with its standard error when sampled with shots.

    ``metadata`` holds what the execution reports (job ids, device, timings).
    """

    energies: np.ndarray           #: eV
    transmission: np.ndarray
    stderr: np.ndarray | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)


class Backend(ABC):
    """Base class: validated options with per-call overrides, and ``transmission``.

    Subclasses set ``name`` and ``capabilities``, declare ``_default_options``
    and implement ``_run_transmission``.
    """

    name: str = ""
    capabilities: Capabilities = Capabilities()

    @classmethod
    def _default_options(cls) -> Mapping[str, Option]:
        return {}

    def __init__(self, **options):
        self._options = Options(self._default_options(), options)

    @property
    def options(self) -> Options:
        return self._options

    def set_options(self, **options) -> None:
        """Change option values for all later calls (validated)."""
        self._options = self._options.replace(**options)

    def transmission(self, energies, barrier: Barrier = Barrier(), **overrides) -> np.ndarray:
        """T at ``energies`` (eV) for ``barrier``; keyword arguments override options for this call."""
        return self.run_transmission(energies, barrier, **overrides).transmission

    def run_transmission(self, energies, barrier: Barrier = Barrier(), **overrides) -> TransmissionResult:
        """Like :meth:`transmission`, returning the full :class:`TransmissionResult`."""
        options = self._options.replace(**overrides)
        return self._run_transmission(energies, barrier, options)

    @abstractmethod
    def _run_transmission(self, energies, barrier: Barrier, options: Options) -> TransmissionResult:
        """Evaluate T for one energy sweep with resolved ``options``."""

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r} options={dict(self._options)}>"
