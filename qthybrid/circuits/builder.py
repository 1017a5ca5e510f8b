"""Qiskit circuits for barrier-scattering programs.

The circuit is structured so that hardware can run it and a sweep is data:

* the initial Gaussian envelope is prepared once (``StatePreparation``, or Aer's
  native ``initialize``);
* the momentum kick exp(i k0 x) is one phase gate per qubit, P(k * dx * 2^b),
  so the energy enters only as the gate parameter ``k``;
* each Trotter step is QFT (no swaps), the kinetic phase, inverse QFT (no
  swaps), and the barrier phase. The kinetic phase exp(-i c dt s^2), with s the
  signed Fourier index and c = (2 pi / box)^2, is quadratic in the bits of s, so
  it is n single-qubit phases and n(n-1)/2 controlled phases (no 2^n diagonal);
  without the QFT's swaps, Fourier bit b lives on qubit n-1-b;
* the barrier is the dyadic block [N/2 - m, N/2): one multi-controlled phase on
  the top n - log2(m) qubits (the top one negated);
* the time step is shared by all energies, so every other gate is a constant
  and one circuit serves every energy that shares a number of steps (constants
  also keep clear of Aer 0.17's mis-binding of parameterised controlled gates,
  qiskit-aer#2403); the steps are a ``for`` loop (compact circuits, compact
  OpenQASM 3) or unrolled for hardware transpilation;
* the readout is the top qubit alone.

Two exact forms of the same evolution are built:

* ``form="gates"`` (hardware, export): the QFT as H and controlled phases, the
  kinetic phase as P and CP gates, the barrier as one multi-controlled phase;
* ``form="blocks"`` (simulators): the QFT factorised Cooley-Tukey style into a
  Fourier block on the high qubits, a twiddle diagonal and a Fourier block on the
  low qubits (``UnitaryGate`` of size 2^(n/2)), with the kinetic phase as one
  ``DiagonalGate`` in that transform's output order. About 8 instructions per
  Trotter step instead of ~n^2 gates: Aer simulates it several times faster and
  assembles it ~30x faster.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..programs import ScatteringProgram

#: How the initial envelope is loaded: Aer's native instruction or a portable gate.
PREPARATIONS = ("initialize", "state_preparation")
#: What the circuit records: Aer's exact probabilities, a measurement, or nothing.
READOUTS = ("probabilities", "measure", "none")
#: Gate-level (hardware) or block (simulator) form of each Trotter step.
FORMS = ("gates", "blocks")


@dataclass(frozen=True)
class ScatteringCircuit:
    """A parameterised circuit for one step count of a program.

    Bind ``momentum`` to k0 = sqrt(eps) (one value per energy).
    """

    circuit: object        #: qiskit.QuantumCircuit
    momentum: object       #: qiskit.circuit.Parameter
    steps: int
    program: ScatteringProgram


def _signed_weights(n: int) -> list[int]:
    """Weights of the bits of a two's-complement n-bit integer."""
    return [2**b for b in range(n - 1)] + [-(2 ** (n - 1))]


def append_kinetic_phase(circuit, qubits, box_length: float, time_step: float) -> None:
    """exp(-i (2 pi s / box)^2 dt) on a no-swap Fourier register (bit b on qubits[n-1-b])."""
    n = len(qubits)
    c = (2 * math.pi / box_length) ** 2
    weights = _signed_weights(n)
    on_qubit = [qubits[n - 1 - b] for b in range(n)]
    for b in range(n):
        circuit.p(-c * weights[b] ** 2 * time_step, on_qubit[b])
    for b in range(n):
        for d in range(b + 1, n):
            circuit.cp(-2 * c * weights[b] * weights[d] * time_step, on_qubit[b], on_qubit[d])


def append_barrier_phase(circuit, qubits, barrier_points: int, angle: float) -> None:
    """Phase ``angle`` on grid indices [N/2 - m, N/2): bits log2(m)..n-2 set, bit n-1 clear."""
    n = len(qubits)
    p = int(math.log2(barrier_points))
    top = qubits[n - 1]
    circuit.x(top)
    circuit.mcp(angle, list(qubits[p:n - 1]), top)
    circuit.x(top)


@lru_cache(maxsize=8)
def blocked_fourier(n: int):
    """Cooley-Tukey factors of the n-qubit DFT (numpy sign convention).

    With N1 = 2^a low qubits (a = n // 2) and N2 = 2^(n-a) high qubits, a
    position index j = j1 + N1 j2 is mapped by: DFT_N2 on the high register
    (j2 -> k2), the twiddle exp(-2 pi i j1 k2 / N), DFT_N1 on the low register
    (j1 -> k1). The register then holds r = k1 + N1 k2 for frequency
    k = k2 + N2 k1. Returns (W_low, W_high, twiddle, frequency_of_register, a).
    """
    a = n // 2
    N1, N2 = 2**a, 2 ** (n - a)
    W_low = np.exp(-2j * np.pi * np.outer(np.arange(N1), np.arange(N1)) / N1) / np.sqrt(N1)
    W_high = np.exp(-2j * np.pi * np.outer(np.arange(N2), np.arange(N2)) / N2) / np.sqrt(N2)
    r = np.arange(N1 * N2)
    low, high = r % N1, r // N1
    twiddle = np.exp(-2j * np.pi * low * high / (N1 * N2))
    frequency = high + N2 * low
    return W_low, W_high, twiddle, frequency, a


@lru_cache(maxsize=16)
def blocked_kinetic_phases(program: ScatteringProgram) -> np.ndarray:
    """exp(-i k^2 dt) in the register order of :func:`blocked_fourier`'s output (one per index)."""
    n = program.num_qubits
    frequency = blocked_fourier(n)[3]
    signed = np.where(frequency < 2 ** (n - 1), frequency, frequency - 2**n)
    return np.exp(-1j * (2 * np.pi * signed / program.box_length) ** 2 * program.dt)


@lru_cache(maxsize=16)
def _blocked_kinetic_gates(program: ScatteringProgram):
    """The seven instructions of IDFT . exp(-i k^2 dt) . DFT (built once per program) and
    whether each acts on the low, high or all qubits."""
    from qiskit.circuit.library import DiagonalGate

    W_low, W_high, twiddle, _, _ = _blocked_fourier_gates(program.num_qubits)
    kinetic = DiagonalGate(blocked_kinetic_phases(program).tolist())
    return ((W_high, "high"), (twiddle, "all"), (W_low, "low"), (kinetic, "all"),
            (W_low.inverse(), "low"), (twiddle.inverse(), "all"), (W_high.inverse(), "high"))


def _blocked_kinetic_instructions(qubits, program: ScatteringProgram) -> list:
    """IDFT . exp(-i k^2 dt) . DFT as Fourier blocks and diagonals (form="blocks"), as
    ready-made instructions on ``qubits``.

    The gates are constant and parameter-free, so the same instruction objects are
    appended at every step through QuantumCircuit's unchecked ``_append``: building
    them anew would convert all 2^n diagonal entries at every step, most of the build
    time of a long circuit.
    """
    from qiskit.circuit import CircuitInstruction

    a = _blocked_fourier_gates(len(qubits))[4]
    registers = {"low": tuple(qubits[:a]), "high": tuple(qubits[a:]), "all": tuple(qubits)}
    return [CircuitInstruction(gate, registers[register]) for gate, register in _blocked_kinetic_gates(program)]


@lru_cache(maxsize=8)
def _blocked_fourier_gates(n: int):
    from qiskit.circuit.library import DiagonalGate, UnitaryGate

    W_low, W_high, twiddle, frequency, a = blocked_fourier(n)
    return (UnitaryGate(W_low, label="dft_low"), UnitaryGate(W_high, label="dft_high"),
            DiagonalGate(twiddle.tolist()), frequency, a)


@lru_cache(maxsize=8)
def _qft_pair(n: int):
    from qiskit.synthesis import synth_qft_full

    return synth_qft_full(n, do_swaps=False), synth_qft_full(n, do_swaps=False, inverse=True)


def build_scattering_circuit(program: ScatteringProgram, steps: int, *, loop: bool = True,
                             preparation: str = "state_preparation",
                             readout: str = "measure", form: str = "gates") -> ScatteringCircuit:
    """The circuit for ``steps`` Trotter steps of ``program`` (see module docstring)."""
    from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister
    from qiskit.circuit import Parameter
    from qiskit.circuit.library import StatePreparation

    if preparation not in PREPARATIONS:
        raise ValueError(f"preparation must be one of {PREPARATIONS}, got {preparation!r}")
    if readout not in READOUTS:
        raise ValueError(f"readout must be one of {READOUTS}, got {readout!r}")
    if form not in FORMS:
        raise ValueError(f"form must be one of {FORMS}, got {form!r}")
    if not (isinstance(steps, int) and steps >= 1):
        raise ValueError(f"steps must be an int >= 1, got {steps!r}")

    n = program.num_qubits
    position = QuantumRegister(n, "x")
    registers = [position]
    if readout == "measure":
        registers.append(ClassicalRegister(1, "transmitted"))
    circuit = QuantumCircuit(*registers, name=f"{program.name}_scattering_{steps}")
    momentum = Parameter("k")
    dt = program.dt
    qubits = list(position)

    envelope = program.envelope()
    if preparation == "initialize":
        circuit.initialize(envelope, qubits)
    else:
        circuit.append(StatePreparation(envelope), qubits)
    for b, qubit in enumerate(qubits):
        circuit.p(momentum * (program.dx * 2**b), qubit)
    barrier_angle = -program.barrier_height * dt
    append_barrier_phase(circuit, qubits, program.barrier_points, 0.5 * barrier_angle)

    qft, iqft = _qft_pair(n) if form == "gates" else (None, None)

    blocked = _blocked_kinetic_instructions(qubits, program) if form == "blocks" else []

    def trotter_step():
        if form == "gates":
            circuit.compose(qft, qubits, inplace=True)
            append_kinetic_phase(circuit, qubits, program.box_length, dt)
            circuit.compose(iqft, qubits, inplace=True)
        else:
            for instruction in blocked:
                circuit._append(instruction)
        append_barrier_phase(circuit, qubits, program.barrier_points, barrier_angle)

    if loop:
        with circuit.for_loop(range(steps)):
            trotter_step()
    else:
        for _ in range(steps):
            trotter_step()

    if readout == "probabilities":
        from qiskit_aer.library import SaveProbabilities

        circuit.append(SaveProbabilities(1, label="probabilities"), [qubits[program.readout_qubit]])
    elif readout == "measure":
        circuit.measure(qubits[program.readout_qubit], registers[1][0])
    return ScatteringCircuit(circuit=circuit, momentum=momentum, steps=steps, program=program)
