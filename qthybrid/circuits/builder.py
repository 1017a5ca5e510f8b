"""Qiskit circuits for split-operator programs (see :mod:`qthybrid.programs.split_operator`).

The circuit is structured so that hardware can run it and a sweep is data:

* psi_0 is loaded once (Aer's native ``initialize``, a portable
  ``StatePreparation``, or Hadamards for the uniform state); a later chunk of a
  long evolution starts from Aer's ``set_statevector``;
* the kick exp(i kappa j) is one phase gate per qubit, P(kappa 2^b), with kappa a
  circuit parameter per register: a batch of kicks is one circuit and its
  parameter binds;
* each step is the kinetic phase of every register, then the potential phase.
  A register's kinetic phase exp(-i c s^2) (s the signed Fourier index) is

  - ``form="gates"`` (hardware): QFT without swaps, n single-qubit and n(n-1)/2
    controlled phases (s^2 is quadratic in the bits of s), inverse QFT;
  - ``form="blocks"`` (simulators): one dense unitary for registers of up to 6
    qubits, else the QFT factorised Cooley-Tukey style into Fourier blocks on the
    high and low halves with twiddle diagonals, and the kinetic phase as one
    diagonal: 8 instructions per step instead of ~n^2 gates;

* the potential is one multi-controlled phase when it is a single dyadic block
  (the scattering barrier), else one diagonal gate;
* the readout applies the forward DFT (numpy's sign) to ``readout.fourier`` and
  measures (or saves the probabilities of) ``readout.measured``. Neither Fourier
  form leaves the frequency in natural bit order (and the gate form uses Qiskit's
  opposite sign), so :class:`BuiltCircuit` carries ``outcome_order``: the physical
  outcome index of every logical outcome, applied by :meth:`BuiltCircuit.logical`.

Every instruction that repeats (kinetic blocks, diagonals of equal times) is built
once and appended by reference: building anew would convert all 2^n diagonal
entries at every step, most of the build time of a long circuit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..programs import SplitOperatorProgram
from ..programs.split_operator import signed_indices

#: How psi_0 is loaded: Aer's native instruction or a portable gate.
PREPARATIONS = ("initialize", "state_preparation")
#: What the circuit records: Aer's exact probabilities, a measurement, Aer's statevector, or nothing.
READOUTS = ("probabilities", "measure", "statevector", "none")
#: Gate-level (hardware) or block (simulator) form of each kinetic step.
FORMS = ("gates", "blocks")
#: Registers up to this size get their whole kinetic step as one dense unitary in the blocks form.
_DENSE_KINETIC_QUBITS = 6


@dataclass(frozen=True)
class BuiltCircuit:
    """A circuit for (a chunk of) a program.

    Bind ``kick_parameters[a]`` to ``program.kicks[:, a]``. ``outcome_order[i]`` is
    the physical outcome index (Qiskit's bit order over the measured qubits) that
    holds logical outcome i of ``program.readout``.
    """

    circuit: object            #: qiskit.QuantumCircuit
    kick_parameters: tuple     #: one qiskit.circuit.Parameter per register (empty without kicks)
    outcome_order: np.ndarray
    measured_qubits: tuple     #: the physical qubits measured, outcome bit b on measured_qubits[b]

    def parameter_binds(self, program: SplitOperatorProgram) -> dict:
        """Aer ``parameter_binds`` entry for the program's kick batch."""
        return {parameter: program.kicks[:, a].tolist() for a, parameter in enumerate(self.kick_parameters)}

    def logical(self, probabilities) -> np.ndarray:
        """Probabilities in the program's logical outcome order (last axis)."""
        return np.asarray(probabilities)[..., self.outcome_order]


def _signed_weights(n: int) -> list:
    """Weights of the bits of a two's-complement n-bit integer."""
    return [2**b for b in range(n - 1)] + [-(2 ** (n - 1))]


def append_kinetic_phase(circuit, qubits, phase: float, bit_qubits=None) -> None:
    """exp(-i phase s^2) on a no-swap Fourier register: s is two's complement with bit b on ``bit_qubits[b]``.

    ``bit_qubits`` defaults to the no-swap QFT's output order (bit b on ``qubits[n-1-b]``).
    """
    n = len(qubits)
    weights = _signed_weights(n)
    on_qubit = bit_qubits if bit_qubits is not None else [qubits[n - 1 - b] for b in range(n)]
    for b in range(n):
        circuit.p(-phase * weights[b] ** 2, on_qubit[b])
    for b in range(n):
        for d in range(b + 1, n):
            circuit.cp(-2 * phase * weights[b] * weights[d], on_qubit[b], on_qubit[d])


def dyadic_block(potential: np.ndarray):
    """(start, size, height) when ``potential`` is nonzero on exactly one aligned power-of-two block, else None."""
    nonzero = np.flatnonzero(potential)
    if nonzero.size == 0:
        return None
    start, size = int(nonzero[0]), int(nonzero.size)
    if size & (size - 1) or start % size or nonzero[-1] != start + size - 1:
        return None
    height = float(potential[start])
    if not np.all(potential[start:start + size] == height):
        return None
    return start, size, height


def append_block_phase(circuit, qubits, start: int, size: int, angle: float) -> None:
    """Phase ``angle`` on the basis states [start, start + size) of ``qubits`` (an aligned dyadic block)."""
    p = int(math.log2(size))
    controls = list(qubits[p:])
    pattern = start >> p
    flips = [q for i, q in enumerate(controls) if not (pattern >> i) & 1]
    for q in flips:
        circuit.x(q)
    if len(controls) == 1:
        circuit.p(angle, controls[0])
    else:
        circuit.mcp(angle, controls[:-1], controls[-1])
    for q in flips:
        circuit.x(q)


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


def dft_matrix(n: int) -> np.ndarray:
    """The unitary n-qubit DFT with numpy's sign (row k, column j)."""
    N = 2**n
    return np.exp(-2j * np.pi * np.outer(np.arange(N), np.arange(N)) / N) / np.sqrt(N)


def blocked_kinetic_phases(n: int, phase: float) -> np.ndarray:
    """exp(-i phase s^2) in the register order of :func:`blocked_fourier`'s output."""
    frequency = blocked_fourier(n)[3]
    signed = np.where(frequency < 2 ** (n - 1), frequency, frequency - 2**n)
    return np.exp(-1j * phase * signed.astype(float) ** 2)


def dense_kinetic_unitary(n: int, phase: float) -> np.ndarray:
    """IDFT . exp(-i phase s^2) . DFT on an n-qubit register as one matrix."""
    F = dft_matrix(n)
    return F.conj().T @ (np.exp(-1j * phase * signed_indices(n).astype(float) ** 2)[:, None] * F)


class _InstructionCache:
    """Parameter-free gates, and their placed instructions, built once per circuit and appended by reference.

    Making a ``CircuitInstruction`` converts the gate's parameters (all 2^n entries of a
    diagonal), so each (gate, qubits) pair is made once and the same object re-appended.
    """

    def __init__(self):
        self._gates = {}
        self._placed = {}

    def get(self, key, make):
        if key not in self._gates:
            self._gates[key] = make()
        return self._gates[key]

    def placed(self, gate, qargs: tuple):
        from qiskit.circuit import CircuitInstruction

        key = (id(gate), qargs)
        if key not in self._placed:
            self._placed[key] = (gate, CircuitInstruction(gate, qargs))
        return self._placed[key][1]


@lru_cache(maxsize=8)
def _qft_pair(n: int):
    from qiskit.synthesis import synth_qft_full

    return synth_qft_full(n, do_swaps=False), synth_qft_full(n, do_swaps=False, inverse=True)


def _append(circuit, gate, qubits, cache: "_InstructionCache") -> None:
    """Append the shared, parameter-free ``gate`` through QuantumCircuit's unchecked ``_append``
    (``append`` would re-check all 2^n entries of a diagonal at every step); inside a
    control-flow block the checked ``append`` is needed."""
    qargs = tuple(circuit.qubits[q] for q in qubits)
    if circuit._control_flow_scopes:
        circuit.append(gate, qargs, copy=False)
    else:
        circuit._append(cache.placed(gate, qargs))


def _append_kinetic(circuit, qubits: list, phase: float, form: str, cache: _InstructionCache) -> None:
    """exp(-i phase s^2) in the Fourier basis of the register on ``qubits`` (least significant first)."""
    from qiskit.circuit.library import DiagonalGate, UnitaryGate

    n = len(qubits)
    if form == "gates":
        qft, iqft = _qft_pair(n)
        circuit.compose(qft, [circuit.qubits[q] for q in qubits], inplace=True)
        append_kinetic_phase(circuit, [circuit.qubits[q] for q in qubits], phase)
        circuit.compose(iqft, [circuit.qubits[q] for q in qubits], inplace=True)
        return
    if n <= _DENSE_KINETIC_QUBITS:
        gate = cache.get(("dense", n, phase), lambda: UnitaryGate(dense_kinetic_unitary(n, phase), label="kinetic",
                                                                  check_input=False))
        _append(circuit, gate, qubits, cache)
        return
    W_low, W_high, twiddle, _, a = blocked_fourier(n)
    low, high = qubits[:a], qubits[a:]
    w_low = cache.get(("w_low", n), lambda: UnitaryGate(W_low, label="dft_low", check_input=False))
    w_high = cache.get(("w_high", n), lambda: UnitaryGate(W_high, label="dft_high", check_input=False))
    w_low_inv = cache.get(("w_low_inv", n), lambda: UnitaryGate(W_low.conj().T, label="idft_low", check_input=False))
    w_high_inv = cache.get(("w_high_inv", n),
                           lambda: UnitaryGate(W_high.conj().T, label="idft_high", check_input=False))
    tw = cache.get(("twiddle", n), lambda: DiagonalGate(twiddle.tolist()))
    tw_inv = cache.get(("twiddle_inv", n), lambda: DiagonalGate(twiddle.conj().tolist()))
    kinetic = cache.get(("kinetic", n, phase), lambda: DiagonalGate(blocked_kinetic_phases(n, phase).tolist()))
    for gate, targets in ((w_high, high), (tw, qubits), (w_low, low), (kinetic, qubits), (w_low_inv, low),
                          (tw_inv, qubits), (w_high_inv, high)):
        _append(circuit, gate, targets, cache)


def _append_potential(circuit, program: SplitOperatorProgram, time: float, cache: _InstructionCache) -> None:
    """exp(-i V time) on all qubits."""
    from qiskit.circuit.library import DiagonalGate

    if time == 0:
        return
    block = cache.get("dyadic", lambda: dyadic_block(program.potential) or False)
    if block is False and not np.any(program.potential):
        return
    if block:
        start, size, height = block
        append_block_phase(circuit, list(circuit.qubits), start, size, -height * time)
        return
    gate = cache.get(("potential", time), lambda: DiagonalGate(np.exp(-1j * program.potential * time).tolist()))
    _append(circuit, gate, range(program.num_qubits), cache)


def _append_fourier_readout(circuit, qubits: list, form: str, cache: "_InstructionCache") -> np.ndarray:
    """Forward DFT on ``qubits``; returns, for each frequency bit b, the position of the qubit that holds it
    (as an index into ``qubits``), and whether the frequency comes out negated (Qiskit's QFT sign)."""
    from qiskit.circuit.library import DiagonalGate, UnitaryGate

    n = len(qubits)
    if form == "gates":
        qft, _ = _qft_pair(n)
        circuit.compose(qft, [circuit.qubits[q] for q in qubits], inplace=True)
        return np.array([n - 1 - b for b in range(n)]), True
    if n <= _DENSE_KINETIC_QUBITS:
        _append(circuit, UnitaryGate(dft_matrix(n), label="dft", check_input=False), qubits, cache)
        return np.arange(n), False
    W_low, W_high, twiddle, _, a = blocked_fourier(n)
    _append(circuit, UnitaryGate(W_high, label="dft_high", check_input=False), qubits[a:], cache)
    _append(circuit, DiagonalGate(twiddle.tolist()), qubits, cache)
    _append(circuit, UnitaryGate(W_low, label="dft_low", check_input=False), qubits[:a], cache)
    # frequency k = k2 + N2 k1: its low n-a bits (k2) sit on the high qubits, its high a bits (k1) on the low ones.
    return np.array([a + b if b < n - a else b - (n - a) for b in range(n)]), False


def _outcome_order(program: SplitOperatorProgram, holder: dict, negated: bool) -> tuple:
    """(physical measured qubits in logical bit order, physical outcome index of each logical outcome)."""
    readout = program.readout
    physical = tuple(holder.get(q, q) for q in readout.measured)
    m = len(physical)
    logical = np.arange(2**m)
    if negated and readout.fourier:
        # Qiskit's QFT has the opposite sign: frequency k is found at -k (mod 2^f) on the Fourier bits.
        f = len(readout.fourier)
        fourier_bits = [b for b, q in enumerate(readout.measured) if q in readout.fourier]
        if len(fourier_bits) != f:
            raise ValueError("a Fourier readout must measure all of its Fourier qubits")
        value = sum(((logical >> bit) & 1) << i for i, bit in enumerate(
            sorted(fourier_bits, key=lambda bit: readout.measured[bit])))
        flipped = (-value) % 2**f
        rest = logical.copy()
        for bit in fourier_bits:
            rest &= ~(1 << bit)
        logical_source = rest
        for i, bit in enumerate(sorted(fourier_bits, key=lambda bit: readout.measured[bit])):
            logical_source |= ((flipped >> i) & 1) << bit
    else:
        logical_source = logical
    # The physical outcome index has bit b on physical[b], i.e. it is the logical index itself once the
    # qubits are listed in that order; measured/probed qubits are appended in that order.
    return physical, logical_source


def build_circuit(program: SplitOperatorProgram, *, form: str = "blocks", readout: str = "probabilities",
                  preparation: str = "initialize", start_step: int = 0, stop_step: int | None = None,
                  start_state=None, loop: bool = False) -> BuiltCircuit:
    """The circuit for steps [start_step, stop_step) of ``program`` (default: all of it).

    A chunk that does not start at step 0 begins from ``start_state`` (Aer's
    ``set_statevector``, no kicks); a chunk that stops before the end saves the
    statevector (``readout="statevector"`` is implied) so the next chunk can go on.
    ``loop=True`` writes every step but the last as one ``for`` loop
    (compact OpenQASM 3 files; needs equal steps; Aer skips loop bodies of unitary and
    diagonal gates, so circuits for Aer are unrolled).
    """
    from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister
    from qiskit.circuit import Parameter
    from qiskit.circuit.library import StatePreparation

    if preparation not in PREPARATIONS:
        raise ValueError(f"preparation must be one of {PREPARATIONS}, got {preparation!r}")
    if readout not in READOUTS:
        raise ValueError(f"readout must be one of {READOUTS}, got {readout!r}")
    if form not in FORMS:
        raise ValueError(f"form must be one of {FORMS}, got {form!r}")
    stop_step = program.steps if stop_step is None else stop_step
    if not 0 <= start_step <= stop_step <= program.steps:
        raise ValueError(f"need 0 <= start_step <= stop_step <= {program.steps}, got {start_step}, {stop_step}")
    n = program.num_qubits
    final = stop_step == program.steps
    if not final:
        readout = "statevector"
    measured_count = len(program.readout.measured)
    registers = [QuantumRegister(n, "x")]
    if readout == "measure":
        registers.append(ClassicalRegister(measured_count, "c"))
    circuit = QuantumCircuit(*registers, name=f"{program.name}_{start_step}_{stop_step}")
    cache = _InstructionCache()
    parameters = ()

    if start_step == 0:
        if program.initial_state is None:
            circuit.h(range(n))
        elif preparation == "initialize":
            circuit.initialize(program.initial_state, range(n))
        else:
            circuit.append(StatePreparation(program.initial_state), range(n))
        if program.has_kicks():
            parameters = tuple(Parameter("k" if len(program.registers) == 1 else f"k{a}")
                               for a in range(len(program.registers)))
            for a, parameter in enumerate(parameters):
                for b, qubit in enumerate(program.register_qubits(a)):
                    circuit.p(parameter * 2**b, qubit)
        _append_potential(circuit, program, float(program.potential_times[0]), cache)
    else:
        from qiskit_aer.library import SetStatevector

        if start_state is None:
            raise ValueError("a chunk that starts after step 0 needs start_state")
        circuit.append(SetStatevector(np.asarray(start_state, dtype=complex)), range(n))

    def step_body(step):
        for a in range(len(program.registers)):
            _append_kinetic(circuit, program.register_qubits(a), float(program.kinetic_phases[step, a]), form, cache)
        _append_potential(circuit, program, float(program.potential_times[step + 1]), cache)

    if loop and stop_step - start_step > 1:
        inner = range(start_step, stop_step - 1)
        if not (np.all(program.kinetic_phases[inner.start:inner.stop] == program.kinetic_phases[inner.start])
                and np.all(program.potential_times[inner.start + 1:inner.stop + 1]
                           == program.potential_times[inner.start + 1])):
            raise ValueError("loop=True needs equal steps (the same kinetic phases and potential times)")
        with circuit.for_loop(range(len(inner))):
            step_body(inner.start)
        step_body(stop_step - 1)
    else:
        for step in range(start_step, stop_step):
            step_body(step)

    holder, negated = {}, False
    if final and program.readout.fourier:
        fourier = list(program.readout.fourier)
        positions, negated = _append_fourier_readout(circuit, fourier, form, cache)
        holder = {fourier[b]: fourier[positions[b]] for b in range(len(fourier))}
    physical, order = _outcome_order(program, holder, negated) if final else (program.readout.measured,
                                                                            np.arange(2**measured_count))
    if readout == "probabilities":
        from qiskit_aer.library import SaveProbabilities

        circuit.append(SaveProbabilities(len(physical), label="probabilities"), list(physical))
    elif readout == "measure":
        circuit.measure(list(physical), registers[1])
    elif readout == "statevector":
        from qiskit_aer.library import SaveStatevector

        circuit.append(SaveStatevector(n, label="statevector"), range(n))
    return BuiltCircuit(circuit=circuit, kick_parameters=parameters, outcome_order=np.asarray(order),
                        measured_qubits=tuple(physical))
