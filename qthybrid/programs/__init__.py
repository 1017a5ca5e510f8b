"""Schrodinger programs: framework-neutral descriptions that backends execute."""

from .scattering import PRESETS, EnergySchedule, ScatteringProgram, scattering_preset

__all__ = ["ScatteringProgram", "EnergySchedule", "scattering_preset", "PRESETS"]
