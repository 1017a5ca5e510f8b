"""The PennyLane backend: split-operator programs as QNodes on any PennyLane device.

``get_backend("pennylane", device="lightning.qubit", **options)``. A program's
batch of kicks is one broadcast QNode call (devices without broadcasting get it
split by PennyLane's own preprocessing). Shots are set with ``qml.set_shots``
per call, never on the device. On simulators a long evolution is cut into
chunks that fit the memory budget, each starting (``qml.StatePrep``) from the
previous chunk's ``qml.state()``; devices that cannot return a state (hardware,
``qiskit.remote``) run each program as one circuit.
"""

from __future__ import annotations

import time

import numpy as np

from ..programs import ProgramResult
from ..programs.chain import ChainProgram
from .base import Capabilities, ProgramBackend, checked_programs
from .memory import check_memory
from .options import Option, one_of

#: Device keyword arguments qthybrid adds unless the user gives them: pennylane-qiskit's
#: legacy qiskit.aer device samples unless it is told to use the statevector method.
DEVICE_DEFAULTS = {"qiskit.aer": {"method": "statevector"}}

#: Devices whose constructor takes ``seed`` for reproducible sampling.
SEEDED_DEVICES = ("default.qubit", "lightning.")

#: Simulators that return ``qml.state()``, so long programs can be chunked.
STATE_DEVICES = ("default.qubit", "lightning.")

#: Devices that get qthybrid's own kinetic, Fourier and diagonal operations with registered kernels
#: (see qthybrid.circuits.pennylane_ops); the others get standard operations.
KERNEL_DEVICES = ("default.qubit",)
#: Devices that apply multi-controlled phases natively (others get a small diagonal unitary).
NATIVE_CONTROL_DEVICES = ("default.qubit", "lightning.")

#: Host bytes PennyLane holds per matrix entry of a queued operation (the tape's copy and the device's).
_BYTES_PER_ENTRY = 48

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


def step_entries(program, form: str) -> int:
    """Matrix entries the operations of one Trotter step hold (for memory planning)."""
    from ..circuits.builder import _DENSE_KINETIC_QUBITS, dyadic_block

    entries = 0 if dyadic_block(program.potential) or not np.any(program.potential) else 2**program.num_qubits
    for size in program.registers:
        if form == "gates":
            entries += 8 * (size * size + 2 * size)
        elif size <= _DENSE_KINETIC_QUBITS:
            entries += 4**size
        else:
            entries += 3 * 2**size + 2 * 2 ** (size // 2 * 2) + 2 * 2 ** ((size - size // 2) * 2)
    return entries


class PennyLaneBackend(ProgramBackend):
    """Split-operator programs on a PennyLane device (simulator or hardware)."""

    name = "pennylane"
    capabilities = Capabilities(exact=True, shots=True, programs=True, gpu=True)

    @classmethod
    def _default_options(cls):
        return {
            **super()._default_options(),
            "device": Option("default.qubit", _str_ok, "a PennyLane device name, e.g. 'lightning.qubit'"),
            "device_kwargs": Option({}, lambda v: isinstance(v, dict), "a dict of keyword arguments for qml.device"),
            "form": Option("blocks", one_of("gates", "blocks"),
                           "'blocks' (Fourier blocks, simulators) or 'gates' (hardware gate set)"),
        }

    def device(self, num_qubits: int, options=None):
        """The PennyLane device for ``num_qubits`` wires, with qthybrid's defaults and the seed."""
        options = options or self.options
        device_kwargs = {**DEVICE_DEFAULTS.get(options.device, {}), **options.device_kwargs}
        if options.seed is not None and options.device.startswith(SEEDED_DEVICES):
            device_kwargs.setdefault("seed", options.seed)
        return make_device(options.device, num_qubits, **device_kwargs)

    def _execute_chain(self, program, options, started) -> ProgramResult:
        return _chain_execute(self, program, options, started)

    def qnode(self, program, options=None, start_step: int = 0, stop_step: int | None = None, final=True):
        """The QNode ``circuit(kicks, start_state) -> probabilities`` (or the state of a non-final chunk)."""
        import pennylane as qml

        from ..circuits.pennylane_ops import program_operations

        options = options or self.options
        device = self.device(program.num_qubits, options)

        @qml.qnode(device)
        def circuit(kicks, start_state=None):
            ops, wires = program_operations(program, options.form, kicks, start_step, stop_step, start_state,
                                            simulator_kernels=options.device.startswith(KERNEL_DEVICES),
                                            native_controls=options.device.startswith(NATIVE_CONTROL_DEVICES))
            for op in ops:
                qml.apply(op)
            return qml.probs(wires=wires) if final else qml.state()

        return circuit

    def execute(self, programs, **overrides) -> list:
        options = self._options.replace(**overrides)
        programs = checked_programs(programs)
        started = time.perf_counter()
        budget = self.memory_budget_bytes(options)
        can_chunk = options.device.startswith(STATE_DEVICES)
        results = []
        for program in programs:
            if isinstance(program, ChainProgram):
                results.append(self._execute_chain(program, options, started))
                continue
            check_memory(program.statevector_bytes() * 4, budget,
                         f"{program.batch_size} statevector(s) on {program.num_qubits} qubits",
                         "use fewer qubits or a smaller sweep")
            per_step = max(1, step_entries(program, options.form) * _BYTES_PER_ENTRY * program.batch_size)
            chunk = max(1, (budget - program.statevector_bytes() * 4) // per_step) if can_chunk else program.steps
            start, state = 0, None
            while True:
                stop = min(program.steps, start + chunk)
                final = stop == program.steps
                circuit = self.qnode(program, options, start, stop, final)
                if final:
                    circuit = qml_set_shots(circuit, options.shots)
                value = np.asarray(circuit(program.kicks, state))
                if final:
                    probabilities = value.reshape(program.batch_size, program.num_outcomes).astype(float)
                    break
                # qml.state() is big-endian over wires 0..n-1; the programs' flat order is little-endian.
                n = program.num_qubits
                state = value.reshape(-1, *[2] * n).transpose(0, *range(n, 0, -1)).reshape(value.shape)
                start = stop
            results.append(ProgramResult(probabilities, shots=options.shots,
                                         metadata={"device": options.device, "form": options.form,
                                                   "seconds": time.perf_counter() - started}))
        return results


def _chain_execute(backend, program, options, started) -> ProgramResult:
    """A chain program, one QNode call per potential row; probabilities over every wire -> the n + 1 outcomes.

    On ``qiskit.remote`` the circuit is transpiled as every noisy path does
    (:func:`qthybrid.circuits.layout.device_transpile_options`: the device's best line of
    qubits, the same optimisation level and seed) unless ``device_kwargs`` says otherwise.
    """
    import pennylane as qml

    from ..circuits.chain import chain_operations, outcomes_from_bit_probabilities

    n = program.num_qubits
    check_memory(16 * 2**n * 4, backend.memory_budget_bytes(options), f"a statevector on {n} qubits",
                 "use fewer sites")
    if options.device == "qiskit.remote" and "backend" in options.device_kwargs:
        from ..circuits.layout import device_transpile_options

        transpile_options = device_transpile_options(options.device_kwargs["backend"], program)
        options = options.replace(device_kwargs={**transpile_options, **options.device_kwargs})
    device = backend.device(n, options)
    wires = list(reversed(range(n)))        # qml.probs is big-endian: bit j of the index is then wire j

    @qml.qnode(device)
    def circuit(row):
        for op in chain_operations(program, program.potential[row]):
            qml.apply(op)
        return qml.probs(wires=wires)

    circuit = qml_set_shots(circuit, options.shots)
    values = np.array([outcomes_from_bit_probabilities(np.asarray(circuit(row), dtype=float), n)
                       for row in range(program.batch_size)])
    return ProgramResult(values, shots=options.shots, metadata={"device": options.device,
                                                                "seconds": time.perf_counter() - started})


def qml_set_shots(circuit, shots):
    """``qml.set_shots`` (exact probabilities when ``shots`` is None)."""
    import pennylane as qml

    return qml.set_shots(circuit, shots=shots)
