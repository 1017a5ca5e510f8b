"""Sending scattering programs to quantum hardware providers, with a cost shown first.

Targets are written ``provider:backend``:

* ``ibm:ibm_torino`` (any IBM Quantum backend). Credentials come from
  ``QISKIT_IBM_TOKEN`` (with ``QISKIT_IBM_INSTANCE`` and optionally
  ``QISKIT_IBM_CHANNEL``) or from an account saved with
  ``QiskitRuntimeService.save_account``. ``ibm:fake_lagos`` (any fake backend)
  runs the same path offline in qiskit-ibm-runtime's local mode, with the
  device's noise.
* ``braket:<device ARN>`` or ``braket:local`` (needs ``amazon-braket-sdk``; AWS
  credentials from the usual boto3 chain). The circuit travels as OpenQASM 3 in
  Braket's native gate names (see :mod:`qthybrid.circuits.braket_qasm`).

* ``ionq:aria-1`` (``aria-2``, ``forte-1``, ``forte-enterprise-1``, ``harmony``): IonQ
  hardware through Amazon Braket, i.e. the Braket target of that device's ARN. (IonQ's own
  cloud is also reachable through PennyLane: ``get_backend("pennylane", device="ionq.qpu")``
  with ``IONQ_API_KEY``; that route is not journaled.)

Credentials are only ever passed to the provider's own client: they are never
logged, returned, or written to the journal.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np

from .journal import JobJournal, JobRecord, JournalError

if TYPE_CHECKING:   # annotations only: the journal and its errors import without the program layer
    from ..programs import ChainScattering, PacketScattering

log = logging.getLogger(__name__)


class CredentialsError(RuntimeError):
    """No credentials were found for a provider."""


@dataclass(frozen=True)
class SubmissionCost:
    """What a submission will use, shown before anything is sent."""

    provider: str
    backend: str
    qubits: int
    max_depth: int
    two_qubit_gates: int
    shots: int
    circuits: int

    def __str__(self):
        return (f"{self.provider}:{self.backend}: {self.circuits} circuit(s) x {self.shots} shots, "
                f"{self.qubits} qubits, depth <= {self.max_depth}, {self.two_qubit_gates} two-qubit gates in all")


def _two_qubit_gates(circuit) -> int:
    return sum(1 for instruction in circuit.data if instruction.operation.num_qubits == 2
               and instruction.operation.name not in ("barrier",))


#: IonQ devices on Amazon Braket.
IONQ_ARNS = {name: f"arn:aws:braket:{region}::device/qpu/ionq/{device}" for name, region, device in (
    ("aria-1", "us-east-1", "Aria-1"), ("aria-2", "us-east-1", "Aria-2"), ("forte-1", "us-east-1", "Forte-1"),
    ("forte-enterprise-1", "us-east-1", "Forte-Enterprise-1"), ("harmony", "us-east-1", "Harmony"))}


def _parse_target(target: str) -> tuple[str, str]:
    provider, _, backend = target.partition(":")
    if provider == "ionq":
        if backend.lower() not in IONQ_ARNS:
            raise ValueError(f"unknown IonQ device {backend!r}; known: {', '.join(IONQ_ARNS)}")
        return "braket", IONQ_ARNS[backend.lower()]
    if provider not in ("ibm", "braket") or not backend:
        raise ValueError(f"target must be 'ibm:<backend>', 'braket:<device ARN>|local' or 'ionq:<device>', "
                         f"got {target!r}")
    return provider, backend


# IBM ---------------------------------------------------------------------------------------------
def _ibm_service():
    from qiskit_ibm_runtime import QiskitRuntimeService

    token = os.environ.get("QISKIT_IBM_TOKEN")
    if token:
        channel = os.environ.get("QISKIT_IBM_CHANNEL", "ibm_quantum_platform")
        return QiskitRuntimeService(channel=channel, token=token, instance=os.environ.get("QISKIT_IBM_INSTANCE"))
    if QiskitRuntimeService.saved_accounts():
        return QiskitRuntimeService()
    raise CredentialsError("no IBM Quantum credentials: set QISKIT_IBM_TOKEN (and QISKIT_IBM_INSTANCE), or save "
                           "an account with QiskitRuntimeService.save_account(...)")


def _ibm_backend(name: str):
    if name.startswith("fake"):
        from ..circuits.devices import fake_backend

        return fake_backend(name), True
    try:
        return _ibm_service().backend(name), False
    except CredentialsError:
        raise
    except Exception as exc:   # network, authentication, unknown backend: keep the message, drop any secret
        raise ConnectionError(f"could not reach IBM backend {name!r}: {type(exc).__name__}: "
                              f"{_without_secrets(str(exc))}") from None


def _without_secrets(text: str) -> str:
    for variable in ("QISKIT_IBM_TOKEN", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "IONQ_API_KEY"):
        secret = os.environ.get(variable)
        if secret:
            text = text.replace(secret, "***")
    return text


def _sweep_circuits(design, eps):
    """Measured circuits, one per program (with its parameter rows), and how to read their counts back.

    Returns ``(groups, readout)``: groups of (parametric circuit, parameter rows of shape (batch, parameters)
    in the circuit's parameter order, indices of the energies they measure), and the readout that
    :func:`_transmission_from_counts` needs (journaled, so a later process can finish the job).
    """
    from ..programs import ChainScattering, PacketScattering

    if isinstance(design, ChainScattering):
        from ..circuits.chain import build_chain_circuit

        (program,) = design.programs(eps)
        built = build_chain_circuit(program)
        order = [site for site, _ in sorted(built.parameters.items(), key=lambda item: item[1].name)]
        rows = program.potential[:, order]
        readout = {"kind": "chain", "num_sites": program.num_sites, "barrier_site": design.barrier_site}
        return [(built.circuit, rows, np.arange(len(eps)), program)], readout
    if not isinstance(design, PacketScattering):
        raise ValueError(f"submission measures one packet per energy or the hardware chain: give a PacketScattering "
                         f"design (preset 'nisq', or scattering_preset('accurate', sweep='packets')) or the "
                         f"'hardware' preset's ChainScattering, got {type(design).__name__}")
    from ..circuits import build_circuit

    groups = []
    for program, (_, indices) in zip(design.programs(eps), design.schedule(eps).groups()):
        built = build_circuit(program, form="gates", readout="measure", preparation="state_preparation")
        groups.append((built.circuit, program.kicks[:, :1], indices, program))
    return groups, {"kind": "packet"}


def _transmission_from_counts(counts: list, parameters: dict) -> tuple[np.ndarray, np.ndarray]:
    """T and its standard error per energy (order of eps) from the counts of each circuit, as journaled."""
    from ..programs.chain import site_outcomes

    shots = parameters["shots"]
    readout = parameters.get("readout", {"kind": "packet"})
    if readout["kind"] == "chain":
        n, barrier = readout["num_sites"], readout["barrier_site"]
        outcomes = np.array([site_outcomes(c, n) for c in counts])
        kept = outcomes[:, :n].sum(axis=1)
        T_sorted = outcomes[:, barrier + 1:n].sum(axis=1) / np.maximum(kept, 1)   # post-selected on one excitation
        error_sorted = np.sqrt(T_sorted * (1 - T_sorted) / np.maximum(kept, 1))
    else:
        T_sorted = np.array([c.get("1", 0) / shots for c in counts])
        error_sorted = np.sqrt(T_sorted * (1 - T_sorted) / shots)
    T, stderr = np.empty(len(counts)), np.empty(len(counts))
    order = np.asarray(parameters["order"])
    T[order], stderr[order] = T_sorted, error_sorted                     # back to the order of eps
    return T, stderr


@dataclass
class PreparedSubmission:
    """Transpiled work for one target, its cost, and how to map results back to energies."""

    provider: str
    backend_name: str
    backend: object
    local: bool
    payload: list
    order: np.ndarray
    cost: SubmissionCost
    readout: dict


def prepare(program, eps, target: str, shots: int = 1000) -> PreparedSubmission:
    """Transpile the sweep of the design ``program`` (PacketScattering or the hardware preset's
    ChainScattering) for ``target`` and work out its cost; sends nothing.

    IBM targets are transpiled by :func:`qthybrid.circuits.layout.transpile_for_device`, the
    transpilation Aer's noise rehearsal and PennyLane's ``qiskit.remote`` use too.
    """
    if not (isinstance(shots, int) and shots >= 1):
        raise ValueError(f"shots must be an int >= 1, got {shots!r}")
    provider, backend_name = _parse_target(target)
    groups, readout = _sweep_circuits(program, np.asarray(eps, dtype=float).reshape(-1))
    order = np.concatenate([indices for _, _, indices, _ in groups])
    if provider == "ibm":
        from ..circuits.layout import transpile_for_device

        backend, local = _ibm_backend(backend_name)
        payload = [(transpile_for_device(circuit, backend, built_program), rows)
                   for circuit, rows, _, built_program in groups]
        circuits = [circuit for circuit, _ in payload]
        n_circuits = int(sum(len(rows) for _, rows in payload))
        two_qubit = int(sum(_two_qubit_gates(c) * len(rows) for c, rows in payload))
    else:
        from ..circuits.braket_qasm import braket_native

        backend, local = _braket_device(backend_name)
        # Transpiled here, once, so the cost shown is that of the circuits actually sent.
        payload = []
        for circuit, rows, _, _ in groups:
            parameters = sorted(circuit.parameters, key=lambda p: p.name)
            payload += [braket_native(circuit.assign_parameters(dict(zip(parameters, map(float, row)))))
                        for row in rows]
        circuits = payload
        n_circuits = len(payload)
        two_qubit = int(sum(_two_qubit_gates(c) for c in circuits))
    cost = SubmissionCost(provider=provider, backend=backend_name, qubits=groups[0][3].num_qubits,
                          max_depth=max(c.depth() for c in circuits), two_qubit_gates=two_qubit,
                          shots=shots, circuits=n_circuits)
    return PreparedSubmission(provider, backend_name, backend, local, payload, order, cost, readout)


# Braket --------------------------------------------------------------------------------------------
def _braket_device(name: str):
    try:
        from braket.devices import LocalSimulator
    except ImportError:
        raise ImportError("Braket targets need the Amazon Braket SDK: pip install amazon-braket-sdk") from None
    if name == "local":
        return LocalSimulator(), True
    from braket.aws import AwsDevice

    try:
        return AwsDevice(name), False
    except Exception as exc:   # no credentials, no network, unknown ARN
        raise ConnectionError(f"could not reach Braket device {name!r} (AWS credentials come from the usual "
                              f"boto3 chain: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or ~/.aws): "
                              f"{type(exc).__name__}: {_without_secrets(str(exc))}") from None


def _braket_program(native):
    from braket.ir.openqasm import Program

    from ..circuits.braket_qasm import braket_qasm

    return Program(source=braket_qasm(native))


# Submitting and fetching -------------------------------------------------------------------------
def submit(program: PacketScattering | ChainScattering, eps, target: str, shots: int = 1000, *, journal: JobJournal | None = None,
           confirm=None, wait: bool = False) -> JobRecord | None:
    """Send one energy sweep to ``target`` as one job and journal it.

    ``confirm(cost) -> bool`` sees the :class:`SubmissionCost` first; returning
    False sends nothing (returns None). The journal row is committed (state
    ``sending``) *before* the provider is called, so a job is never sent
    unrecorded: if the journal cannot be written, :class:`JournalError` is
    raised and nothing is sent. The provider's id then replaces the provisional
    one (state ``submitted``); if that write fails, the JournalError names the
    id of the job that was sent. With ``wait`` the result (T and its standard
    error per energy, in the order of ``eps``) is stored too.
    """
    eps = np.asarray(eps, dtype=float).reshape(-1)
    journal = journal or JobJournal()
    prepared = prepare(program, eps, target, shots)
    log.info("submission cost: %s", prepared.cost)
    if confirm is not None and not confirm(prepared.cost):
        return None
    parameters = {"eps": eps.tolist(), "shots": shots, "order": prepared.order.tolist(),
                  "cost": asdict(prepared.cost), "local": prepared.local, "readout": prepared.readout}
    provisional = journal.record_sending(prepared.provider, prepared.backend_name, program.fingerprint(),
                                         parameters, durable=not prepared.local)
    try:
        if prepared.provider == "ibm":
            from qiskit_ibm_runtime import SamplerV2

            job = SamplerV2(mode=prepared.backend).run(prepared.payload, shots=shots)
        else:
            job = prepared.backend.run_batch([_braket_program(c) for c in prepared.payload], shots=shots)
        job_id = _job_id(job, prepared.provider)
    except Exception as exc:
        try:
            journal.record_result(provisional, "failed", {"error": f"the provider call failed: "
                                                                   f"{type(exc).__name__}: {_without_secrets(str(exc))}"})
        except JournalError:
            log.error("the failed provider call could not be journaled; row %s stays 'sending'", provisional)
        raise
    try:
        journal.record_sent(provisional, job_id)
    except JournalError as exc:
        log.error("job %s was sent to %s but could not be journaled", job_id, target)
        raise JournalError(f"job {job_id} WAS SENT to {target} but its id could not be journaled; keep this id: "
                           f"{exc}") from exc
    log.info("journaled job %s on %s", job_id, target)
    if wait:
        _store_result(journal, job_id, prepared.provider, job, parameters)
    return journal.get(job_id)


def _job_id(job, provider: str) -> str:
    if provider == "ibm":
        return job.job_id()
    if hasattr(job, "tasks"):                      # an AWS task batch: its tasks' ARNs
        return "batch:" + ",".join(task.id for task in job.tasks)
    return f"local:{uuid.uuid4()}"                 # Braket's local simulator gives no ids


def _store_result(journal: JobJournal, job_id: str, provider: str, job, parameters: dict) -> None:
    try:
        if provider == "ibm":
            result = job.result()
            counts = [counts for pub in result for counts in _pub_counts(pub)]
        else:
            # Braket writes the first measured qubit leftmost; Qiskit (and the readout) rightmost.
            counts = [{bits[::-1]: count for bits, count in result.measurement_counts.items()}
                      for result in job.results()]
    except Exception as exc:
        journal.record_result(job_id, "failed", {"error": f"{type(exc).__name__}: {_without_secrets(str(exc))}"})
        raise
    T, stderr = _transmission_from_counts(counts, parameters)
    journal.record_result(job_id, "done", {"transmission": T.tolist(), "stderr": stderr.tolist(),
                                           "shots": parameters["shots"]})


def _pub_counts(pub_result):
    bit_array = pub_result.data.c
    if not bit_array.ndim:
        return [bit_array.get_counts()]
    return [bit_array[i].get_counts() for i in range(bit_array.shape[0])]


def fetch(job_id: str, journal: JobJournal | None = None) -> JobRecord:
    """The journaled job, with its result fetched from the provider if not stored yet."""
    journal = journal or JobJournal()
    record = journal.get(job_id)
    if record.status == "done" or record.status == "failed":
        return record
    if record.status == "sending":
        raise RuntimeError(f"job {job_id} has no provider id: the submitting process stopped during the provider "
                           f"call at {time.ctime(record.submitted_at)}; look for the job in the "
                           f"{record.provider} console")
    if not record.durable:
        raise RuntimeError(f"job {job_id} ran on a local stand-in ({record.backend}) whose jobs do not outlive "
                           f"the submitting process; its result was not stored (submit with wait=True)")
    if record.provider == "ibm":
        job = _ibm_service().job(job_id)
    else:
        from braket.aws import AwsQuantumTask

        job = _BraketTasks([AwsQuantumTask(arn) for arn in job_id.removeprefix("batch:").split(",")])
    _store_result(journal, job_id, record.provider, job, record.parameters)
    return journal.get(job_id)


@dataclass
class _BraketTasks:
    """Braket tasks found again by ARN, read like a task batch."""

    tasks: list

    def results(self):
        return [task.result() for task in self.tasks]
