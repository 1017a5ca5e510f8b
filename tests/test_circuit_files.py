"""circuits/ holds current OpenQASM 3 that loads back and gives the simulated probabilities."""

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("qiskit_qasm3_import")

import qthybrid  # noqa: E402
from qthybrid import Barrier  # noqa: E402
from qthybrid.circuits.export import export_circuits  # noqa: E402

CIRCUITS = Path(__file__).resolve().parent.parent / "circuits"


def test_circuit_files_are_current(tmp_path):
    manifest = export_circuits(tmp_path)
    committed = json.loads((CIRCUITS / "manifest.json").read_text())
    assert committed == json.loads(json.dumps(manifest)), "run `qthybrid circuits export` and commit circuits/"
    for entry in manifest["circuits"] + manifest["client_files"]:
        assert (CIRCUITS / entry["file"]).read_text() == (tmp_path / entry["file"]).read_text(), entry["file"]
    on_disk = {str(p.relative_to(CIRCUITS)) for p in CIRCUITS.rglob("*.qasm")}
    assert on_disk == {e["file"] for e in manifest["circuits"] + manifest["client_files"]}, "stale files in circuits/"


def test_exported_files_load_back_with_the_same_probabilities():
    from qiskit import qasm3
    from qiskit.quantum_info import Statevector

    manifest = json.loads((CIRCUITS / "manifest.json").read_text())
    nisq = [e for e in manifest["circuits"] if e["preset"] == "nisq"]   # (qde-anneal: its own test)
    reference = qthybrid.get_backend("statevector", preset="nisq")
    for entry in nisq:
        circuit = qasm3.loads((CIRCUITS / entry["file"]).read_text())
        if entry["eps"] is None:
            eps = 0.5 if entry["steps"] == 14 else None
            dx = qthybrid.programs.scattering_preset("nisq").dx       # the kick is k0 dx per grid point
            circuit = circuit.assign_parameters({circuit.parameters[0]: np.sqrt(eps) * dx})
        else:
            eps = entry["eps"]
        probabilities = Statevector(circuit.remove_final_measurements(inplace=False)).probabilities([5])
        expected = reference.transmission([30.0 * eps], Barrier())[0]
        assert probabilities[1] == pytest.approx(expected, abs=1e-9), entry["file"]


def test_accurate_files_keep_the_loop_and_parameter():
    from qiskit import qasm3

    manifest = json.loads((CIRCUITS / "manifest.json").read_text())
    for entry in (e for e in manifest["circuits"] if e["preset"] == "accurate"):
        circuit = qasm3.loads((CIRCUITS / entry["file"]).read_text())
        loops = [i.operation for i in circuit.data if i.operation.name == "for_loop"]
        assert circuit.num_qubits == 12 and len(loops) == 1
        assert len(loops[0].params[0]) == entry["steps"] - 1          # every step but the last
        inputs = sorted(p.name for p in circuit.parameters if not p.name.startswith("_loop"))
        assert inputs == entry["parameters"]


def test_annealing_circuit_file_reproduces_the_statevector():
    from qiskit import qasm3
    from qiskit.quantum_info import Statevector

    from qthybrid.circuits.export import annealing_reference_program

    circuit = qasm3.loads((CIRCUITS / "qde_anneal_double_well_5q.qasm").read_text())
    probabilities = Statevector(circuit.remove_final_measurements(inplace=False)).probabilities()
    reference = qthybrid.get_backend("statevector").execute(annealing_reference_program())[0].probabilities[0]
    np.testing.assert_allclose(probabilities, reference, atol=1e-10)


def _qiskit_distribution(entry_file: str) -> tuple[np.ndarray, list]:
    """Exact distribution of a Qiskit-dialect file over its measured bits (bit i = clbit i), and those qubits."""
    from qiskit import qasm3
    from qiskit.quantum_info import Statevector

    circuit = qasm3.loads((CIRCUITS / entry_file).read_text())
    measured = [None] * circuit.num_clbits
    for instruction in circuit.data:
        if instruction.operation.name == "measure":
            measured[circuit.find_bit(instruction.clbits[0]).index] = circuit.find_bit(instruction.qubits[0]).index
    return Statevector(circuit.remove_final_measurements(inplace=False)).probabilities(measured), measured


def test_hardware_files_need_at_most_300_two_qubit_gates_on_fake_torino():
    pytest.importorskip("qiskit_ibm_runtime")
    from qiskit import qasm3, transpile

    from qthybrid.circuits.devices import fake_backend

    manifest = json.loads((CIRCUITS / "manifest.json").read_text())
    hardware = [e for e in manifest["circuits"] if e["preset"] == "hardware"]
    assert len(hardware) == 6 and all(e["client"] == "qiskit" for e in hardware)
    device = fake_backend("fake_torino")
    for entry in hardware[:2] + hardware[-1:]:
        circuit = qasm3.loads((CIRCUITS / entry["file"]).read_text())
        if circuit.parameters:
            circuit = circuit.assign_parameters({circuit.parameters[0]: 0.5})
        counts = transpile(circuit, device, seed_transpiler=3).count_ops()
        assert counts.get("cz", 0) + counts.get("ecr", 0) + counts.get("cx", 0) <= 300, entry["file"]


def test_hardware_files_give_the_statevector_backends_T():
    manifest = json.loads((CIRCUITS / "manifest.json").read_text())
    design = qthybrid.programs.scattering_preset("hardware")
    for entry in (e for e in manifest["circuits"] if e["preset"] == "hardware" and e["eps"] is not None):
        probabilities, _ = _qiskit_distribution(entry["file"])
        one_hot = probabilities[1 << np.arange(9)]
        expected = qthybrid.get_backend("statevector", preset="hardware").transmission([30.0 * entry["eps"]])[0]
        assert one_hot.sum() == pytest.approx(1.0, abs=1e-9)
        assert one_hot[design.barrier_site + 1:].sum() == pytest.approx(expected, abs=1e-9), entry["file"]


def test_braket_files_run_unmodified_on_the_local_simulator():
    pytest.importorskip("braket.devices")
    from braket.devices import LocalSimulator
    from braket.ir.openqasm import Program

    manifest = json.loads((CIRCUITS / "manifest.json").read_text())
    braket = [e for e in manifest["client_files"] if e["client"] == "braket"]
    assert {e["preset"] for e in braket} == {"nisq", "hardware"}
    simulator, shots = LocalSimulator(), 4000
    for entry in braket:
        text = (CIRCUITS / entry["file"]).read_text()
        assert "include" not in text and "ctrl @" not in text and "gphase" not in text
        result = simulator.run(Program(source=text), shots=shots).result()
        expected, _ = _qiskit_distribution(entry["twin"])
        measured = np.zeros_like(expected)
        for bits, count in result.measurement_counts.items():
            measured[int(bits[::-1], 2)] += count / shots          # Braket: first measured bit leftmost
        assert 0.5 * np.abs(measured - expected).sum() < 0.06, entry["file"]


def test_braket_files_are_exact():
    """With a probability result appended, Braket's simulator gives its Qiskit twin's distribution to 1e-12."""
    pytest.importorskip("braket.devices")
    from braket.devices import LocalSimulator
    from braket.ir.openqasm import Program

    manifest = json.loads((CIRCUITS / "manifest.json").read_text())
    for entry in [e for e in manifest["client_files"] if e["client"] == "braket"][::3]:
        expected, measured = _qiskit_distribution(entry["twin"])
        text = "\n".join(line for line in (CIRCUITS / entry["file"]).read_text().splitlines()
                         if "measure" not in line and not line.startswith("bit["))
        qubits = ", ".join(f"q[{q}]" for q in reversed(measured))     # most significant first, as Qiskit's index
        values = LocalSimulator().run(Program(source=text + f"\n#pragma braket result probability {qubits}\n"),
                                      shots=0).result().values[0]
        np.testing.assert_allclose(values, expected, atol=1e-12, err_msg=entry["file"])


def test_pennylane_files_load_with_from_qasm3():
    qml = pytest.importorskip("pennylane")
    pytest.importorskip("openqasm3")

    manifest = json.loads((CIRCUITS / "manifest.json").read_text())
    for entry in [e for e in manifest["client_files"] if e["client"] == "pennylane"][::2]:
        expected, measured = _qiskit_distribution(entry["twin"])
        n = 9 if "hardware" in entry["file"] else 6
        program = qml.from_qasm3((CIRCUITS / entry["file"]).read_text())      # its wires are named 'q[i]'

        @qml.qnode(qml.device("default.qubit", wires=[f"q[{i}]" for i in range(n)]))
        def circuit():
            program()
            return qml.probs(wires=[f"q[{q}]" for q in reversed(measured)])   # most significant first, as Qiskit

        np.testing.assert_allclose(circuit(), expected, atol=1e-9, err_msg=entry["file"])


def test_the_qiskit_files_load_into_pennylane_with_from_qiskit():
    qml = pytest.importorskip("pennylane")
    pytest.importorskip("pennylane_qiskit")
    from qiskit import qasm3, transpile

    expected, measured = _qiskit_distribution("scattering_hardware_eps1.qasm")
    circuit = qasm3.loads((CIRCUITS / "scattering_hardware_eps1.qasm").read_text())
    circuit.remove_final_measurements(inplace=True)
    # from_qiskit skips the file's custom gates (xx_plus_yy): expand them to standard gates first
    loaded = qml.from_qiskit(transpile(circuit, basis_gates=["rz", "sx", "x", "cx"], optimization_level=0))

    @qml.qnode(qml.device("default.qubit", wires=9))
    def run():
        loaded(wires=range(9))
        return qml.probs(wires=list(reversed(measured)))

    np.testing.assert_allclose(run(), expected, atol=1e-9)
