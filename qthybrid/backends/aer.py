"""The Qiskit Aer backend: split-operator programs as circuits on AerSimulator.

Every program becomes a circuit (:func:`qthybrid.circuits.build_circuit`); a
program's batch of kicks is one circuit and its ``parameter_binds``, and the
circuits of a call go to Aer together in one ``run`` whenever they fit the
memory budget. Aer keeps a private copy of every instruction's matrix while it
runs a circuit (measured: see ``_BYTES_PER_ENTRY``), so a long evolution is cut
into chunks that fit the budget: each chunk saves its statevector and the next
starts from it (``set_statevector``); the chunks of all programs advance together,
one ``run`` per round. Exact probabilities come from ``save_probabilities``; with
``shots`` the readout qubits are measured.

Chain programs (the ``hardware`` preset) are one parameterised circuit per
program (:func:`qthybrid.circuits.chain.build_chain_circuit`).

Noise rehearsal: ``noise_backend="fake_torino"`` (any fake backend of
``qiskit_ibm_runtime.fake_provider``) runs the one noisy path of
:mod:`qthybrid.backends.noisy`: transpiled for that device as submission does,
sampled (``shots``, default 10,000) under the noise of the qubits used, readout
errors included; chain programs are mitigated (``mitigation="auto"``: symmetry
post-selection, mthree readout correction, mitiq zero-noise extrapolation).
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from ..programs import ProgramResult
from .base import Capabilities, ProgramBackend, checked_programs, split_by_type
from .memory import check_memory, release_memory
from .options import Option, one_of

_GPU_WARNED = False
#: Largest program (Trotter steps) that noise rehearsal will transpile for a device.
_MAX_NOISY_STEPS = 200
#: Host bytes per matrix entry of a circuit's instructions while Aer runs it (measured on Aer 0.17 at
#: 12 qubits: 2.25 MB per block-form step in Aer's copies, 0.75 MB in the Python circuit, 28,672 entries).
_BYTES_PER_ENTRY = 112
#: Host bytes per gate of the gate form (small matrices: the per-instruction overhead dominates).
_BYTES_PER_GATE = 3500


def _noise_backend_ok(value) -> bool:
    return value is None or (isinstance(value, str) and bool(value))


def _simulator_options_ok(value) -> bool:
    if not isinstance(value, dict):
        return False
    from qiskit_aer import AerSimulator

    return set(value) <= set(AerSimulator._default_options().__dict__)


def instruction_bytes(program, form: str) -> tuple[int, int]:
    """(bytes of the preparation and readout, bytes per Trotter step) Aer holds for ``program``."""
    from ..circuits.builder import _DENSE_KINETIC_QUBITS, dyadic_block

    n = program.num_qubits
    potential = 0 if dyadic_block(program.potential) or not np.any(program.potential) else 2**n
    per_step = potential
    for size in program.registers:
        if form == "gates":
            per_step += _BYTES_PER_GATE // _BYTES_PER_ENTRY * (size * size + 2 * size)
        elif size <= _DENSE_KINETIC_QUBITS:
            per_step += 4**size
        else:
            per_step += 3 * 2**size + 2 * 2 ** (size // 2 * 2) + 2 * 2 ** ((size - size // 2) * 2)
    fixed = 3 * 2**n   # the initial state, the readout's twiddle, a saved statevector
    return fixed * _BYTES_PER_ENTRY, per_step * _BYTES_PER_ENTRY


class AerBackend(ProgramBackend):
    """Split-operator programs on Qiskit Aer (statevector; density matrix under noise)."""

    name = "aer"
    capabilities = Capabilities(exact=True, shots=True, programs=True, gpu=True)

    @classmethod
    def _default_options(cls):
        return {
            **super()._default_options(),
            "device": Option("auto", one_of("auto", "CPU", "GPU"), "'auto', 'CPU' or 'GPU'"),
            "form": Option("blocks", one_of("blocks", "gates"),
                           "'blocks' (Fourier blocks and diagonals, fastest in Aer) or 'gates' "
                           "(hardware gate set)"),
            "noise_backend": Option(None, _noise_backend_ok,
                                    "None or the name of a fake IBM backend, e.g. 'fake_torino'"),
            "simulator_options": Option({}, _simulator_options_ok,
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

    def _simulator(self, options):
        from qiskit_aer import AerSimulator

        settings = {"max_parallel_experiments": 0, **options.simulator_options}
        return AerSimulator(method="statevector", device=self._device(options), **settings)

    # Execution ------------------------------------------------------------------------------
    def execute(self, programs, **overrides) -> list:
        options = self._options.replace(**overrides)
        programs = checked_programs(programs)
        split, chains = split_by_type(programs)
        results = [None] * len(programs)
        for indices, run in ((chains, self._execute_chains), (split, self._execute_split_operator)):
            if indices:
                for index, result in zip(indices, run([programs[i] for i in indices], options)):
                    results[index] = result
        return results

    def _execute_split_operator(self, programs, options) -> list:
        """Split-operator programs: chunked to the memory budget, every round one Aer run (noisy: the device path)."""
        started = time.perf_counter()
        if options.noise_backend is not None:
            return self._execute_noisy(programs, options, started)
        budget = self.memory_budget_bytes(options)
        simulator = self._simulator(options)
        run_options = {"shots": options.shots or 1}
        if options.seed is not None:
            run_options["seed_simulator"] = options.seed

        # Work items: (program index, batch rows or None for all, next step, state to start from).
        items, chunk_steps = [], {}
        for index, program in enumerate(programs):
            fixed, per_step = instruction_bytes(program, options.form)
            check_memory(fixed + per_step + program.statevector_bytes(1) * 4, budget,
                         f"one Trotter step of program {program.name!r} on {program.num_qubits} qubits",
                         "use fewer qubits or the statevector backend")
            steps_fit = max(1, (budget - fixed) // per_step)
            chunk_steps[index] = steps_fit
            if program.steps <= steps_fit:
                items.append([index, None, 0, None])
            else:                                   # chained chunks carry one statevector per batch row
                items.extend([index, row, 0, None] for row in range(program.batch_size))

        probabilities = {index: np.empty((p.batch_size, p.num_outcomes)) for index, p in enumerate(programs)}
        job_ids, rounds, circuits_run = [], 0, 0
        while items:
            round_items, used = [], 0
            for item in items:
                index, _, start, _ = item
                program = programs[index]
                stop = min(program.steps, start + chunk_steps[index])
                fixed, per_step = instruction_bytes(program, options.form)
                cost = fixed + per_step * (stop - start)
                if round_items and used + cost > budget:
                    continue
                round_items.append((item, stop))
                used += cost
            built, binds = [], []
            for (index, row, start, state), stop in round_items:
                program = programs[index]
                if row is not None:
                    program = program.with_kicks(program.kicks[row:row + 1])
                circuit = self._build(program, options, start, stop, state)
                built.append(circuit)
                binds.append(circuit.parameter_binds(program))
            job = simulator.run([b.circuit for b in built], parameter_binds=binds if any(binds) else None,
                                **run_options)
            result = job.result()
            if not result.success:
                raise RuntimeError(f"Aer job {job.job_id()} failed: {result.status}")
            job_ids.append(job.job_id())
            rounds += 1
            experiment = 0
            for ((index, row, start, _), stop), circuit in zip(round_items, built):
                program = programs[index]
                rows = range(program.batch_size) if row is None else [row]
                for r in rows:
                    data = result.data(experiment)
                    experiment += 1
                    if stop < program.steps:
                        items.append([index, r, stop, np.asarray(data["statevector"])])
                        continue
                    probabilities[index][r] = self._outcomes(result, experiment - 1, circuit, program, options)
                circuits_run += 1
            finished = {id(item) for item, _ in round_items}
            items = [item for item in items if id(item) not in finished]
            del built, binds, result, job
            release_memory()
        metadata = {"job_ids": job_ids, "runs": rounds, "circuits": circuits_run, "form": options.form,
                    "device": simulator.options.device, "method": simulator.options.method,
                    "seconds": time.perf_counter() - started}
        return [ProgramResult(probabilities[index], shots=options.shots, metadata=metadata)
                for index in range(len(programs))]

    def _execute_chains(self, programs, options) -> list:
        """Chain programs: exact probabilities or shots on AerSimulator; under noise the mitigated device path."""
        from qiskit import transpile

        from ..circuits.chain import build_chain_circuit, outcomes_from_bit_probabilities
        from ..programs.chain import site_outcomes

        if options.noise_backend is not None:
            from .noisy import Mitigation, run_chain_programs

            mitigation = Mitigation.from_option(options.mitigation, options.zne_scale_factors,
                                                options.zne_extrapolation)
            return run_chain_programs(programs, options.noise_backend, options.shots, options.seed, mitigation,
                                      self.memory_budget_bytes(options))
        started = time.perf_counter()
        simulator = self._simulator(options)
        run_options = {"shots": options.shots or 1}
        if options.seed is not None:
            run_options["seed_simulator"] = options.seed
        results = []
        for program in programs:
            check_memory(16 * 2**program.num_qubits * program.batch_size * 4, self.memory_budget_bytes(options),
                         f"{program.batch_size} statevector(s) of {program.num_qubits} qubits", "use fewer sites")
            built = build_chain_circuit(program, measure=options.shots is not None)
            if options.shots is None:
                from qiskit_aer.library import SaveProbabilities

                built.circuit.append(SaveProbabilities(program.num_qubits, label="probabilities"),
                                     range(program.num_qubits))
            binds = built.parameter_binds(program)
            # XX+YY rotations in Aer's gates (fixed angles; the parameters stay on single-qubit phases, so
            # Aer's mis-binding of parameterised controlled gates, qiskit-aer#2403, cannot occur)
            circuit = transpile(built.circuit, simulator, optimization_level=0)
            job = simulator.run([circuit], parameter_binds=[binds] if binds else None, **run_options)
            result = job.result()
            if not result.success:
                raise RuntimeError(f"Aer job {job.job_id()} failed: {result.status}")
            values = np.empty((program.batch_size, program.num_outcomes))
            for row in range(program.batch_size):
                if options.shots is None:
                    values[row] = outcomes_from_bit_probabilities(result.data(row)["probabilities"],
                                                                  program.num_sites)
                else:
                    values[row] = site_outcomes(result.get_counts(row), program.num_sites) / options.shots
            results.append(ProgramResult(values, shots=options.shots, metadata={
                "job_ids": [job.job_id()], "device": simulator.options.device, "method": simulator.options.method,
                "seconds": time.perf_counter() - started}))
        return results

    def _build(self, program, options, start, stop, state):
        from ..circuits import build_circuit

        readout = "probabilities" if options.shots is None else "measure"
        return build_circuit(program, form=options.form, readout=readout, preparation="initialize",
                             start_step=start, stop_step=stop, start_state=state)

    @staticmethod
    def _outcomes(result, experiment: int, circuit, program, options) -> np.ndarray:
        """The logical outcome probabilities (or frequencies) of one experiment."""
        size = program.num_outcomes
        if options.shots is None:
            physical = np.asarray(result.data(experiment)["probabilities"], dtype=float)
        else:
            physical = np.zeros(size)
            for bits, count in result.get_counts(experiment).items():
                physical[int(bits.replace(" ", ""), 2)] += count / options.shots
        return circuit.logical(physical)

    # Noise rehearsal -------------------------------------------------------------------------
    def _execute_noisy(self, programs, options, started) -> list:
        from ..circuits.devices import fake_backend

        device = fake_backend(options.noise_backend)
        for program in programs:
            if program.steps > _MAX_NOISY_STEPS:
                raise ValueError(f"noise rehearsal transpiles the whole circuit for a device; program "
                                 f"{program.name!r} has {program.steps} steps (> {_MAX_NOISY_STEPS}): use "
                                 f"preset='nisq'")
            if program.num_qubits > device.num_qubits:
                raise ValueError(f"{options.noise_backend} has {device.num_qubits} qubits; program "
                                 f"{program.name!r} needs {program.num_qubits}")
            check_memory(16 * 4**program.num_qubits * 3, self.memory_budget_bytes(options),
                         f"the density matrix of {program.num_qubits} qubits", "use fewer qubits")
        # The one noisy path (qthybrid.backends.noisy): the same transpilation as submission and qiskit.remote,
        # sampled with the device's readout errors on the patch of qubits the circuit uses.
        from .noisy import run_split_operator_programs

        return run_split_operator_programs(programs, options.noise_backend, options.shots, options.seed,
                                           self.memory_budget_bytes(options))
