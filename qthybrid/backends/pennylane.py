"""The PennyLane backend: the scattering program as a QNode on any PennyLane device.

``get_backend("pennylane", device="default.qubit", **device_kwargs)``. Energies
that share a number of Trotter steps are one broadcast QNode call (the
momentum kick's angles are arrays); devices without broadcasting get the
broadcast split into a batch by PennyLane's own preprocessing. Shots are set
with ``qml.set_shots`` per call, never on the device.
"""

from __future__ import annotations

import time

import numpy as np

from ..physics import Barrier
from .base import Backend, Capabilities, TransmissionResult
from .options import Option, one_of
from ._circuit_common import check_memory, energies_to_eps, program_options, resolve_program

#: Device keyword arguments qthybrid adds unless the user gives them: pennylane-qiskit's
#: legacy qiskit.aer device samples unless it is told to use the statevector method.
DEVICE_DEFAULTS = {"qiskit.aer": {"method": "statevector"}}

#: Devices whose constructor takes ``seed`` for reproducible sampling.
SEEDED_DEVICES = ("default.qubit", "lightning.")

#: Device-name prefixes and the package that provides them.
PLUGINS = {
    "default.": "pennylane",
    "lightning.qubit": "pennylane-lightning",
    "lightning.gpu": "pennylane-lightning-gpu",
    "lightning.kokkos": "pennylane-lightning-kokkos",
    "qiskit.": "pennylane-qiskit",
    "braket.": "amazon-braket-pennylane-plugin",
    "ionq.": "pennylane-ionq",
    "cirq.": "pennylane-cirq",
    "qulacs.": "pennylane-qulacs",
}


def plugin_for(device_name: str) -> str:
    """The pip package that provides ``device_name`` (best guess from its prefix)."""
    for prefix, package in PLUGINS.items():
        if device_name.startswith(prefix):
            return package
    return "the PennyLane plugin that provides it"


def make_device(name: str, wires: int, **kwargs):
    """``qml.device(name, wires=wires, **kwargs)`` with an error that names the missing plugin."""
    import pennylane as qml

    try:
        return qml.device(name, wires=wires, **kwargs)
    except qml.exceptions.DeviceError as exc:
        if "not" in str(exc) and ("exist" in str(exc) or "found" in str(exc) or "installed" in str(exc)):
            raise ValueError(f"PennyLane device {name!r} is not available: pip install {plugin_for(name)} "
                             f"({exc})") from None
        raise


def _str_ok(value) -> bool:
    return isinstance(value, str) and bool(value)


class PennyLaneBackend(Backend):
    """Scattering circuits on a PennyLane device (simulator or hardware)."""

    name = "pennylane"
    capabilities = Capabilities(exact=True, shots=True, programs=True, gpu=True)

    @classmethod
    def _default_options(cls):
        return {
            **program_options(),
            "device": Option("default.qubit", _str_ok, "a PennyLane device name, e.g. 'default.qubit'"),
            "device_kwargs": Option({}, lambda v: isinstance(v, dict), "a dict of keyword arguments for qml.device"),
            "form": Option("gates", one_of("gates", "blocks"),
                           "'gates' (hardware gate set) or 'blocks' (Fourier blocks, simulators only)"),
        }

    def qnode(self, program, steps: int, options=None):
        """The QNode ``circuit(momenta) -> probs of the readout wire`` for ``steps`` steps."""
        import pennylane as qml

        from ..circuits.pennylane_ops import scattering_operations

        options = options or self.options
        device_kwargs = {**DEVICE_DEFAULTS.get(options.device, {}), **options.device_kwargs}
        if options.seed is not None and options.device.startswith(SEEDED_DEVICES):
            device_kwargs.setdefault("seed", options.seed)
        device = make_device(options.device, program.num_qubits, **device_kwargs)

        @qml.qnode(device)
        def circuit(momenta):
            for op in scattering_operations(program, steps, momenta, form=options.form):
                qml.apply(op)
            return qml.probs(wires=0)

        return circuit

    def _run_transmission(self, energies, barrier: Barrier, options) -> TransmissionResult:
        import pennylane as qml

        energies, eps = energies_to_eps(energies, barrier)
        program = resolve_program(options, barrier)
        schedule = program.schedule(eps)
        check_memory(program.num_qubits)
        started = time.perf_counter()
        T = np.empty(len(eps))
        for steps, indices in schedule.groups():
            circuit = qml.set_shots(self.qnode(program, steps, options), shots=options.shots)
            probabilities = np.asarray(circuit(schedule.k0[indices]), dtype=float).reshape(len(indices), 2)
            T[indices] = probabilities[:, 1]
        stderr = None if options.shots is None else np.sqrt(T * (1 - T) / options.shots)
        return TransmissionResult(energies=energies, transmission=T, stderr=stderr,
                                  metadata={"program": program.fingerprint(), "preset": program.name,
                                            "device": options.device, "calls": len(np.unique(schedule.steps)),
                                            "seconds": time.perf_counter() - started})
