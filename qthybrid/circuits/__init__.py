"""Circuit builders (Qiskit) for Schrodinger programs, and their OpenQASM 3 export."""

from .builder import ScatteringCircuit, build_scattering_circuit
from .export import circuit_costs, export_circuits

__all__ = ["ScatteringCircuit", "build_scattering_circuit", "circuit_costs", "export_circuits"]
