"""The QDE annealer as a quantum circuit: real-time adiabatic evolution on a qubit grid.

n qubits per dimension hold a periodic grid over the box (scaled to the unit
box). The state starts uniform (H on every qubit: the ground state of the
kinetic term) and is evolved by Trotter steps exp(-i D_j k^2 dt) exp(-i zeta dt)
while D_j falls geometrically from D0 to D_min, so that (adiabatically) it
follows the ground state of H_D = -D laplacian + zeta towards the global minimum
of zeta. zeta is the objective on the grid scaled to [0, 1] (phases need a
scale); the kinetic phase is the same QFT construction as the scattering
circuits, one register per dimension; a general zeta is one diagonal gate.
Readout: the position distribution (exact) or samples of it (shots).

Flat grid index: i = j_0 + N j_1 (+ N^2 j_2), qubit q of dimension a is bit q
of j_a (Qiskit's little-endian order).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class AnnealingProgram:
    """A grid, the scaled potential on it, and the Trotter schedule of D."""

    qubits_per_dim: int
    bounds: tuple
    zeta: np.ndarray = field(compare=False, repr=False)   #: shape (N,) * d, indexed [j_0, j_1, ...], in [0, 1]
    D: tuple                                              #: D_j for each step (unit-box units)
    dt: float

    def __post_init__(self):
        n, d = self.qubits_per_dim, len(self.bounds)
        if not (isinstance(n, int) and 1 <= n):
            raise ValueError(f"qubits_per_dim must be an int >= 1, got {n!r}")
        if n * d > 20:
            raise ValueError(f"{n} qubits per dimension x {d} dimensions = {n * d} qubits: the circuit solver "
                             f"allows at most 20 (a 2^20 statevector and diagonal); use fewer qubits or "
                             f"backend='analytic'")
        if self.zeta.shape != (2**n,) * d:
            raise ValueError(f"zeta must have shape {(2 ** n,) * d}, got {self.zeta.shape}")

    @property
    def num_qubits(self) -> int:
        return self.qubits_per_dim * len(self.bounds)

    def points(self):
        """Grid coordinates per axis (the periodic grid's points inside the box)."""
        N = 2**self.qubits_per_dim
        return [low + (high - low) * (np.arange(N) + 0.5) / N for low, high in self.bounds]

    def flat_zeta(self) -> np.ndarray:
        """zeta in flat circuit order i = j_0 + N j_1 + ..."""
        return self.zeta.flatten(order="F")


def make_program(f, bounds, qubits_per_dim: int, D0: float, D_min: float, steps: int, dt: float):
    """Evaluate ``f`` on the grid and build the program (returns program and grid values)."""
    N = 2**qubits_per_dim
    axes = [low + (high - low) * (np.arange(N) + 0.5) / N for low, high in bounds]
    mesh = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1)
    values = np.asarray(f(mesh.reshape(-1, len(bounds))), dtype=float).reshape((N,) * len(bounds))
    if not np.all(np.isfinite(values)):
        raise ValueError("the objective returned non-finite values (NaN or inf) on the grid")
    spread = values.max() - values.min()
    zeta = (values - values.min()) / (spread if spread > 0 else 1.0)
    schedule = tuple(D0 * (D_min / D0) ** (j / max(steps - 1, 1)) for j in range(steps))
    return AnnealingProgram(qubits_per_dim, tuple(map(tuple, bounds)), zeta, schedule, dt), values


# Statevector (numpy FFT) -----------------------------------------------------------------------
def statevector_probabilities(program: AnnealingProgram) -> np.ndarray:
    """Exact final position distribution, flat circuit order."""
    N, d = 2**program.qubits_per_dim, len(program.bounds)
    k = 2 * np.pi * np.fft.fftfreq(N, d=1.0 / N)
    k2 = sum(np.meshgrid(*([k**2] * d), indexing="ij"))
    psi = np.full((N,) * d, 1.0 / math.sqrt(N**d), dtype=complex)
    potential = np.exp(-1j * program.zeta * program.dt)
    for D in program.D:
        psi = np.fft.ifftn(np.exp(-1j * D * k2 * program.dt) * np.fft.fftn(psi * potential))
    return (np.abs(psi) ** 2).flatten(order="F")


# Qiskit ------------------------------------------------------------------------------------------
def qiskit_circuit(program: AnnealingProgram, readout: str = "probabilities"):
    """The annealing circuit (gate form; the objective as one DiagonalGate per step)."""
    from qiskit import QuantumCircuit
    from qiskit.circuit.library import DiagonalGate
    from qiskit.synthesis import synth_qft_full

    from ..circuits.builder import append_kinetic_phase

    n, d = program.qubits_per_dim, len(program.bounds)
    circuit = QuantumCircuit(n * d, n * d if readout == "measure" else 0, name="qde_anneal")
    circuit.h(range(n * d))
    potential = DiagonalGate(np.exp(-1j * program.flat_zeta() * program.dt).tolist())
    qft, iqft = synth_qft_full(n, do_swaps=False), synth_qft_full(n, do_swaps=False, inverse=True)
    registers = [list(range(a * n, (a + 1) * n)) for a in range(d)]
    for D in program.D:
        circuit.append(potential, range(n * d))
        for qubits in registers:
            circuit.compose(qft, qubits, inplace=True)
            append_kinetic_phase(circuit, qubits, 1.0, D * program.dt)
            circuit.compose(iqft, qubits, inplace=True)
    if readout == "probabilities":
        from qiskit_aer.library import SaveProbabilities

        circuit.append(SaveProbabilities(n * d, label="probabilities"), range(n * d))
    elif readout == "measure":
        circuit.measure(range(n * d), range(n * d))
    return circuit


def aer_probabilities(program: AnnealingProgram, shots: int | None = None, seed: int | None = None):
    """Final distribution from Aer (exact, or sampled with ``shots``)."""
    from qiskit_aer import AerSimulator

    simulator = AerSimulator(method="statevector")
    circuit = qiskit_circuit(program, "probabilities" if shots is None else "measure")
    options = {"shots": shots or 1}
    if seed is not None:
        options["seed_simulator"] = seed
    result = simulator.run(circuit, **options).result()
    if shots is None:
        return np.asarray(result.data(0)["probabilities"])
    probabilities = np.zeros(2**program.num_qubits)
    for bits, count in result.get_counts(0).items():
        probabilities[int(bits.replace(" ", ""), 2)] = count / shots
    return probabilities


# PennyLane ----------------------------------------------------------------------------------------
def pennylane_probabilities(program: AnnealingProgram, device: str = "default.qubit", shots: int | None = None,
                            device_kwargs: dict | None = None):
    """Final distribution from a PennyLane device (wire q is circuit qubit q)."""
    import pennylane as qml

    from ..backends.pennylane import make_device
    from ..circuits.pennylane_ops import kinetic_ops

    n, d = program.qubits_per_dim, len(program.bounds)
    W = n * d
    dev = make_device(device, W, **(device_kwargs or {}))
    little_endian = list(reversed(range(W)))      # index sum_q bit_q 2^q over these wires
    phases = np.exp(-1j * program.flat_zeta() * program.dt)

    @qml.qnode(dev)
    def circuit():
        with qml.QueuingManager.stop_recording():
            ops = [qml.Hadamard(wires=w) for w in range(W)]
            for D in program.D:
                ops.append(qml.DiagonalQubitUnitary(phases, wires=little_endian))
                for a in range(d):
                    ops += kinetic_ops(qml, list(range(a * n, (a + 1) * n)), (2 * math.pi) ** 2 * D * program.dt)
        for op in ops:
            qml.apply(op)
        return qml.probs(wires=little_endian)

    return np.asarray(qml.set_shots(circuit, shots=shots)(), dtype=float)
