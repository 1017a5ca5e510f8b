"""Circuit builders (Qiskit) for Schrodinger programs, and their OpenQASM 3 export."""

from .builder import ScatteringCircuit, build_scattering_circuit

__all__ = ["ScatteringCircuit", "build_scattering_circuit"]
