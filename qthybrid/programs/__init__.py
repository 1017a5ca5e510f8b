"""Schrodinger programs: framework-neutral descriptions that every backend executes.

:class:`SplitOperatorProgram` is the one executable unit (scattering and
annealing alike); the scattering designs turn an energy sweep into programs and
their probabilities back into T(E).
"""

from .annealing import annealing_program, check_annealing_size, grid_axes, grid_points
from .chain import ChainProgram, ChainScattering, site_outcomes
from .scattering import (PRESETS, SWEEPS, Band, CurveScattering, EnergySchedule, PacketScattering,
                         scattering_preset)
from .split_operator import ProgramResult, Readout, SplitOperatorProgram, signed_indices

__all__ = ["SplitOperatorProgram", "ChainProgram", "ChainScattering", "site_outcomes",
           "Readout", "ProgramResult", "signed_indices", "PacketScattering",
           "CurveScattering", "Band", "EnergySchedule", "scattering_preset", "PRESETS", "SWEEPS",
           "annealing_program", "check_annealing_size", "grid_axes", "grid_points"]
