"""Circuits for chain programs (:class:`~qthybrid.programs.ChainProgram`): Qiskit and PennyLane.

Site j is qubit (wire) j. A hop exp(i tau (|j><j+1| + h.c.)) on bond (j, j+1) is
``XXPlusYYGate(-2 tau, 0)`` on qubits [j, j+1] in Qiskit and ``qml.IsingXY(2 tau)``
in PennyLane; the preparation's real rotations are ``XXPlusYYGate(2 theta, -pi/2)``
and ``qml.SingleExcitation(2 theta, wires=[j, j+1])``; a site's phase is ``p`` /
``qml.PhaseShift``. On IBM Heron each XX+YY rotation costs two CZ gates and the chain
maps onto a line of qubits without swaps.

The potential of a batch row enters as one circuit parameter per site that carries
a potential (``v<j>``, the site energy V_j / J): a sweep is one circuit and its
parameter binds. Measurement: bit j of the classical register is qubit j.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..programs.chain import ChainProgram, HopLayer, site_outcomes


@dataclass(frozen=True)
class BuiltChain:
    """A Qiskit circuit for a chain program; bind ``parameters[j]`` (site j's V_j / J) per batch row."""

    circuit: object           #: qiskit.QuantumCircuit
    parameters: dict          #: site -> qiskit.circuit.Parameter

    def parameter_binds(self, program: ChainProgram) -> dict:
        """Aer ``parameter_binds`` entry for the program's potential batch."""
        return {parameter: program.potential[:, site].tolist() for site, parameter in self.parameters.items()}

    def bound(self, program: ChainProgram, row: int = 0):
        """The circuit with batch row ``row`` bound."""
        if not self.parameters:
            return self.circuit
        return self.circuit.assign_parameters({p: float(program.potential[row, site])
                                               for site, p in self.parameters.items()})


def build_chain_circuit(program: ChainProgram, *, measure: bool = True) -> BuiltChain:
    """The Qiskit circuit of ``program`` (measured into ``c`` unless ``measure`` is False)."""
    from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister
    from qiskit.circuit import Parameter
    from qiskit.circuit.library import XXPlusYYGate

    n = program.num_sites
    registers = [QuantumRegister(n, "q")] + ([ClassicalRegister(n, "c")] if measure else [])
    circuit = QuantumCircuit(*registers, name=program.name)
    start, rotations, phases = program.preparation()
    circuit.x(start)
    for j, theta in rotations:
        circuit.append(XXPlusYYGate(2 * theta, -math.pi / 2), [j, j + 1])
    for j in range(n):
        if phases[j]:
            circuit.p(float(phases[j]), j)
    parameters = {site: Parameter(f"v{site}") for site in program.potential_sites()}
    for layer in program.layers():
        if isinstance(layer, HopLayer):
            for j in layer.bonds:
                circuit.append(XXPlusYYGate(-2 * layer.angle, 0.0), [j, j + 1])
        else:
            for site, parameter in parameters.items():
                circuit.p(-layer.time * parameter, site)
    if measure:
        circuit.measure(range(n), range(n))
    return BuiltChain(circuit=circuit, parameters=parameters)


def chain_operations(program: ChainProgram, potential_row) -> list:
    """PennyLane operations of ``program`` for one potential row (wire j = site j), queuing off."""
    import pennylane as qml

    potential = np.asarray(potential_row, dtype=float)
    with qml.QueuingManager.stop_recording():
        start, rotations, phases = program.preparation()
        ops = [qml.PauliX(wires=start)]
        ops += [qml.SingleExcitation(2 * theta, wires=[j, j + 1]) for j, theta in rotations]
        ops += [qml.PhaseShift(float(phases[j]), wires=j) for j in range(program.num_sites) if phases[j]]
        sites = program.potential_sites()
        for layer in program.layers():
            if isinstance(layer, HopLayer):
                ops += [qml.IsingXY(2 * layer.angle, wires=[j, j + 1]) for j in layer.bonds]
            else:
                ops += [qml.PhaseShift(-layer.time * float(potential[site]), wires=site) for site in sites]
    return ops


def outcomes_from_bit_probabilities(probabilities, num_sites: int) -> np.ndarray:
    """Probabilities over the 2^n bit strings (index bit j = qubit j) -> the n + 1 chain outcomes (last axis)."""
    probabilities = np.asarray(probabilities, dtype=float)
    one_hot = 1 << np.arange(num_sites)
    sites = probabilities[..., one_hot]
    rest = np.clip(probabilities.sum(axis=-1) - sites.sum(axis=-1), 0.0, None)
    return np.concatenate([sites, rest[..., None]], axis=-1)


__all__ = ["BuiltChain", "build_chain_circuit", "chain_operations", "outcomes_from_bit_probabilities",
           "site_outcomes"]
