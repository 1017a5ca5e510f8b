"""Submission to providers (fake IBM backends and Braket's local simulator standing in) and the job journal."""

import sqlite3
import subprocess
import sys
import textwrap

import numpy as np
import pytest

pytest.importorskip("qiskit_ibm_runtime")

import qthybrid  # noqa: E402
from qthybrid import Barrier  # noqa: E402
from qthybrid.hardware import CredentialsError, JobJournal, fetch, prepare, submit  # noqa: E402
from qthybrid.programs import scattering_preset  # noqa: E402

NISQ = scattering_preset("nisq")
EPS = [0.5, 1.0, 2.0]
SECRET = "tok-SECRET-8c1f2e"


@pytest.fixture
def journal(tmp_path):
    return JobJournal(tmp_path / "jobs.sqlite")


def test_cost_is_shown_and_declining_sends_nothing(journal, monkeypatch):
    from qiskit_ibm_runtime import SamplerV2

    monkeypatch.setattr(SamplerV2, "run", lambda *a, **k: pytest.fail("a job was sent"))
    seen = []
    assert submit(NISQ, EPS, "ibm:fake_lagos", shots=500, journal=journal,
                  confirm=lambda cost: seen.append(cost) or False) is None
    (cost,) = seen
    assert (cost.qubits, cost.circuits, cost.shots) == (6, 3, 500)
    assert cost.two_qubit_gates > 0 and cost.max_depth > 0
    assert journal.list() == []


def test_a_journaled_job_is_recovered_after_its_process_died(tmp_path):
    path = tmp_path / "jobs.sqlite"
    script = textwrap.dedent(f"""
        from qthybrid.hardware import JobJournal, submit
        from qthybrid.programs import scattering_preset
        submit(scattering_preset("nisq"), {EPS}, "ibm:fake_lagos", shots=1000,
               journal=JobJournal({str(path)!r}), wait=True)
    """)
    subprocess.run([sys.executable, "-c", script], check=True, capture_output=True)
    journal = JobJournal(path)
    (record,) = journal.list()
    assert record.provider == "ibm" and record.backend == "fake_lagos" and record.status == "done"
    assert record.program == NISQ.fingerprint() and record.parameters["eps"] == EPS
    T = np.array(fetch(record.job_id, journal).result["transmission"])
    assert T.shape == (3,) and np.all((T >= 0) & (T <= 1))


def test_the_job_is_written_before_anything_waits(journal, monkeypatch):
    from qiskit_ibm_runtime import SamplerV2

    class LostJob:
        def job_id(self):
            return "job-lost-123"

        def result(self):
            raise TimeoutError("provider went away")

    monkeypatch.setattr(SamplerV2, "run", lambda *a, **k: LostJob())
    with pytest.raises(TimeoutError):
        submit(NISQ, EPS, "ibm:fake_lagos", shots=100, journal=journal, wait=True)
    record = journal.get("job-lost-123")
    assert record.status == "failed" and "provider went away" in record.result["error"]


def test_unfinished_local_jobs_say_why_they_cannot_be_fetched(journal):
    record = submit(NISQ, EPS, "ibm:fake_lagos", shots=100, journal=journal, wait=False)
    assert journal.get(record.job_id).status == "submitted"
    with pytest.raises(RuntimeError, match="do not outlive the submitting process"):
        fetch(record.job_id, journal)


def test_credentials_never_reach_logs_journal_or_errors(journal, monkeypatch, caplog):
    monkeypatch.setenv("QISKIT_IBM_TOKEN", SECRET)
    caplog.set_level("DEBUG")
    record = submit(NISQ, EPS, "ibm:fake_lagos", shots=100, journal=journal, wait=True)
    assert SECRET not in caplog.text and SECRET not in repr(record)
    assert SECRET.encode() not in journal.path.read_bytes()

    import qiskit_ibm_runtime

    class EchoingService:
        def __init__(self, **kwargs):
            raise ValueError(f"login refused for token {kwargs['token']}")

    monkeypatch.setattr(qiskit_ibm_runtime, "QiskitRuntimeService", EchoingService)
    with pytest.raises(ConnectionError) as info:
        prepare(NISQ, EPS, "ibm:ibm_torino")
    assert SECRET not in str(info.value) and "***" in str(info.value)


def test_missing_credentials_give_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.delenv("QISKIT_IBM_TOKEN", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))          # no saved account either
    import qiskit_ibm_runtime

    monkeypatch.setattr(qiskit_ibm_runtime.QiskitRuntimeService, "saved_accounts", staticmethod(lambda: {}))
    with pytest.raises(CredentialsError, match="set QISKIT_IBM_TOKEN"):
        prepare(NISQ, EPS, "ibm:ibm_torino")


def test_bad_targets_and_shots_are_refused():
    with pytest.raises(ValueError, match="target must be"):
        prepare(NISQ, EPS, "rigetti:aspen")
    with pytest.raises(ValueError, match="shots must be an int >= 1"):
        prepare(NISQ, EPS, "ibm:fake_lagos", shots=0)


def test_braket_local_simulator_agrees_with_aer(journal):
    pytest.importorskip("braket.devices")
    shots = 6000
    record = submit(NISQ, EPS, "braket:local", shots=shots, journal=journal, wait=True)
    T, stderr = np.array(record.result["transmission"]), np.array(record.result["stderr"])
    ideal = qthybrid.get_backend("aer", preset="nisq").transmission(np.array(EPS) * 30.0, Barrier())
    assert np.all(np.abs(T - ideal) <= 4 * stderr)


def test_braket_qasm_is_exact():
    pytest.importorskip("braket.devices")
    from braket.devices import LocalSimulator
    from braket.ir.openqasm import Program

    from qthybrid.circuits import build_scattering_circuit
    from qthybrid.circuits.braket_qasm import braket_native, braket_qasm

    built = build_scattering_circuit(NISQ, 10, loop=False, readout="none")
    circuit = built.circuit.assign_parameters({built.momentum: 1.0})
    text = braket_qasm(braket_native(circuit)) + "#pragma braket result probability q[5]\n"
    probabilities = LocalSimulator().run(Program(source=text), shots=0).result().values[0]
    expected = qthybrid.get_backend("statevector", preset="nisq").transmission([30.0], Barrier())[0]
    assert probabilities[1] == pytest.approx(expected, abs=1e-12)


def test_default_journal_location_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("QTHYBRID_JOURNAL", str(tmp_path / "elsewhere.sqlite"))
    assert JobJournal().path == tmp_path / "elsewhere.sqlite"
    with sqlite3.connect(tmp_path / "elsewhere.sqlite") as connection:
        assert connection.execute("SELECT count(*) FROM jobs").fetchone() == (0,)


def test_ionq_targets_go_through_braket_and_fail_clearly_without_credentials(monkeypatch, tmp_path):
    pytest.importorskip("braket.aws")
    from qthybrid.hardware.providers import IONQ_ARNS

    with pytest.raises(ValueError, match="unknown IonQ device 'aria-9'; known: aria-1"):
        prepare(NISQ, EPS, "ionq:aria-9")
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(ConnectionError, match="could not reach Braket device 'arn:aws:braket:us-east-1::device/qpu/"
                                              "ionq/Aria-1'"):
        prepare(NISQ, EPS, "ionq:aria-1")
    assert IONQ_ARNS["forte-1"].endswith("/ionq/Forte-1")
