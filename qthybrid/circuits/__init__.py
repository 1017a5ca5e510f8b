"""Circuit builders (Qiskit, PennyLane, Braket dialect) for Schrodinger programs, and their exports."""

from .builder import BuiltCircuit, build_circuit

__all__ = ["BuiltCircuit", "build_circuit"]
