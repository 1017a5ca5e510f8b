"""Submission to providers (fake IBM backends and Braket's local simulator standing in) and the job journal."""

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

pytest.importorskip("qiskit_ibm_runtime")

import qthybrid  # noqa: E402
from qthybrid import Barrier  # noqa: E402
from qthybrid.hardware import (CredentialsError, JobJournal, JournalError, UnknownJobError, fetch,  # noqa: E402
                               prepare, providers, submit)
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


class _CloudService:
    """Stands in for IBM's cloud: 'ibm:cloud_lagos' is fake_lagos, and a job id is found again by re-running
    the journaled sweep there (what the cloud would return for it)."""

    def backend(self, name):
        from qthybrid.circuits.devices import fake_backend

        return fake_backend(name.replace("cloud_", "fake_"))

    def job(self, job_id):
        from qiskit_ibm_runtime import SamplerV2

        prepared = prepare(NISQ, EPS, "ibm:fake_lagos")
        return SamplerV2(mode=prepared.backend).run(prepared.payload, shots=4000)


def test_a_journaled_job_is_recovered_after_its_process_died(tmp_path, monkeypatch):
    """A process submits to a (stand-in) cloud backend, is SIGKILLed while it waits, and another fetches the job."""
    path = tmp_path / "jobs.sqlite"
    script = textwrap.dedent(f"""
        import time
        import qiskit_ibm_runtime
        from qthybrid.hardware import JobJournal, providers, submit
        from qthybrid.programs import scattering_preset

        class CloudService:
            def backend(self, name):
                from qthybrid.circuits.devices import fake_backend
                return fake_backend("fake_lagos")

        class WaitingJob:
            def job_id(self):
                return "cloud-job-1"
            def result(self):
                time.sleep(600)          # the cloud is slow: this process is killed while it waits

        providers._ibm_service = CloudService
        qiskit_ibm_runtime.SamplerV2.run = lambda self, *args, **kwargs: WaitingJob()
        submit(scattering_preset("nisq"), {EPS}, "ibm:cloud_lagos", shots=4000,
               journal=JobJournal({str(path)!r}), wait=True)
    """)
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 240
    while process.poll() is None and time.monotonic() < deadline:
        if path.exists() and [r.status for r in JobJournal(path).list()] == ["submitted"]:
            break
        time.sleep(0.2)
    assert process.poll() is None, process.communicate()[1].decode()[-2000:]
    process.send_signal(signal.SIGKILL)
    assert process.wait() == -signal.SIGKILL

    journal = JobJournal(path)
    (record,) = journal.list()
    assert (record.job_id, record.provider, record.backend, record.status) == ("cloud-job-1", "ibm", "cloud_lagos",
                                                                              "submitted")
    assert record.durable and record.program == NISQ.fingerprint() and record.parameters["eps"] == EPS
    monkeypatch.setattr(providers, "_ibm_service", _CloudService)
    fetched = fetch("cloud-job-1", journal)
    assert fetched.status == "done" and journal.get("cloud-job-1").status == "done"
    T, stderr = np.array(fetched.result["transmission"]), np.array(fetched.result["stderr"])
    ideal = qthybrid.get_backend("statevector", preset="nisq").transmission(np.array(EPS) * 30.0, Barrier())
    assert T.shape == stderr.shape == (3,) and np.all((T >= 0) & (T <= 1)) and np.all(stderr > 0)
    assert np.all(np.abs(T - ideal) < 0.25)      # the device's noise moves T, but not beyond recognition


def test_nothing_is_sent_when_the_journal_cannot_be_written(tmp_path, monkeypatch):
    from qiskit_ibm_runtime import SamplerV2

    monkeypatch.setattr(SamplerV2, "run", lambda *a, **k: pytest.fail("a job was sent without a journal row"))
    path = tmp_path / "jobs.sqlite"
    journal = JobJournal(path, timeout=0.2)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")                   # another writer holds the journal
    try:
        with pytest.raises(JournalError, match=r"could not be written \(nothing was sent\): database is locked"):
            submit(NISQ, EPS, "ibm:fake_lagos", shots=100, journal=journal)
    finally:
        holder.rollback()
        holder.close()
    assert journal.list() == []


def test_the_journal_row_exists_before_the_provider_is_called(journal, monkeypatch):
    from qiskit_ibm_runtime import SamplerV2

    seen = []

    def run(*args, **kwargs):
        seen.extend((r.status, r.job_id.startswith("sending:")) for r in journal.list())
        raise KeyboardInterrupt      # the process stops during the provider call

    monkeypatch.setattr(SamplerV2, "run", run)
    with pytest.raises(KeyboardInterrupt):
        submit(NISQ, EPS, "ibm:fake_lagos", shots=100, journal=journal)
    assert seen == [("sending", True)]
    (record,) = journal.list()
    assert record.status == "sending"
    with pytest.raises(RuntimeError, match="has no provider id: the submitting process stopped during the provider"):
        fetch(record.job_id, journal)


def test_a_job_sent_but_not_journaled_names_its_id(journal, monkeypatch):
    from qiskit_ibm_runtime import SamplerV2

    class Job:
        def job_id(self):
            return "job-sent-42"

    monkeypatch.setattr(SamplerV2, "run", lambda *a, **k: Job())

    def locked(*args):
        raise JournalError(f"the job journal {journal.path} could not be updated: database is locked")

    monkeypatch.setattr(journal, "record_sent", locked)
    with pytest.raises(JournalError, match="job job-sent-42 WAS SENT to ibm:fake_lagos but its id could not be"):
        submit(NISQ, EPS, "ibm:fake_lagos", shots=100, journal=journal)


@pytest.mark.parametrize("content, match", [
    (b"this is a text file, not a journal\n" * 10, "not a database"),
    (b"SQLite format 3\x00" + bytes(84), "not a database|malformed"),
])
def test_a_corrupt_journal_is_one_clear_error(tmp_path, content, match):
    path = tmp_path / "jobs.sqlite"
    path.write_bytes(content)
    with pytest.raises(JournalError, match=f"the job journal {path} could not be opened: .*({match})"):
        JobJournal(path)


def test_a_database_that_is_not_a_journal_is_refused(tmp_path):
    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE jobs (name TEXT)")
    connection.close()
    with pytest.raises(JournalError, match="its jobs table lacks the columns backend, job_id"):
        JobJournal(path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through read-only permissions")
def test_a_read_only_journal_sends_nothing(tmp_path):
    path = tmp_path / "jobs.sqlite"
    JobJournal(path)
    path.chmod(0o444)
    tmp_path.chmod(0o555)
    try:
        with pytest.raises(JournalError, match="nothing was sent"):
            submit(NISQ, EPS, "ibm:fake_lagos", shots=100, journal=JobJournal(path))
    finally:
        tmp_path.chmod(0o755)


def test_unknown_job_ids_are_a_clear_error(journal):
    with pytest.raises(UnknownJobError, match="job 'no-such-job' is not in the journal .*jobs list"):
        fetch("no-such-job", journal)


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
    assert journal.get(record.job_id).status == "submitted" and not record.durable
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

    from qthybrid.circuits import build_circuit
    from qthybrid.circuits.braket_qasm import braket_native, braket_qasm

    (program,) = NISQ.programs([1.0])
    built = build_circuit(program, form="gates", readout="none", preparation="state_preparation")
    circuit = built.circuit.assign_parameters({built.kick_parameters[0]: float(program.kicks[0, 0])})
    text = braket_qasm(braket_native(circuit)) + "#pragma braket result probability q[5]\n"
    probabilities = LocalSimulator().run(Program(source=text), shots=0).result().values[0]
    expected = qthybrid.get_backend("statevector", preset="nisq").transmission([30.0], Barrier())
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
