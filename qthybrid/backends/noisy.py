"""Noise rehearsal on a device's patch, and error mitigation (post-selection, mthree, mitiq ZNE).

The one noisy path (Aer's ``noise_backend=``; submission and PennyLane's
``qiskit.remote`` transpile the same way): a circuit is transpiled for the device
with :func:`qthybrid.circuits.layout.transpile_for_device` (the same physical
qubits every time), moved onto the device's patch (the qubits it uses, with their
gate, readout and relaxation figures: :func:`~qthybrid.circuits.layout.device_patch`)
and sampled with Aer under that patch's noise model, measurements and readout
errors included (density matrix up to 10 qubits, statevector trajectories beyond).

Mitigation of chain programs (``mitigation="auto"``: all three under noise):

* ``postselect``: shots with other than one excitation are errors and are dropped
  (the encoding's symmetry); the outcome probabilities are conditional on one excitation;
* ``readout``: mthree's M3 correction, calibrated on the same noisy simulator
  (``cals_from_system``, independent per qubit);
* ``zne``: mitiq folds the two-qubit gates of the *transpiled* circuit (G -> G G^dag G,
  chosen at random to reach each scale factor; single-qubit gates are never folded),
  every scale is run, and each outcome probability is extrapolated to zero noise with
  mitiq's ``LinearFactory`` (or ``RichardsonFactory``). Both are linear in the data,
  so the extrapolated probabilities still sum to one.

A :class:`~qthybrid.programs.ProgramResult` of a mitigated run carries, in its
metadata, ``effective_shots`` (per batch row: the shots an unmitigated estimate
would need for the same variance), ``kept_fraction``, and the unmitigated and
readout-corrected outcome probabilities of the unfolded circuit.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import numpy as np

from ..programs import ProgramResult
from ..programs.chain import ChainProgram, site_outcomes

#: Shots per circuit when a noisy run is asked for exact probabilities (a device is always sampled).
DEFAULT_NOISY_SHOTS = 10_000
#: Shots per calibration circuit of the readout correction.
CALIBRATION_SHOTS = 20_000
#: Up to this many qubits the noisy patch is simulated as a density matrix, beyond it by trajectories.
_DENSITY_MATRIX_QUBITS = 10
MITIGATIONS = ("postselect", "readout", "zne")
EXTRAPOLATIONS = ("linear", "richardson")


@dataclass(frozen=True)
class Mitigation:
    """Which mitigations to apply, and how ZNE scales and extrapolates."""

    postselect: bool = True
    readout: bool = True
    zne: bool = True
    scale_factors: tuple = (1.0, 2.0, 3.0)
    extrapolation: str = "linear"

    @classmethod
    def from_option(cls, value, scale_factors=(1.0, 2.0, 3.0), extrapolation="linear") -> "Mitigation":
        """``"auto"`` (all), ``"none"``, or an iterable of names from MITIGATIONS."""
        if value == "auto":
            chosen = set(MITIGATIONS)
        elif value == "none" or value is None:
            chosen = set()
        else:
            chosen = set(value)
        return cls(postselect="postselect" in chosen, readout="readout" in chosen, zne="zne" in chosen,
                   scale_factors=tuple(float(s) for s in scale_factors), extrapolation=extrapolation)

    def names(self) -> list:
        return [name for name in MITIGATIONS if getattr(self, name)]

    def check_installed(self) -> None:
        """Refuse, before anything runs, a mitigation whose library is missing (the ``hardware`` extra)."""
        import importlib.util

        lacking = {name: module for name, module in (("readout", "mthree"), ("zne", "mitiq"))
                   if getattr(self, name) and importlib.util.find_spec(module) is None}
        if lacking:
            raise ImportError(f"mitigation {self.names()} needs {' and '.join(lacking.values())}: pip install "
                              f"'qthybrid[hardware]', or pass mitigation='none' (or a list without "
                              f"{' and '.join(lacking)})")


def mitigation_ok(value) -> bool:
    if value in ("auto", "none"):
        return True
    try:
        names = list(value)
    except TypeError:
        return False
    return not isinstance(value, str) and all(name in MITIGATIONS for name in names)


def scale_factors_ok(value) -> bool:
    try:
        factors = [float(v) for v in value]
    except (TypeError, ValueError):
        return False
    return len(factors) >= 2 and factors[0] == 1.0 and all(b > a for a, b in zip(factors, factors[1:]))


def extrapolation_weights(scale_factors, method: str) -> np.ndarray:
    """w with sum_i w_i y_i = the extrapolated value at zero noise (least-squares line, or Richardson)."""
    x = np.asarray(scale_factors, dtype=float)
    if method == "linear":
        design = np.stack([np.ones_like(x), x], axis=1)
        return np.linalg.pinv(design)[0]
    return np.array([np.prod([xj / (xj - xi) for j, xj in enumerate(x) if j != i]) for i, xi in enumerate(x)])


def _extrapolate(scale_factors, values: np.ndarray, method: str) -> np.ndarray:
    """Each column of ``values`` (scales x outcomes) extrapolated to zero noise with mitiq's factory."""
    from mitiq.zne.inference import LinearFactory, RichardsonFactory

    factory = LinearFactory if method == "linear" else RichardsonFactory
    return np.array([factory.extrapolate(list(scale_factors), list(values[:, k])) for k in range(values.shape[1])])


class DeviceRehearsal:
    """A fake device's noise, simulated on the patch of qubits a program uses (cached per patch)."""

    _simulators: dict = {}
    _calibrations: dict = {}

    def __init__(self, device_name: str, seed: int | None = None, memory_budget: int | None = None):
        from ..circuits.devices import fake_backend

        self.device_name = device_name
        self.device = fake_backend(device_name)
        self.seed = seed
        self.memory_budget = memory_budget

    def simulator(self, qubits: tuple):
        """AerSimulator with the noise model of the patch ``qubits`` (physical, in patch order)."""
        from qiskit_aer import AerSimulator
        from qiskit_aer.noise import NoiseModel

        from ..circuits.layout import device_patch
        from .memory import check_memory

        method = "density_matrix" if len(qubits) <= _DENSITY_MATRIX_QUBITS else "statevector"
        if self.memory_budget is not None:
            size = 16 * (4 if method == "density_matrix" else 2) ** len(qubits) * 3
            check_memory(size, self.memory_budget, f"the noisy {method.replace('_', ' ')} of {len(qubits)} qubits",
                         "use fewer qubits")
        key = (self.device_name, tuple(qubits))
        if key not in self._simulators:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")      # Aer warns about device figures it clips (e.g. T2 > 2 T1)
                noise = NoiseModel.from_backend(device_patch(self.device, qubits))
            self._simulators[key] = AerSimulator(method=method, noise_model=noise)
        return self._simulators[key]

    def readout_mitigator(self, qubits: tuple):
        """mthree's M3Mitigation calibrated on the patch's simulator (independent per qubit)."""
        import mthree

        key = (self.device_name, tuple(qubits))
        if key not in self._calibrations:
            mitigator = mthree.M3Mitigation(self.simulator(qubits))
            mitigator.cals_from_system(list(range(len(qubits))), shots=CALIBRATION_SHOTS, method="independent",
                                       rep_delay=None)
            self._calibrations[key] = mitigator
        return self._calibrations[key]

    def transpiled(self, circuit, program):
        """(the circuit on the patch's qubits 0..k-1, the physical qubits of the patch, in that order)."""
        from ..circuits.layout import compact, transpile_for_device, used_qubits

        mapped = transpile_for_device(circuit, self.device, program)
        qubits = tuple(used_qubits(mapped))
        return compact(mapped, list(qubits)), qubits

    def run(self, circuits, qubits: tuple, shots: int):
        """Counts (Qiskit bit strings) of each circuit on the patch, in one Aer job."""
        options = {"shots": shots}
        if self.seed is not None:
            options["seed_simulator"] = self.seed
        job = self.simulator(qubits).run(circuits, **options)
        result = job.result()
        if not result.success:
            raise RuntimeError(f"Aer job {job.job_id()} failed: {result.status}")
        return [result.get_counts(i) for i in range(len(circuits))], job.job_id()


def _measured_qubits(circuit) -> list:
    """qubit index measured into each clbit (clbit order)."""
    out = [None] * circuit.num_clbits
    for instruction in circuit.data:
        if instruction.operation.name == "measure":
            out[circuit.find_bit(instruction.clbits[0]).index] = circuit.find_bit(instruction.qubits[0]).index
    return out


def _fold(circuit, scale: float, seed: int):
    """The circuit with its two-qubit gates folded to ``scale`` (mitiq; single-qubit gates untouched)."""
    if scale == 1.0:
        return circuit
    from mitiq.zne.scaling import fold_gates_at_random

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        folded = fold_gates_at_random(circuit, scale, seed=seed, fidelities={"single": 1.0})
    return folded


def run_chain_programs(programs, device_name: str, shots: int | None, seed: int | None, mitigation: Mitigation,
                       memory_budget: int | None = None) -> list:
    """Chain programs on a fake device's noise, mitigated: one ProgramResult each (see the module docstring)."""
    from ..circuits.chain import build_chain_circuit

    mitigation.check_installed()
    started = time.perf_counter()
    shots = shots or DEFAULT_NOISY_SHOTS
    rehearsal = DeviceRehearsal(device_name, seed, memory_budget)
    scales = mitigation.scale_factors if mitigation.zne else (1.0,)
    weights = extrapolation_weights(scales, mitigation.extrapolation) if mitigation.zne else np.ones(1)
    results = []
    for program in programs:
        if not isinstance(program, ChainProgram):
            raise TypeError("run_chain_programs runs ChainProgram only")
        built = build_chain_circuit(program)
        mapped, qubits = rehearsal.transpiled(built.circuit, program)
        measured = _measured_qubits(mapped)
        circuits = []
        for row in range(program.batch_size):
            bound = mapped.assign_parameters({p: float(program.potential[row, site])
                                              for site, p in built.parameters.items()}) if built.parameters else mapped
            circuits += [_fold(bound, scale, seed=(seed or 0) + 7919 * row + i) for i, scale in enumerate(scales)]
        counts, job_id = rehearsal.run(circuits, qubits, shots)
        mitigator = rehearsal.readout_mitigator(qubits) if mitigation.readout else None
        n = program.num_sites
        probabilities = np.empty((program.batch_size, n + 1))
        effective, kept_fraction = np.empty(program.batch_size), np.empty(program.batch_size)
        raw, corrected = np.empty((program.batch_size, n + 1)), np.empty((program.batch_size, n + 1))
        two_qubit = [sum(1 for i in c.data if i.operation.num_qubits == 2) for c in circuits[:len(scales)]]
        for row in range(program.batch_size):
            per_scale, kept_shots = [], []
            for i in range(len(scales)):
                row_counts = counts[row * len(scales) + i]
                frequencies = site_outcomes(row_counts, n) / shots
                if i == 0:
                    raw[row] = frequencies
                if mitigator is not None:
                    quasi = mitigator.apply_correction(row_counts, measured)
                    values = site_outcomes(dict(quasi), n)
                else:
                    values = frequencies
                if i == 0:
                    corrected[row] = values
                kept = float(values[:n].sum())
                kept_shots.append(max(kept, 1e-12) * shots)
                if mitigation.postselect:
                    if kept <= 0:
                        raise RuntimeError("no single-excitation outcome survived the noise")
                    values = np.concatenate([values[:n] / kept, [0.0]])
                per_scale.append(values)
            per_scale = np.array(per_scale)
            value = _extrapolate(scales, per_scale, mitigation.extrapolation) if mitigation.zne else per_scale[0]
            value = np.clip(value, 0.0, None)
            probabilities[row] = value / value.sum()
            kept_fraction[row] = raw[row, :n].sum()
            effective[row] = 1.0 / np.sum(weights**2 / np.asarray(kept_shots))
        metadata = {"job_ids": [job_id], "noise_backend": device_name, "physical_qubits": list(qubits),
                    "mitigation": mitigation.names(), "scale_factors": list(scales),
                    "two_qubit_gates": two_qubit, "method": rehearsal.simulator(qubits).options.method,
                    "effective_shots": effective, "kept_fraction": kept_fraction,
                    "unmitigated_probabilities": raw, "readout_corrected_probabilities": corrected,
                    "seconds": time.perf_counter() - started}
        results.append(ProgramResult(probabilities, shots=shots, metadata=metadata))
    return results


def run_split_operator_programs(programs, device_name: str, shots: int | None, seed: int | None,
                                memory_budget: int | None = None) -> list:
    """Split-operator programs sampled on a fake device's noise (the same path; readout correction only
    where asked: their circuits are far too deep for ZNE)."""
    from ..circuits import build_circuit

    started = time.perf_counter()
    shots = shots or DEFAULT_NOISY_SHOTS
    rehearsal = DeviceRehearsal(device_name, seed, memory_budget)
    results = []
    for program in programs:
        built = build_circuit(program, form="gates", readout="measure", preparation="state_preparation")
        mapped, qubits = rehearsal.transpiled(built.circuit, program)
        circuits = [mapped.assign_parameters({p: float(program.kicks[row, a])
                                              for a, p in enumerate(built.kick_parameters)})
                    if built.kick_parameters else mapped for row in range(program.batch_size)]
        counts, job_id = rehearsal.run(circuits, qubits, shots)
        values = np.zeros((program.batch_size, program.num_outcomes))
        for row, row_counts in enumerate(counts):
            physical = np.zeros(program.num_outcomes)
            for bits, count in row_counts.items():
                physical[int(bits.replace(" ", ""), 2)] += count / shots
            values[row] = built.logical(physical)
        results.append(ProgramResult(values, shots=shots, metadata={
            "job_ids": [job_id], "noise_backend": device_name, "physical_qubits": list(qubits),
            "method": rehearsal.simulator(qubits).options.method, "form": "gates",
            "seconds": time.perf_counter() - started}))
    return results
