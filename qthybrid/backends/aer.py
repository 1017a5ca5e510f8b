"""The Qiskit Aer backend: scattering circuits on AerSimulator, one job per energy sweep.

Energies that share a number of Trotter steps share one parameterised circuit
(the momentum kick is the only parameter); all circuits of a sweep go to Aer in
one ``run`` call with their parameter binds. Exact probabilities come from
``save_probabilities`` on the readout qubit; with ``shots`` the readout qubit is
measured and T comes with its binomial standard error.

Noise rehearsal: ``noise_backend="fake_manila"`` (any fake backend of
``qiskit_ibm_runtime.fake_provider``) transpiles the gate-level circuit for
that device and simulates it with the device's noise model (density matrix,
so exact expectation values under noise).
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from ..physics import Barrier
from .base import Backend, Capabilities, TransmissionResult
from .options import Option, one_of
from ._circuit_common import check_memory, energies_to_eps, program_options, resolve_program

_GPU_WARNED = False
#: Largest unrolled program that noise rehearsal will transpile for a device.
_MAX_NOISY_STEPS = 200
#: Host memory Aer's assembly takes per unrolled Trotter step (bytes, measured at 12 qubits:
#: blocks 2.3 MB/step, dominated by each instruction's own copy of its 2^n matrix entries;
#: gates 0.6 MB/step). Aer unrolls ``for`` loops too, and silently skips loop bodies made of
#: unitary/diagonal instructions, so circuits are always unrolled here.
_BYTES_PER_STEP = {"blocks": lambda n: 80 * 7 * 2**n, "gates": lambda n: 3500 * (n * n + 2 * n)}


def _noise_backend_ok(value) -> bool:
    return value is None or isinstance(value, str)


def _dict_ok(value) -> bool:
    return isinstance(value, dict)


def fake_backend(name: str):
    """A fake IBM backend by name: 'fake_manila', 'FakeManilaV2', 'fake_torino', ..."""
    try:
        from qiskit_ibm_runtime import fake_provider
    except ImportError as exc:
        raise ImportError("noise rehearsal needs qiskit-ibm-runtime: pip install qiskit-ibm-runtime") from exc
    wanted = name.lower().replace("_", "").replace("-", "")
    if not wanted.startswith("fake"):
        wanted = "fake" + wanted
    candidates = {attr.lower(): attr for attr in dir(fake_provider)
                  if attr.startswith("Fake") and not attr.startswith("FakeProvider")}
    for key in (wanted, wanted + "v2"):
        if key in candidates:
            return getattr(fake_provider, candidates[key])()
    known = sorted(a for a in candidates.values() if a.endswith("V2") or a in ("FakeTorino", "FakeFez"))
    raise ValueError(f"unknown fake backend {name!r}; known: {', '.join(known[:40])}, ...")


class AerBackend(Backend):
    """Barrier-scattering circuits on Qiskit Aer (statevector; density matrix under noise)."""

    name = "aer"
    capabilities = Capabilities(exact=True, shots=True, programs=True, gpu=True)

    @classmethod
    def _default_options(cls):
        return {
            **program_options(),
            "device": Option("auto", one_of("auto", "CPU", "GPU"), "'auto', 'CPU' or 'GPU'"),
            "form": Option("blocks", one_of("blocks", "gates"),
                           "'blocks' (Fourier blocks and diagonals, fastest in Aer) or 'gates' "
                           "(hardware gate set)"),
            "noise_backend": Option(None, _noise_backend_ok,
                                    "None or the name of a fake IBM backend, e.g. 'fake_manila'"),
            "simulator_options": Option({}, _dict_ok,
                                        "a dict of AerSimulator options (fusion_threshold, "
                                        "max_parallel_experiments, precision, ...)"),
        }

    # Simulator ----------------------------------------------------------------------------
    @staticmethod
    def available_devices() -> tuple:
        from qiskit_aer import AerSimulator

        return tuple(AerSimulator().available_devices())

    def _device(self, options) -> str:
        global _GPU_WARNED
        has_gpu = "GPU" in self.available_devices()
        if options.device == "GPU" and not has_gpu:
            if not _GPU_WARNED:
                warnings.warn("Aer reports no GPU (install qiskit-aer-gpu on a CUDA machine); "
                              "running on the CPU", RuntimeWarning, stacklevel=3)
                _GPU_WARNED = True
            return "CPU"
        if options.device == "auto":
            return "GPU" if has_gpu else "CPU"
        return options.device

    def _simulator(self, options, noisy_device=None):
        from qiskit_aer import AerSimulator

        settings = {"max_parallel_experiments": 0, **options.simulator_options}
        if noisy_device is not None:
            simulator = AerSimulator.from_backend(noisy_device, method="density_matrix", **settings)
        else:
            simulator = AerSimulator(method="statevector", device=self._device(options), **settings)
        return simulator

    # Circuits -----------------------------------------------------------------------------
    def plan_jobs(self, program, schedule, options) -> list[list[tuple[int, np.ndarray, str]]]:
        """Group the sweep's circuits (steps, energy indices, form) into jobs that fit in memory.

        One job whenever the whole sweep fits in half the available memory; a circuit too
        large in the requested form falls back to the other form (gates are leaner at 12
        qubits); a circuit too large in both is refused before anything is built.
        """
        from ._circuit_common import available_memory_bytes

        budget = available_memory_bytes() // 2
        n = program.num_qubits
        jobs, current, used = [], [], 0
        for steps, indices in schedule.groups():
            form = "gates" if options.noise_backend is not None else options.form
            if steps * _BYTES_PER_STEP[form](n) > budget and options.noise_backend is None:
                form = min(_BYTES_PER_STEP, key=lambda f: _BYTES_PER_STEP[f](n))
            cost = steps * _BYTES_PER_STEP[form](n)
            if cost > budget:
                raise MemoryError(f"a {steps}-step circuit on {n} qubits needs about {cost / 2**30:.3g} GiB for "
                                  f"Aer to assemble, over the {budget / 2**30:.3g} GiB budget; use fewer steps "
                                  f"(a larger dt) or the statevector backend")
            if current and used + cost > budget:
                jobs.append(current)
                current, used = [], 0
            current.append((steps, indices, form))
            used += cost
        return jobs + [current]

    def circuits_for(self, program, schedule, options, simulator=None, plan=None):
        """(circuits, parameter_binds, energy order) for one job, ready for ``simulator.run``.

        ``plan`` is one entry of :meth:`plan_jobs` (default: the whole sweep in one job).
        Under noise the gate-level circuits are transpiled for the device and the
        readout is attached to the physical qubit the logical readout qubit ends on.
        """
        from ..circuits import build_scattering_circuit

        exact = options.shots is None
        noisy = options.noise_backend is not None
        if plan is None:
            plan = [(steps, indices, "gates" if noisy else options.form) for steps, indices in schedule.groups()]
        circuits, binds, order = [], [], []
        for steps, indices, form in plan:
            built = build_scattering_circuit(
                program, steps, loop=False,
                readout="none" if (noisy and exact) else ("probabilities" if exact else "measure"),
                form=form, preparation="state_preparation" if noisy else "initialize")
            circuit = built.circuit
            if noisy:
                circuit = self._transpile_for_device(circuit, simulator, program, exact, options.seed)
            circuits.append(circuit)
            binds.append({built.momentum: schedule.k0[indices].tolist()})
            order.extend(indices.tolist())
        return circuits, binds, np.asarray(order)

    @staticmethod
    def _transpile_for_device(circuit, simulator, program, exact: bool, seed):
        from qiskit import transpile

        mapped = transpile(circuit, simulator, optimization_level=1, seed_transpiler=seed or 0)
        if exact:
            physical = mapped.layout.final_index_layout()[program.readout_qubit]
            from qiskit_aer.library import SaveProbabilities

            mapped.append(SaveProbabilities(1, label="probabilities"), [physical])
        return mapped

    def _run_transmission(self, energies, barrier: Barrier, options) -> TransmissionResult:
        energies, eps = energies_to_eps(energies, barrier)
        program = resolve_program(options, barrier)
        schedule = program.schedule(eps)
        noisy_device = None
        if options.noise_backend is not None:
            if int(schedule.steps.max()) > _MAX_NOISY_STEPS:
                raise ValueError(f"noise rehearsal transpiles the unrolled circuit for a device; this sweep "
                                 f"needs {int(schedule.steps.max())} steps (> {_MAX_NOISY_STEPS}): use "
                                 f"preset='nisq'")
            noisy_device = fake_backend(options.noise_backend)
            if program.num_qubits > noisy_device.num_qubits:
                raise ValueError(f"{options.noise_backend} has {noisy_device.num_qubits} qubits; the program "
                                 f"needs {program.num_qubits}")
        check_memory(program.num_qubits, density_matrix=noisy_device is not None)
        simulator = self._simulator(options, noisy_device)
        run_options = {"shots": options.shots or 1}
        if options.seed is not None:
            run_options["seed_simulator"] = options.seed
        started = time.perf_counter()
        T = np.empty(len(eps))
        job_ids, forms, n_circuits = [], [], 0
        for plan in self.plan_jobs(program, schedule, options):
            circuits, binds, order = self.circuits_for(program, schedule, options, simulator, plan)
            job = simulator.run(circuits, parameter_binds=binds, **run_options)
            result = job.result()
            if not result.success:
                raise RuntimeError(f"Aer job {job.job_id()} failed: {result.status}")
            for experiment, index in enumerate(order):
                if options.shots is None:
                    T[index] = result.data(experiment)["probabilities"][1]
                else:
                    T[index] = result.get_counts(experiment).get("1", 0) / options.shots
            job_ids.append(job.job_id())
            forms.extend(form for _, _, form in plan)
            n_circuits += len(circuits)
        stderr = None if options.shots is None else np.sqrt(T * (1 - T) / options.shots)
        metadata = {"program": program.fingerprint(), "preset": program.name, "job_ids": job_ids,
                    "circuits": n_circuits, "forms": sorted(set(forms)), "device": simulator.options.device,
                    "method": simulator.options.method, "seconds": time.perf_counter() - started,
                    "noise_backend": options.noise_backend}
        return TransmissionResult(energies=energies, transmission=T, stderr=stderr, metadata=metadata)
