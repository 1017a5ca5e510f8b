"""Split-operator programs as PennyLane operations (the same evolution as the Qiskit builder).

Qubit q of a program is PennyLane wire q. PennyLane reads a multi-wire matrix
or state big-endian (its first wire is the most significant bit), so every
register is given to PennyLane in descending qubit order. The kick is one
``PhaseShift`` per qubit whose angle is an array over the batch (parameter
broadcasting). Two forms, as in :mod:`qthybrid.circuits.builder`:

* ``gates``: ``qml.QFT``, ``PhaseShift``/``ControlledPhaseShift`` kinetic phase,
  a multi-controlled ``PhaseShift`` for a dyadic potential;
* ``blocks``: one ``QubitUnitary`` per register of up to 6 qubits, else Fourier
  blocks as ``QubitUnitary`` with the twiddle and kinetic diagonals written as
  small unitaries and controlled phases.

PennyLane's simulators apply a ``DiagonalQubitUnitary`` or a 12-qubit unitary as
a dense 2^n x 2^n matrix (at 12 qubits: 41 s of ``np.diag`` alone in 60 steps on
default.qubit), and even the blocks form's ~115 small operations per step cost
default.qubit about 0.6 s. With ``simulator_kernels=True`` (default.qubit) the
program uses three operations of qthybrid's own, :class:`KineticStep`,
:class:`ForwardDFT` and :class:`PhaseDiagonal`: each has its exact matrix and a
decomposition into the ``blocks`` operations for any other device, and a kernel
registered through ``pennylane.devices.qubit.apply_operation`` (the
singledispatch function default.qubit provides for specialised kernels) that
applies it with FFTs or elementwise.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ..programs import SplitOperatorProgram
from ..programs.split_operator import signed_indices
from .builder import (_DENSE_KINETIC_QUBITS, _signed_weights, blocked_fourier, dense_kinetic_unitary, dft_matrix,
                      dyadic_block)

FORMS = ("gates", "blocks")
#: The most qubits a general potential may span on devices without qthybrid's kernels, which get it as a
#: dense 2^n x 2^n matrix (16 MB at 10 qubits).
DENSE_DIAGONAL_MAX_QUBITS = 10


def _big_endian(qubits) -> list:
    return list(reversed(list(qubits)))


def kinetic_ops(qml, bit_wires: list, phase: float) -> list:
    """exp(-i phase s^2) in the Fourier basis of one register: QFT, phases, inverse QFT.

    ``bit_wires[b]`` is the wire holding bit b of the register's index and s is the
    signed (two's-complement) Fourier index; the phase is quadratic in its bits, so it
    is n ``PhaseShift`` and n(n-1)/2 ``ControlledPhaseShift`` gates.
    """
    n = len(bit_wires)
    weights = _signed_weights(n)
    big_endian = _big_endian(bit_wires)
    ops = [qml.QFT(wires=big_endian)]
    ops += [qml.PhaseShift(-phase * weights[b] ** 2, wires=bit_wires[b]) for b in range(n)]
    ops += [qml.ControlledPhaseShift(-2 * phase * weights[b] * weights[d], wires=[bit_wires[b], bit_wires[d]])
            for b in range(n) for d in range(b + 1, n)]
    ops.append(qml.adjoint(qml.QFT(wires=big_endian)))
    return ops


def _twiddle_ops(qml, low: list, high: list, sign: float) -> list:
    """exp(sign 2 pi i j1 k2 / N) (the blocked DFT's twiddle) as controlled phases on (low bit, high bit) pairs."""
    N = 2 ** (len(low) + len(high))
    return [qml.ControlledPhaseShift(sign * 2 * np.pi * 2 ** (i + j) / N, wires=[low[i], high[j]])
            for i in range(len(low)) for j in range(len(high))]


def _kinetic_diagonal_ops(qml, low: list, high: list, phase: float) -> list:
    """exp(-i phase s^2) in the blocked register order, s = k2 + N2 k1' (k1' signed): a diagonal on the
    high register, one on the low register, and the cross term as controlled phases."""
    a, N2 = len(low), 2 ** len(high)
    k2 = np.arange(N2)
    k1 = np.arange(2**a)
    k1 = np.where(k1 < 2 ** (a - 1), k1, k1 - 2**a)
    weights = _signed_weights(a)
    ops = [qml.QubitUnitary(np.diag(np.exp(-1j * phase * k2.astype(float) ** 2)), wires=_big_endian(high)),
           qml.QubitUnitary(np.diag(np.exp(-1j * phase * (N2 * k1.astype(float)) ** 2)), wires=_big_endian(low))]
    ops += [qml.ControlledPhaseShift(-2 * phase * N2 * weights[i] * 2**j, wires=[low[i], high[j]])
            for i in range(a) for j in range(len(high))]
    return ops


def block_kinetic_ops(qml, qubits: list, phase: float) -> list:
    """exp(-i phase s^2) in the Fourier basis of the register on ``qubits`` (least significant first), as
    one dense unitary up to 6 qubits, else Fourier blocks, controlled phases and small diagonals."""
    n = len(qubits)
    if n <= _DENSE_KINETIC_QUBITS:
        return [qml.QubitUnitary(dense_kinetic_unitary(n, phase), wires=_big_endian(qubits))]
    W_low, W_high, _, _, a = blocked_fourier(n)
    low, high = qubits[:a], qubits[a:]
    return ([qml.QubitUnitary(W_high, wires=_big_endian(high))] + _twiddle_ops(qml, low, high, -1.0)
            + [qml.QubitUnitary(W_low, wires=_big_endian(low))] + _kinetic_diagonal_ops(qml, low, high, phase)
            + [qml.QubitUnitary(W_low.conj().T, wires=_big_endian(low))] + _twiddle_ops(qml, low, high, +1.0)
            + [qml.QubitUnitary(W_high.conj().T, wires=_big_endian(high))])


def forward_dft_ops(qml, qubits: list) -> tuple[list, dict]:
    """(operations, holder) of the forward DFT (numpy's sign) on ``qubits``; ``holder`` maps the qubit that
    should hold each frequency bit to the qubit that does (the blocked DFT leaves its bits permuted)."""
    f = len(qubits)
    if f <= _DENSE_KINETIC_QUBITS:
        return [qml.QubitUnitary(dft_matrix(f), wires=_big_endian(qubits))], {}
    W_low, W_high, _, _, a = blocked_fourier(f)
    ops = ([qml.QubitUnitary(W_high, wires=_big_endian(qubits[a:]))] + _twiddle_ops(qml, qubits[:a], qubits[a:], -1.0)
           + [qml.QubitUnitary(W_low, wires=_big_endian(qubits[:a]))])
    return ops, {qubits[b]: qubits[a + b if b < f - a else b - (f - a)] for b in range(f)}


def _register_axes(op, state, is_state_batched: bool) -> tuple[list, int]:
    """The state tensor's axes of ``op``'s wires (default.qubit: wire w is axis w) and the batch offset."""
    offset = int(is_state_batched)
    return [offset + int(w) for w in op.wires], offset


def _transform_register(state, axes: list, transform):
    """Apply ``transform`` to the register on ``axes`` (big-endian) as a flat index on the last axis."""
    moved = np.moveaxis(state, axes, range(-len(axes), 0))
    shape = moved.shape
    flat = transform(moved.reshape(shape[:-len(axes)] + (2 ** len(axes),)))
    return np.moveaxis(flat.reshape(shape), range(-len(axes), 0), axes)


@functools.lru_cache(maxsize=1)
def simulator_operations():
    """qthybrid's operations with default.qubit kernels: (KineticStep, ForwardDFT, PhaseDiagonal).

    Built and registered once, on first use (importing PennyLane is slow).
    """
    import pennylane as qml
    from pennylane.devices.qubit.apply_operation import apply_operation

    class KineticStep(qml.operation.Operation):
        """exp(-i phase s^2) in the Fourier basis of a register (wires big-endian; s the signed index)."""

        num_params = 1
        grad_method = None

        @staticmethod
        def compute_matrix(phase):   # the register size comes from the wires: see matrix()
            raise qml.operation.MatrixUndefinedError

        def matrix(self, wire_order=None):
            dense = dense_kinetic_unitary(len(self.wires), float(self.data[0]))
            return dense if wire_order is None else qml.math.expand_matrix(dense, self.wires, wire_order)

        @staticmethod
        def compute_decomposition(phase, wires):
            return block_kinetic_ops(qml, list(reversed(list(wires))), float(phase))

    class ForwardDFT(qml.operation.Operation):
        """The discrete Fourier transform with numpy's sign, exp(-2 pi i j k / N) / sqrt(N), big-endian."""

        num_params = 0
        grad_method = None

        def matrix(self, wire_order=None):
            dense = dft_matrix(len(self.wires))
            return dense if wire_order is None else qml.math.expand_matrix(dense, self.wires, wire_order)

        @staticmethod
        def compute_decomposition(wires):
            little = list(reversed(list(wires)))
            f = len(little)
            if f <= _DENSE_KINETIC_QUBITS:
                return [qml.QubitUnitary(dft_matrix(f), wires=wires)]
            # The blocked form permutes the output bits; swaps restore the natural order here.
            ops, holder = forward_dft_ops(qml, little)
            return ops + _permutation_swaps(qml, holder, little)

    class PhaseDiagonal(qml.DiagonalQubitUnitary):
        """A diagonal unitary (phases big-endian over its wires) that default.qubit applies elementwise."""

    @apply_operation.register(KineticStep)
    def _apply_kinetic(op, state, is_state_batched: bool = False, debugger=None, **_):
        axes, _ = _register_axes(op, state, is_state_batched)
        factor = np.exp(-1j * float(op.data[0]) * signed_indices(len(axes)).astype(float) ** 2)
        return _transform_register(state, axes, lambda x: np.fft.ifft(np.fft.fft(x, axis=-1) * factor, axis=-1))

    @apply_operation.register(ForwardDFT)
    def _apply_dft(op, state, is_state_batched: bool = False, debugger=None, **_):
        axes, _ = _register_axes(op, state, is_state_batched)
        return _transform_register(state, axes, lambda x: np.fft.fft(x, axis=-1, norm="ortho"))

    @apply_operation.register(PhaseDiagonal)
    def _apply_diagonal(op, state, is_state_batched: bool = False, debugger=None, **_):
        axes, _ = _register_axes(op, state, is_state_batched)
        phases = np.asarray(op.data[0])
        return _transform_register(state, axes, lambda x: x * phases)

    return KineticStep, ForwardDFT, PhaseDiagonal


def _permutation_swaps(qml, holder: dict, qubits: list) -> list:
    """SWAP gates that move the value held by ``holder[q]`` onto ``q`` for every q (a permutation)."""
    position = {q: q for q in qubits}               # where each qubit's value currently sits
    where = {q: q for q in qubits}
    ops = []
    for target in qubits:
        source = holder.get(target, target)
        current = where[source]
        if current != target:
            ops.append(qml.SWAP(wires=[current, target]))
            displaced = position[target]
            position[current], position[target] = displaced, source
            where[displaced], where[source] = current, target
    return ops


def _potential_ops(qml, program: SplitOperatorProgram, time: float, block, native_controls: bool,
                   kernels: bool) -> list:
    if time == 0 or not np.any(program.potential):
        return []
    n = program.num_qubits
    if block:
        start, size, height = block
        p = int(math.log2(size))
        controls = list(range(p, n))
        pattern = start >> p
        if kernels or not native_controls:
            # The block's phase as one diagonal on the qubits that select it: elementwise with the
            # kernels (default.qubit builds a dense matrix for a controlled phase), else a small unitary.
            phases = np.ones(2 ** len(controls), dtype=complex)
            phases[pattern] = np.exp(-1j * height * time)
            if kernels:
                return [simulator_operations()[2](phases, wires=_big_endian(controls))]
            return [qml.QubitUnitary(np.diag(phases), wires=_big_endian(controls))]
        values = [(pattern >> i) & 1 for i in range(len(controls))]
        target = controls[-1]
        phase = qml.PhaseShift(-height * time, wires=target)
        if len(controls) > 1:
            phase = qml.ctrl(phase, control=controls[:-1], control_values=values[:-1])
        return [phase] if values[-1] else [qml.PauliX(target), phase, qml.PauliX(target)]
    phases = np.exp(-1j * program.potential * time)
    if kernels:
        return [simulator_operations()[2](phases, wires=_big_endian(range(n)))]
    if n > DENSE_DIAGONAL_MAX_QUBITS:
        raise ValueError(f"a general potential on {n} qubits would reach this PennyLane device as a dense "
                         f"2^{n} x 2^{n} matrix; use device='default.qubit', another backend, or at most "
                         f"{DENSE_DIAGONAL_MAX_QUBITS} qubits")
    return [qml.DiagonalQubitUnitary(phases, wires=_big_endian(range(n)))]


def program_operations(program: SplitOperatorProgram, form: str = "blocks", kicks=None, start_step: int = 0,
                       stop_step: int | None = None, start_state=None, simulator_kernels: bool = False,
                       native_controls: bool = True) -> tuple[list, list]:
    """(operations, wires to pass to ``qml.probs``) for steps [start_step, stop_step) of ``program``.

    ``kicks`` (shape (batch, registers)) default to the program's; a chunk after step 0
    starts from ``start_state`` (``qml.StatePrep``, broadcast over the batch). The
    probabilities of the returned wires are the program's logical outcomes in order.
    ``simulator_kernels=True`` (default.qubit, blocks form) uses qthybrid's operations
    with registered kernels (see the module docstring); ``native_controls=False`` writes a
    dyadic potential as one small diagonal unitary instead of a multi-controlled phase (for
    plugins whose decomposition of many controls fails). Operators are created with queuing
    off, so they can be made inside a QNode and applied with ``qml.apply``.
    """
    import pennylane as qml

    if form not in FORMS:
        raise ValueError(f"form must be one of {FORMS}, got {form!r}")
    stop_step = program.steps if stop_step is None else stop_step
    with qml.QueuingManager.stop_recording():
        return _operations(qml, program, form, program.kicks if kicks is None else np.asarray(kicks),
                           start_step, stop_step, start_state, simulator_kernels and form == "blocks",
                           native_controls)


def _operations(qml, program, form, kicks, start_step, stop_step, start_state, kernels, native_controls):
    n = program.num_qubits
    every = _big_endian(range(n))
    block = dyadic_block(program.potential)
    ops = []
    if start_step == 0:
        if program.initial_state is None:
            ops += [qml.Hadamard(wires=q) for q in range(n)]
        else:
            ops.append(qml.StatePrep(program.initial_state, wires=every))
        if program.has_kicks():
            for a in range(len(program.registers)):
                kick = kicks[:, a] if kicks.shape[0] > 1 else float(kicks[0, a])
                ops += [qml.PhaseShift(kick * 2**b, wires=q) for b, q in enumerate(program.register_qubits(a))]
        ops += _potential_ops(qml, program, float(program.potential_times[0]), block, native_controls, kernels)
    else:
        ops.append(qml.StatePrep(start_state, wires=every))
    for step in range(start_step, stop_step):
        for a in range(len(program.registers)):
            qubits = program.register_qubits(a)
            phase = float(program.kinetic_phases[step, a])
            # Fresh operator objects each step: queuing one object twice only moves it.
            if form == "gates":
                ops += kinetic_ops(qml, qubits, phase)
            elif kernels:
                ops.append(simulator_operations()[0](phase, wires=_big_endian(qubits)))
            else:
                ops += block_kinetic_ops(qml, qubits, phase)
        ops += _potential_ops(qml, program, float(program.potential_times[step + 1]), block, native_controls,
                              kernels)
    holder = {}
    if stop_step == program.steps and program.readout.fourier:
        fourier = list(program.readout.fourier)
        if form == "gates":
            ops.append(qml.adjoint(qml.QFT(wires=_big_endian(fourier))))    # numpy's sign, natural order
        elif kernels:
            ops.append(simulator_operations()[1](wires=_big_endian(fourier)))
        else:
            dft, holder = forward_dft_ops(qml, fourier)
            ops += dft
    measured = [holder.get(q, q) for q in program.readout.measured]
    return ops, _big_endian(measured)
