"""The one interface every qthybrid backend implements.

Modelled on PennyLane's Device API: a backend has one required method,
:meth:`Backend.execute`, which runs a batch of
:class:`~qthybrid.programs.SplitOperatorProgram` and returns one
:class:`~qthybrid.programs.ProgramResult` (probabilities) per program.
Everything else is built on it: :meth:`Backend.transmission` turns an energy
sweep into programs (through the scattering design the options choose), executes
them and reads T(E) back; the tabulated activation and the QDE annealer's
circuit method are users of ``execute`` too. Options follow Qiskit Aer's
pattern: declared once per class, validated, overridable per call.
"""

from __future__ import annotations

import functools
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from .._arrays import as_float_array, check_finite
from ..physics import Barrier
from ..programs import PRESETS, SWEEPS, ChainProgram, SplitOperatorProgram, scattering_preset
from .memory import default_memory_budget_mb
from .noisy import EXTRAPOLATIONS, MITIGATIONS, mitigation_ok, scale_factors_ok
from .options import Option, Options, one_of, optional_positive_int


@dataclass(frozen=True)
class Capabilities:
    """What a backend can do, declared once per backend class."""

    exact: bool = True            #: noiseless, deterministic results are available
    shots: bool = False           #: can sample with a finite number of shots
    programs: bool = False        #: executes Schrodinger programs (``execute``)
    differentiable: bool = False  #: returns gradients of T with respect to E
    gpu: bool = False             #: can run on a GPU when one is present


@dataclass(frozen=True)
class TransmissionResult:
    """T at each swept energy (the shape of the energies given), with its standard error under shots.

    ``metadata`` holds what the execution reports (backend, design, programs, job ids, timings).
    """

    energies: np.ndarray           #: eV
    transmission: np.ndarray
    stderr: np.ndarray | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)


class Backend(ABC):
    """Base class: validated options with per-call overrides, ``execute`` and ``transmission``.

    Subclasses set ``name`` and ``capabilities``, declare ``_default_options`` and
    implement :meth:`execute`.
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

    @abstractmethod
    def execute(self, programs, **overrides) -> list:
        """Run ``programs`` (one SplitOperatorProgram or a sequence) and return one ProgramResult each.

        Keyword arguments override options for this call (e.g. ``shots``).
        """

    def transmission(self, energies, barrier: Barrier = Barrier(), **overrides):
        """T at ``energies`` (eV, any shape; a scalar gives a float) for ``barrier``."""
        result = self.run_transmission(energies, barrier, **overrides)
        return result.transmission[()] if result.transmission.ndim == 0 else result.transmission

    @abstractmethod
    def run_transmission(self, energies, barrier: Barrier = Barrier(), **overrides) -> TransmissionResult:
        """Like :meth:`transmission`, returning the full :class:`TransmissionResult`."""

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r} options={dict(self._options)}>"


def checked_energies(energies) -> np.ndarray:
    """Validated energies (eV, float64, the input's shape)."""
    energies = as_float_array(energies, "energies").astype(np.float64)
    check_finite(energies, "energies")
    if energies.size == 0:
        raise ValueError("energies must hold at least one value")
    return energies


#: The program types every program backend executes.
PROGRAM_TYPES = (SplitOperatorProgram, ChainProgram)


def checked_programs(programs) -> list:
    """``programs`` as a list of SplitOperatorProgram or ChainProgram (a single program is accepted)."""
    if isinstance(programs, PROGRAM_TYPES):
        return [programs]
    try:
        programs = list(programs)
    except TypeError:
        raise TypeError(f"programs must be a SplitOperatorProgram, a ChainProgram or a sequence of them, "
                        f"got {type(programs).__name__}") from None
    for program in programs:
        if not isinstance(program, PROGRAM_TYPES):
            raise TypeError(f"programs must hold qthybrid.programs.SplitOperatorProgram or ChainProgram, "
                            f"got {type(program).__name__}")
    return programs


def split_by_type(programs) -> tuple[list, list]:
    """(indices of the split-operator programs, indices of the chain programs)."""
    chains = [i for i, program in enumerate(programs) if isinstance(program, ChainProgram)]
    return [i for i in range(len(programs)) if i not in chains], chains


def _design_ok(value) -> bool:
    return value is None or hasattr(value, "programs") and hasattr(value, "transmission")


def _memory_ok(value) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 16)


def _executing(execute):
    """``execute`` run where the ``executor`` option says: here, or spread over Ray tasks (backends.distributed)."""
    @functools.wraps(execute)
    def dispatch(self, programs, **overrides):
        options = self._options.replace(**overrides)
        if options.executor == "local":
            return execute(self, programs, **overrides)
        from .distributed import execute_on_ray

        return execute_on_ray(self, checked_programs(programs), options)

    return dispatch


class ProgramBackend(Backend):
    """A backend that executes programs: ``transmission`` is built on ``execute``.

    Options every program backend declares:

    * ``preset``: the reference scattering design (``accurate``, ``nisq`` or ``hardware``);
    * ``sweep``: ``auto`` (whole-curve bands where the preset is accurate, else per-energy
      packets), ``curve`` or ``packets``;
    * ``scattering``: an explicit design (PacketScattering, CurveScattering) instead of the preset;
    * ``shots``: None for exact probabilities, else the number of samples per program;
    * ``seed``: for sampling;
    * ``max_memory_mb``: the memory the execution may hold (MB); None for
      min(1024, a quarter of the available memory). Work that cannot fit is refused
      before it starts; long evolutions are chunked to fit.
    * ``mitigation``, ``zne_scale_factors``, ``zne_extrapolation``: error mitigation of noisy
      executions (see :mod:`qthybrid.backends.noisy`).
    * ``executor``: ``local``, or ``ray`` to spread each call's programs over Ray tasks on
      ``ray_address`` (None: a new local Ray instance; "auto": the running cluster) in
      ``ray_tasks`` tasks (None: one per CPU, or GPU, of the cluster); see
      :mod:`qthybrid.backends.distributed`.
    """

    capabilities = Capabilities(exact=True, shots=True, programs=True)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "execute" in cls.__dict__:     # the one dispatch point of the executor option
            cls.execute = _executing(cls.__dict__["execute"])

    @classmethod
    def _default_options(cls):
        return {
            "preset": Option("accurate", one_of(*PRESETS), f"one of {', '.join(map(repr, PRESETS))}"),
            "sweep": Option("auto", one_of(*SWEEPS), f"one of {', '.join(map(repr, SWEEPS))}"),
            "scattering": Option(None, _design_ok, "None (use the preset) or a scattering design such as "
                                                   "qthybrid.programs.CurveScattering"),
            "shots": Option(None, optional_positive_int, "None (exact probabilities) or an int >= 1"),
            "seed": Option(None, lambda v: v is None or (isinstance(v, int) and not isinstance(v, bool) and v >= 0),
                           "None or an int >= 0"),
            "max_memory_mb": Option(None, _memory_ok, "None (automatic) or an int >= 16 (MB)"),
            "mitigation": Option("auto", mitigation_ok, "'auto' (every mitigation the program allows, under noise), "
                                                        f"'none', or a list from {', '.join(map(repr, MITIGATIONS))}"),
            "zne_scale_factors": Option((1.0, 2.0, 3.0), scale_factors_ok,
                                        "increasing noise scale factors starting at 1, e.g. (1, 2, 3)"),
            "zne_extrapolation": Option("linear", one_of(*EXTRAPOLATIONS), f"one of {', '.join(map(repr, EXTRAPOLATIONS))}"),
            "executor": Option("local", one_of("local", "ray"), "'local' or 'ray'"),
            "ray_address": Option(None, lambda v: v is None or (isinstance(v, str) and bool(v)),
                                  "None (a new local Ray instance), 'auto' or a cluster address"),
            "ray_tasks": Option(None, optional_positive_int, "None (one per CPU or GPU of the cluster) or an int >= 1"),
        }

    def memory_budget_bytes(self, options) -> int:
        """The bytes this execution may hold."""
        megabytes = options.max_memory_mb if options.max_memory_mb is not None else default_memory_budget_mb()
        return int(megabytes) * 2**20

    def scattering_design(self, options, barrier: Barrier):
        """The design an energy sweep uses: the explicit one, else the preset for ``barrier.g``."""
        design = options.scattering or scattering_preset(options.preset, g=barrier.g, sweep=options.sweep)
        if abs(design.g - barrier.g) > 1e-12 * barrier.g:
            raise ValueError(f"the scattering design has g = {design.g}, but barrier.g = {barrier.g}")
        return design

    def run_transmission(self, energies, barrier: Barrier = Barrier(), **overrides) -> TransmissionResult:
        options = self._options.replace(**overrides)
        energies = checked_energies(energies)
        design = self.scattering_design(options, barrier)
        eps = energies.reshape(-1) / barrier.V0
        started = time.perf_counter()
        programs = design.programs(eps)
        results = self.execute(programs, **overrides)
        T, stderr = design.transmission(eps, results)
        metadata = {"backend": self.name, "design": type(design).__name__, "preset": design.name,
                    "design_fingerprint": design.fingerprint(), "programs": len(programs),
                    "steps": [program.steps for program in programs],
                    "seconds": time.perf_counter() - started}
        for result in results:
            for key, value in result.metadata.items():
                metadata.setdefault(key, value)
        shape = energies.shape
        return TransmissionResult(energies=energies, transmission=T.reshape(shape),
                                  stderr=None if stderr is None else stderr.reshape(shape), metadata=metadata)


__all__ = ["Backend", "ProgramBackend", "Capabilities", "TransmissionResult", "checked_energies",
           "checked_programs", "split_by_type", "PROGRAM_TYPES"]
