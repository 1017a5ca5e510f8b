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
    for entry in manifest["circuits"]:
        assert (CIRCUITS / entry["file"]).read_text() == (tmp_path / entry["file"]).read_text(), entry["file"]


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
