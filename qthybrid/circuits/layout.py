"""Where a circuit runs on a device: the one transpilation every noisy path shares, and the device's patch.

Noise rehearsal, submission to ``ibm:<device>`` and PennyLane's ``qiskit.remote``
must put a circuit on the same physical qubits: readout errors on one device range
from 0.5 % to 17 % and more (FakeTorino's qubit 0: 16.7 %), so two layouts of the
same circuit give different T. :func:`device_transpile_options` fixes them:

* a chain (:class:`~qthybrid.programs.ChainProgram`) goes onto the line of qubits with
  the best two-qubit, single-qubit and readout fidelities (:func:`best_line`), so it
  needs no swaps;
* any other circuit gets Qiskit's level-1 layout with a fixed seed.

:func:`device_patch` restricts a device to the qubits a circuit uses (renumbered
0..k-1, every gate, readout and relaxation figure kept), so a noise model of 9
qubits is simulated instead of one of 133.
"""

from __future__ import annotations

import math
#: Transpiler settings every noisy path uses.
OPTIMIZATION_LEVEL = 1
SEED_TRANSPILER = 7


def _fidelity_costs(device):
    """(-log fidelity per qubit (readout and sx), -log fidelity per usable two-qubit edge)."""
    target = device.target
    two_qubit = next(name for name in ("cz", "ecr", "cx") if name in target.operation_names)
    qubit_cost = {}
    for q in range(target.num_qubits):
        cost = 0.0
        for name in ("measure", "sx"):
            props = target[name].get((q,)) if name in target.operation_names else None
            error = props.error if props is not None and props.error is not None else 0.0
            cost += -math.log(max(1e-12, 1 - min(error, 0.999)))
        qubit_cost[q] = cost
    edges = {}
    for qargs, props in target[two_qubit].items():
        if props is None or props.error is None or props.error >= 0.5:   # broken couplers (error 1)
            continue
        a, b = qargs
        cost = -math.log(1 - props.error)
        for x, y in ((a, b), (b, a)):
            edges.setdefault(x, {})[y] = min(cost, edges.get(x, {}).get(y, math.inf))
    return qubit_cost, edges


#: (device name, length) -> the best line found (a device's calibration data are fixed per fake device).
_LINES: dict = {}


def _search_line(device, length: int) -> tuple:
    qubit_cost, edges = _fidelity_costs(device)
    best_cost, best_path = math.inf, None

    def extend(path, cost):
        nonlocal best_cost, best_path
        if cost >= best_cost:
            return
        if len(path) == length:
            best_cost, best_path = cost, tuple(path)
            return
        for neighbour, edge_cost in sorted(edges.get(path[-1], {}).items()):
            if neighbour not in path:
                path.append(neighbour)
                # each bond of the chain carries ~ steps rotations of 2 two-qubit gates: weigh edges up
                extend(path, cost + 8 * edge_cost + qubit_cost[neighbour])
                path.pop()

    for start in sorted(edges):
        extend([start], qubit_cost[start])
    if best_path is None:
        raise ValueError(f"{device.name} has no line of {length} connected qubits")
    return best_path


def best_line(device, length: int) -> tuple:
    """The ``length`` physical qubits, in chain order, of the best-scoring simple path of the coupling map.

    The score is the sum of -log fidelities: readout and sx per qubit, and the two-qubit
    gate per edge weighted by 8 (a chain bond carries many rotations); couplers with
    error >= 0.5 (reported broken) are never used. Deterministic for a device.
    """
    if not (isinstance(length, int) and length >= 1):
        raise ValueError(f"length must be an int >= 1, got {length!r}")
    if length > device.num_qubits:
        raise ValueError(f"{device.name} has {device.num_qubits} qubits; the chain needs {length}")
    key = (device.name, length)
    if key not in _LINES:
        _LINES[key] = _search_line(device, length)
    return list(_LINES[key])


def device_transpile_options(device, program=None) -> dict:
    """Keyword arguments of ``qiskit.transpile`` (and of PennyLane's ``qiskit.remote``) for ``program``."""
    from ..programs.chain import ChainProgram

    options = {"optimization_level": OPTIMIZATION_LEVEL, "seed_transpiler": SEED_TRANSPILER}
    if isinstance(program, ChainProgram):
        options["initial_layout"] = best_line(device, program.num_sites)
    return options


def transpile_for_device(circuits, device, program=None):
    """``qiskit.transpile`` with :func:`device_transpile_options` (the one transpilation of every noisy path)."""
    from qiskit import transpile

    return transpile(circuits, backend=device, **device_transpile_options(device, program))


def used_qubits(circuit) -> list:
    """Physical qubits a transpiled circuit acts on, ascending."""
    used = set()
    for instruction in circuit.data:
        if instruction.operation.name in ("barrier", "delay"):
            continue
        used.update(circuit.find_bit(q).index for q in instruction.qubits)
    return sorted(used)


def compact(circuit, qubits: list):
    """A transpiled circuit moved onto qubits 0..k-1 (physical qubit ``qubits[i]`` -> i)."""
    from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister

    index = {q: i for i, q in enumerate(qubits)}
    registers = [QuantumRegister(len(qubits), "q")] + [ClassicalRegister(creg.size, creg.name)
                                                         for creg in circuit.cregs]
    out = QuantumCircuit(*registers, name=circuit.name, global_phase=circuit.global_phase)
    clbit_map = {bit: out.clbits[circuit.find_bit(bit).index] for bit in circuit.clbits}
    for instruction in circuit.data:
        if instruction.operation.name in ("barrier", "delay"):
            continue
        out.append(instruction.operation, [out.qubits[index[circuit.find_bit(q).index]] for q in instruction.qubits],
                   [clbit_map[c] for c in instruction.clbits])
    return out


def device_patch(device, qubits):
    """``device`` restricted to ``qubits`` (renumbered 0..k-1 in that order): a BackendV2 whose target keeps
    every instruction's error and duration and every qubit's T1, T2 and frequency among those qubits."""
    from qiskit.providers import BackendV2, Options
    from qiskit.transpiler import Target

    qubits = [int(q) for q in qubits]
    index = {q: i for i, q in enumerate(qubits)}
    source = device.target
    target = Target(num_qubits=len(qubits), dt=source.dt,
                    qubit_properties=[device.qubit_properties(q) for q in qubits])
    for name in source.operation_names:
        if name in ("if_else", "switch_case", "for_loop", "while_loop"):
            continue
        properties = {tuple(index[q] for q in qargs): props for qargs, props in source[name].items()
                      if qargs is not None and all(q in index for q in qargs)}
        if properties:
            target.add_instruction(source.operation_from_name(name), properties, name=name)

    class DevicePatch(BackendV2):
        def __init__(self):
            super().__init__(name=f"{device.name}[{','.join(map(str, qubits))}]")

        @property
        def target(self):
            return target

        @property
        def max_circuits(self):
            return None

        @classmethod
        def _default_options(cls):
            return Options()

        def run(self, run_input, **options):
            raise NotImplementedError("a device patch only describes the device; simulate it with "
                                      "AerSimulator.from_backend(patch)")

    return DevicePatch()
