"""What the simulated-quantum backends share: presets as options, energy conversion, memory guard."""

from __future__ import annotations

import os

import numpy as np

from .._arrays import as_float_array, check_finite
from ..physics import Barrier
from ..programs import PRESETS, ScatteringProgram, scattering_preset
from .options import Option, one_of, optional_positive_int


def _program_or_none(value) -> bool:
    return value is None or isinstance(value, ScatteringProgram)


def program_options() -> dict:
    """Options every program-running backend declares."""
    return {
        "preset": Option("accurate", one_of(*PRESETS), f"one of {', '.join(map(repr, PRESETS))}"),
        "program": Option(None, _program_or_none,
                          "None (use the preset) or a qthybrid.programs.ScatteringProgram"),
        "shots": Option(None, optional_positive_int, "None (exact probabilities) or an int >= 1"),
        "seed": Option(None, lambda v: v is None or (isinstance(v, int) and v >= 0), "None or an int >= 0"),
    }


def resolve_program(options, barrier: Barrier) -> ScatteringProgram:
    """The program an execution uses: the explicit one, else the preset for ``barrier.g``."""
    program = options.program or scattering_preset(options.preset, g=barrier.g)
    if abs(program.g - barrier.g) > 1e-12 * barrier.g:
        raise ValueError(f"program.g = {program.g} does not match barrier.g = {barrier.g}")
    return program


def energies_to_eps(energies, barrier: Barrier) -> tuple[np.ndarray, np.ndarray]:
    """Validated energies (eV, float64, flat) and eps = E / V0."""
    energies = as_float_array(energies, "energies").astype(np.float64).reshape(-1)
    check_finite(energies, "energies")
    return energies, energies / barrier.V0


def available_memory_bytes() -> int:
    """Physical memory that a simulation may use (bytes)."""
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 8 * 2**30


def check_memory(num_qubits: int, batch: int = 1, bytes_per_amplitude: int = 16,
                 copies: int = 3, density_matrix: bool = False) -> None:
    """Raise MemoryError before allocating a state that cannot fit in memory."""
    amplitudes = 4**num_qubits if density_matrix else 2**num_qubits
    needed = amplitudes * bytes_per_amplitude * batch * copies
    available = available_memory_bytes()
    if needed > available:
        kind = "density matrix" if density_matrix else "statevector"
        raise MemoryError(
            f"num_qubits={num_qubits} needs about {needed / 2**30:.3g} GiB for the {kind} "
            f"(batch {batch}), but only {available / 2**30:.3g} GiB are available; "
            f"use fewer qubits or a smaller sweep batch")
