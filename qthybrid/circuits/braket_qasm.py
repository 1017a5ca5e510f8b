"""OpenQASM 3 in Amazon Braket's native gate names (rz, v, x, cnot).

Braket's local simulator gave wrong probabilities (by ~0.1) for Qiskit's
exported form of these circuits (gates defined through ``U`` and
``ctrl @ U``) although each gate alone was right; the same circuits written
in Braket's own gate set agree with Qiskit to 1e-15. So circuits for Braket
are transpiled to {rz, sx, x, cx} and written out here.
"""

from __future__ import annotations

_BRAKET_NAMES = {"rz": "rz", "sx": "v", "x": "x", "cx": "cnot"}


def braket_native(circuit, seed: int = 7):
    """The circuit transpiled to Braket's native {rz, v (sx), x, cnot} (measurements kept)."""
    from qiskit import transpile

    return transpile(circuit, basis_gates=list(_BRAKET_NAMES), optimization_level=1, seed_transpiler=seed)


def plain_qasm(circuit, names: dict, measure: bool = True) -> str:
    """OpenQASM 3 with no include, for a circuit whose gates ``names`` maps to the client's own names
    (Braket's, or the plain ones PennyLane's ``qml.from_qasm3`` reads); measurements written when asked."""
    lines = ["OPENQASM 3.0;", f"qubit[{circuit.num_qubits}] q;"]
    if measure and circuit.num_clbits:
        lines.append(f"bit[{circuit.num_clbits}] c;")
    for instruction in circuit.data:
        operation = instruction.operation
        qubits = ", ".join(f"q[{circuit.find_bit(q).index}]" for q in instruction.qubits)
        if operation.name == "measure":
            if measure:
                lines.append(f"c[{circuit.find_bit(instruction.clbits[0]).index}] = measure {qubits};")
        elif operation.name == "barrier":
            continue
        elif operation.name in names:
            arguments = "(" + ", ".join(repr(float(p)) for p in operation.params) + ")" if operation.params else ""
            lines.append(f"{names[operation.name]}{arguments} {qubits};")
        else:
            raise ValueError(f"cannot write {operation.name!r} in this dialect")
    return "\n".join(lines) + "\n"


def braket_qasm(native) -> str:
    """A circuit already in Braket's native gates (see :func:`braket_native`) as OpenQASM 3 text."""
    return plain_qasm(native, _BRAKET_NAMES)
