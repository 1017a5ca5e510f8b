"""OpenQASM 3 exports of the reference programs and their cost manifest (the ``circuits/`` folder).

``export_circuits(directory)`` regenerates every file; ``circuit_costs`` reports
qubits, depth and gate counts after transpiling to a generic basis
(cx, rz, sx, x) or to a fake IBM device.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from ..programs import annealing_program, grid_points, scattering_preset
from .braket_qasm import braket_native, braket_qasm, plain_qasm
from .builder import build_circuit
from .devices import fake_backend

GENERIC_BASIS = ("cx", "rz", "sx", "x")
#: (preset, eps values bound into files); each preset also gets one parameterised file.
REFERENCE_ENERGIES = {"nisq": (0.5, 1.0, 2.0), "accurate": (1.0,)}
#: The device used for the "after transpiling to IBM hardware" figures.
REFERENCE_DEVICE = "fake_torino"
#: Above this many steps, costs are summed from a transpiled preparation and one transpiled step.
_WHOLE_CIRCUIT_STEPS = 40


def _counts(circuit) -> dict:
    ops = circuit.count_ops()
    two_qubit = sum(n for name, n in ops.items() if name in ("cx", "cz", "ecr", "rzz", "cp", "swap"))
    return {"depth": circuit.depth(), "two_qubit_gates": int(two_qubit), "total_gates": int(sum(ops.values()))}


def _transpile(circuit, target: str | None, seed: int = 11):
    from qiskit import transpile

    if target is None:
        return transpile(circuit, basis_gates=list(GENERIC_BASIS), optimization_level=1, seed_transpiler=seed)
    return transpile(circuit, backend=fake_backend(target), optimization_level=1, seed_transpiler=seed)


def circuit_costs(program, target: str | None = None) -> dict:
    """Depth and gate counts of the gate-level circuit of ``program`` after transpiling (``target`` None:
    generic basis).

    Up to 40 steps the whole unrolled circuit is transpiled; beyond that the
    counts are the preparation's plus ``steps`` times one step's ("sum of parts":
    an upper bound on depth, exact for the two-qubit count up to cross-boundary
    cancellations).
    """
    from ..programs.chain import ChainProgram

    steps = program.steps
    if isinstance(program, ChainProgram):
        from .chain import build_chain_circuit

        whole = _counts(_transpile(build_chain_circuit(program).bound(program), target))
        return {"qubits": program.num_sites, "steps": steps, "method": "whole circuit", **whole}
    if steps <= _WHOLE_CIRCUIT_STEPS:
        built = build_circuit(program.with_kicks(program.kicks[:1]), form="gates", readout="measure",
                              preparation="state_preparation")
        whole = _counts(_transpile(_bound(built, program), target))
        return {"qubits": program.num_qubits, "steps": steps, "method": "whole circuit", **whole}
    single = program.with_kicks(program.kicks[:1])
    prep = _bound(build_circuit(single, form="gates", readout="none", preparation="state_preparation",
                                stop_step=0, start_step=0), single, final=False)
    step = _one_step(single)
    prep_c = _counts(_transpile(prep, target))
    step_c = _counts(_transpile(step, target))
    total = {key: prep_c[key] + steps * step_c[key] for key in prep_c}
    return {"qubits": program.num_qubits, "steps": steps, "method": "sum of parts",
            "per_step_two_qubit_gates": step_c["two_qubit_gates"], "per_step_depth": step_c["depth"],
            "preparation_two_qubit_gates": prep_c["two_qubit_gates"], **total}


def _bound(built, program, final=True):
    """The built circuit with its kick parameters bound to the program's first kick row."""
    circuit = built.circuit
    if built.kick_parameters:
        circuit = circuit.assign_parameters({p: float(program.kicks[0, a]) for a, p in enumerate(built.kick_parameters)})
    if not final:
        circuit.remove_final_measurements(inplace=True)
        circuit = circuit.copy()
        circuit.data = [instruction for instruction in circuit.data if instruction.operation.name != "save_statevector"]
    return circuit


def _one_step(program):
    """The gate-level circuit of one Trotter step (kinetic phases and potential) of ``program``."""
    from qiskit import QuantumCircuit

    from .builder import _InstructionCache, _append_kinetic, _append_potential

    circuit = QuantumCircuit(program.num_qubits)
    cache = _InstructionCache()
    for a in range(len(program.registers)):
        _append_kinetic(circuit, program.register_qubits(a), float(program.kinetic_phases[0, a]), "gates", cache)
    _append_potential(circuit, program, float(program.potential_times[1]), cache)
    return circuit


_UNTYPED_FOR = re.compile(r"^(\s*)for (\w+) in \[", re.MULTILINE)


def _qasm_text(circuit) -> str:
    """OpenQASM 3 text; loop variables get the ``uint`` type the 3.0 grammar requires
    (Qiskit's exporter leaves them untyped, which the reference parser rejects)."""
    from qiskit import qasm3

    return _UNTYPED_FOR.sub(r"\1for uint \2 in [", qasm3.dumps(circuit))


def reference_circuits():
    """Yield (file stem, circuit, program, design, eps, description) for every reference scattering circuit."""
    for preset, energies in REFERENCE_ENERGIES.items():
        design = scattering_preset(preset, sweep="packets")
        loop = preset == "accurate"
        for eps in energies:
            (program,) = design.programs([eps])
            built = build_circuit(program, form="gates", readout="measure", preparation="state_preparation",
                                  loop=loop)
            yield (f"scattering_{preset}_eps{eps:g}", _bound(built, program), program, design, float(eps),
                   f"{preset} preset at E/V0 = {eps:g}: {program.steps} Trotter steps of dt = {design.dt}")
        program = design.programs(np.asarray(energies[:1]))[0]
        built = build_circuit(program, form="gates", readout="measure", preparation="state_preparation", loop=loop)
        yield (f"scattering_{preset}_parametric_{program.steps}steps", built.circuit, program, design, None,
               f"{preset} preset, {program.steps} steps, momentum kick k = sqrt(E/V0) * dx as the input parameter "
               f"k, dx = {design.dx:g} (valid for every energy whose schedule has {program.steps} steps)")


#: The reference annealing circuit: the tilted double well on 5 qubits, 60 Trotter steps.
ANNEALING_REFERENCE = {"qubits_per_dim": 5, "bounds": ((-2.0, 2.0),), "D0": 1e-2, "D_min": 1e-5, "steps": 60,
                       "dt": 0.5}


def annealing_reference_program():
    """The QDE annealing program exported to circuits/ (tilted double well x^4 - 2x^2 + 0.3x)."""
    ref = ANNEALING_REFERENCE
    x = grid_points(ref["bounds"], ref["qubits_per_dim"])[:, 0]
    return annealing_program(x**4 - 2 * x**2 + 0.3 * x, ref["qubits_per_dim"], 1, ref["D0"], ref["D_min"],
                             ref["steps"], ref["dt"])


def _annealing_entry(directory: Path) -> dict:
    from qiskit import transpile

    program = annealing_reference_program()
    built = build_circuit(program, form="gates", readout="measure", preparation="state_preparation")
    # The objective's DiagonalGate is expanded to standard gates (its own definition holds a
    # sub-circuit the OpenQASM 3 exporter cannot write).
    circuit = transpile(built.circuit, basis_gates=["u", "cx", "p", "cp", "h"], optimization_level=0)
    path = directory / "qde_anneal_double_well_5q.qasm"
    path.write_text(_qasm_text(circuit))
    return {"file": path.name, "description": "QDE annealer: adiabatic sweep of D from 1e-2 to 1e-5 in 60 steps "
                                              "on the tilted double well x^4 - 2x^2 + 0.3x over [-2, 2]",
            "preset": "qde-anneal", "program_fingerprint": program.fingerprint(), "eps": None, "steps": 60,
            "parameters": [],
            "measured_bits": {"c": "the 5 position qubits: grid index j (little-endian), x = -2 + 4 (j + 0.5)/32"},
            "generic_basis": _counts(_transpile(circuit, None)),
            REFERENCE_DEVICE: _counts(_transpile(circuit, REFERENCE_DEVICE))}


def _portable(circuit):
    """The circuit with its StatePreparation expanded to u and cx gates (loops and parameters kept)."""
    from qiskit import QuantumCircuit, transpile

    portable = circuit.copy_empty_like()
    for instruction in circuit.data:
        if instruction.operation.name == "state_preparation":
            alone = QuantumCircuit(len(instruction.qubits))
            alone.append(instruction.operation, range(len(instruction.qubits)))
            expanded = transpile(alone, basis_gates=["u", "cx"], optimization_level=1, seed_transpiler=11)
            portable.compose(expanded, instruction.qubits, inplace=True)
        else:
            portable.append(instruction)
    return portable


#: eps values of the hardware preset bound into files (plus one parameterised file).
HARDWARE_ENERGIES = (0.3, 0.5, 1.0, 2.0, 3.0)
#: How each client loads its files (written into the manifest).
CLIENTS = {
    "qiskit": "qiskit.qasm3.loads(text) (needs qiskit-qasm3-import); the files include stdgates.inc",
    "braket": "braket.devices.LocalSimulator().run(braket.ir.openqasm.Program(source=text), shots=N): Braket's "
              "native gates (rz, v, x, cnot), no include; bit strings list the first measured bit leftmost",
    "pennylane": "qml.from_qasm3(text) inside a QNode on a device with wires [f'q[{i}]' for i in range(n)] (rz, "
                 "sx, x, cx; no include, no measurement: return qml.probs(wires=...)); or qml.from_qiskit of the Qiskit file "
                 "loaded with qiskit.qasm3.loads, measurements removed and transpiled to basis_gates=['rz', 'sx', "
                 "'x', 'cx'] (from_qiskit skips custom gates such as xx_plus_yy)",
}


def hardware_circuits():
    """Yield (file stem, Qiskit circuit with measurements, program, design, eps, description) of the hardware
    preset's reference circuits (bound per energy, and one with the barrier's ``v4`` as input)."""
    from .chain import build_chain_circuit

    design = scattering_preset("hardware")
    for eps in HARDWARE_ENERGIES:
        (program,) = design.programs([eps])
        built = build_chain_circuit(program)
        yield (f"scattering_hardware_eps{eps:g}", built.bound(program), program, design, float(eps),
               f"hardware preset at E/V0 = {eps:g}: one particle on {program.num_sites} qubits, {program.steps} "
               f"steps of J dt = {design.dt}, barrier U/J = {float(program.potential[0, design.barrier_site]):.6g} "
               f"on qubit {design.barrier_site}")
    (program,) = design.programs([1.0])
    built = build_chain_circuit(program)
    yield ("scattering_hardware_parametric", built.circuit, program, design, None,
           f"hardware preset, the barrier's U/J = g / sqrt(E/V0) (g = {design.g:g}) as the input parameter "
           f"v{design.barrier_site}")


def pennylane_qasm(circuit) -> str:
    """The circuit (measurements dropped) as OpenQASM 3 that ``qml.from_qasm3`` loads: rz, sx, x, cx, no include."""
    from qiskit import transpile

    native = transpile(circuit.remove_final_measurements(inplace=False), basis_gates=["rz", "sx", "x", "cx"],
                       optimization_level=1, seed_transpiler=7)
    return plain_qasm(native, {"rz": "rz", "sx": "sx", "x": "x", "cx": "cx"}, measure=False)


def _client_entries(directory: Path, stem: str, circuit, preset: str) -> list:
    """Write the Braket and PennyLane twins of a non-parametric circuit; their manifest entries."""
    entries = []
    for client, text in (("braket", braket_qasm(braket_native(circuit))), ("pennylane", pennylane_qasm(circuit))):
        (directory / client).mkdir(exist_ok=True)
        path = directory / client / f"{stem}.qasm"
        path.write_text(text)
        entries.append({"file": f"{client}/{stem}.qasm", "client": client, "twin": f"{stem}.qasm", "preset": preset,
                        "load": CLIENTS[client]})
    return entries


def _write_qiskit_file(directory: Path, stem: str, circuit, program, design, eps, description: str,
                       measured: str) -> dict:
    """Write ``circuit`` as ``<stem>.qasm`` (Qiskit dialect); its manifest entry, with the costs of ``program``."""
    path = directory / f"{stem}.qasm"
    path.write_text(_qasm_text(circuit))
    return {"file": path.name, "client": "qiskit", "description": description, "preset": design.name,
            "program_fingerprint": program.fingerprint(), "eps": eps, "steps": program.steps,
            "parameters": sorted(p.name for p in circuit.parameters), "measured_bits": {"c": measured},
            "generic_basis": circuit_costs(program), REFERENCE_DEVICE: circuit_costs(program, REFERENCE_DEVICE)}


def export_circuits(directory: str | Path = "circuits") -> dict:
    """Write the OpenQASM 3 files and ``manifest.json`` into ``directory``; return the manifest.

    ``circuits`` lists the Qiskit-dialect files (``client: "qiskit"``, in ``directory``);
    ``client_files`` their Braket twins (``braket/``, LocalSimulator runs them unmodified) and
    PennyLane twins (``pennylane/``, ``qml.from_qasm3`` loads them), same file names.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    entries, client_files = [], []
    for stem, circuit, program, design, eps, description in reference_circuits():
        measured = f"qubit x[{design.readout_qubit}] (top qubit): 1 = found past the barrier; P(1) estimates T"
        entries.append(_write_qiskit_file(directory, stem, _portable(circuit), program, design, eps, description,
                                          measured))
        if design.name == "nisq" and eps is not None:
            client_files += _client_entries(directory, stem, circuit, design.name)
    for stem, circuit, program, design, eps, description in hardware_circuits():
        measured = (f"c[j] = qubit q[j] = site j; keep shots with exactly one 1 (post-selection); "
                    f"T = share of them with the 1 on a qubit above q[{design.barrier_site}]")
        entries.append(_write_qiskit_file(directory, stem, circuit, program, design, eps, description, measured))
        if eps is not None:
            client_files += _client_entries(directory, stem, circuit, design.name)
    entries.append(_annealing_entry(directory))
    manifest = {"generated_by": "qthybrid.circuits.export_circuits", "generic_basis_gates": list(GENERIC_BASIS),
                "device": REFERENCE_DEVICE, "clients": CLIENTS, "circuits": entries, "client_files": client_files}
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest
