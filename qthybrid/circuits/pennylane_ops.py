"""Split-operator programs as PennyLane operations (the same evolution as the Qiskit builder).

Qubit q of a program is PennyLane wire q. PennyLane reads a multi-wire matrix
or state big-endian (its first wire is the most significant bit), so every
register is given to PennyLane in descending qubit order. The kick is one
``PhaseShift`` per qubit whose angle is an array over the batch (parameter
broadcasting). Two forms, as in :mod:`qthybrid.circuits.builder`: ``gates``
(``qml.QFT``, ``PhaseShift``/``ControlledPhaseShift`` kinetic phase, a
multi-controlled ``PhaseShift`` for a dyadic potential) and ``blocks`` (one
``QubitUnitary`` per register of up to 6 qubits, else Fourier blocks as
``QubitUnitary`` and diagonals as ``DiagonalQubitUnitary``).
"""

from __future__ import annotations

import math

import numpy as np

from ..programs import SplitOperatorProgram
from .builder import (_DENSE_KINETIC_QUBITS, _signed_weights, blocked_fourier, blocked_kinetic_phases,
                      dense_kinetic_unitary, dft_matrix, dyadic_block)

FORMS = ("gates", "blocks")


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


def _block_kinetic_ops(qml, qubits: list, phase: float, matrices: dict, native_diagonals: bool) -> list:
    n = len(qubits)
    if n <= _DENSE_KINETIC_QUBITS:
        key = ("dense", n, phase)
        if key not in matrices:
            matrices[key] = dense_kinetic_unitary(n, phase)
        return [qml.QubitUnitary(matrices[key], wires=_big_endian(qubits))]
    W_low, W_high, twiddle, _, a = blocked_fourier(n)
    low, high = qubits[:a], qubits[a:]
    if native_diagonals:
        if ("kinetic", n, phase) not in matrices:
            matrices["kinetic", n, phase] = blocked_kinetic_phases(n, phase)
        every = _big_endian(qubits)
        forward = [qml.DiagonalQubitUnitary(twiddle, wires=every)]
        middle = [qml.DiagonalQubitUnitary(matrices["kinetic", n, phase], wires=every)]
        backward = [qml.DiagonalQubitUnitary(twiddle.conj(), wires=every)]
    else:
        forward = _twiddle_ops(qml, low, high, -1.0)
        middle = _kinetic_diagonal_ops(qml, low, high, phase)
        backward = _twiddle_ops(qml, low, high, +1.0)
    return ([qml.QubitUnitary(W_high, wires=_big_endian(high))] + forward
            + [qml.QubitUnitary(W_low, wires=_big_endian(low))] + middle
            + [qml.QubitUnitary(W_low.conj().T, wires=_big_endian(low))] + backward
            + [qml.QubitUnitary(W_high.conj().T, wires=_big_endian(high))])


def _potential_ops(qml, program: SplitOperatorProgram, time: float, block, matrices: dict,
                   native_controls: bool) -> list:
    if time == 0 or not np.any(program.potential):
        return []
    n = program.num_qubits
    if block:
        start, size, height = block
        p = int(math.log2(size))
        controls = list(range(p, n))
        pattern = start >> p
        if not native_controls:
            # The block's phase as one diagonal unitary on the qubits that select it.
            phases = np.ones(2 ** len(controls), dtype=complex)
            phases[pattern] = np.exp(-1j * height * time)
            return [qml.QubitUnitary(np.diag(phases), wires=_big_endian(controls))]
        values = [(pattern >> i) & 1 for i in range(len(controls))]
        target = controls[-1]
        phase = qml.PhaseShift(-height * time, wires=target)
        if len(controls) > 1:
            phase = qml.ctrl(phase, control=controls[:-1], control_values=values[:-1])
        return [phase] if values[-1] else [qml.PauliX(target), phase, qml.PauliX(target)]
    key = ("potential", time)
    if key not in matrices:
        matrices[key] = np.exp(-1j * program.potential * time)
    return [qml.DiagonalQubitUnitary(matrices[key], wires=_big_endian(range(n)))]


def program_operations(program: SplitOperatorProgram, form: str = "blocks", kicks=None, start_step: int = 0,
                       stop_step: int | None = None, start_state=None,
                       native_diagonals: bool = True, native_controls: bool = True) -> tuple[list, list]:
    """(operations, wires to pass to ``qml.probs``) for steps [start_step, stop_step) of ``program``.

    ``kicks`` (shape (batch, registers)) default to the program's; a chunk after step 0
    starts from ``start_state`` (``qml.StatePrep``, broadcast over the batch). The
    probabilities of the returned wires are the program's logical outcomes in order.
    ``native_diagonals=False`` writes the blocks form's 2^n diagonals as small unitaries
    and controlled phases (for devices, such as lightning.qubit, that would turn a
    ``DiagonalQubitUnitary`` into a dense matrix); ``native_controls=False`` writes a dyadic
    potential as one small diagonal unitary instead of a multi-controlled phase (for plugins
    whose decomposition of many controls fails). Operators are created with queuing off, so they can be made inside a QNode and
    applied with ``qml.apply``.
    """
    import pennylane as qml

    if form not in FORMS:
        raise ValueError(f"form must be one of {FORMS}, got {form!r}")
    stop_step = program.steps if stop_step is None else stop_step
    with qml.QueuingManager.stop_recording():
        return _operations(qml, program, form, program.kicks if kicks is None else np.asarray(kicks),
                           start_step, stop_step, start_state, native_diagonals, native_controls)


def _operations(qml, program, form, kicks, start_step, stop_step, start_state, native_diagonals, native_controls):
    n = program.num_qubits
    every = _big_endian(range(n))
    block = dyadic_block(program.potential)
    matrices = {}
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
        ops += _potential_ops(qml, program, float(program.potential_times[0]), block, matrices, native_controls)
    else:
        ops.append(qml.StatePrep(start_state, wires=every))
    for step in range(start_step, stop_step):
        for a in range(len(program.registers)):
            qubits = program.register_qubits(a)
            phase = float(program.kinetic_phases[step, a])
            # Fresh operator objects each step: queuing one object twice only moves it.
            ops += kinetic_ops(qml, qubits, phase) if form == "gates" else _block_kinetic_ops(
                qml, qubits, phase, matrices, native_diagonals)
        ops += _potential_ops(qml, program, float(program.potential_times[step + 1]), block, matrices,
                              native_controls)
    holder = {}
    if stop_step == program.steps and program.readout.fourier:
        fourier = list(program.readout.fourier)
        f = len(fourier)
        if form == "gates":
            ops.append(qml.adjoint(qml.QFT(wires=_big_endian(fourier))))    # numpy's sign, natural order
        elif f <= _DENSE_KINETIC_QUBITS:
            ops.append(qml.QubitUnitary(dft_matrix(f), wires=_big_endian(fourier)))
        else:
            W_low, W_high, twiddle, _, a = blocked_fourier(f)
            ops.append(qml.QubitUnitary(W_high, wires=_big_endian(fourier[a:])))
            ops += ([qml.DiagonalQubitUnitary(twiddle, wires=_big_endian(fourier))] if native_diagonals
                    else _twiddle_ops(qml, fourier[:a], fourier[a:], -1.0))
            ops.append(qml.QubitUnitary(W_low, wires=_big_endian(fourier[:a])))
            holder = {fourier[b]: fourier[a + b if b < f - a else b - (f - a)] for b in range(f)}
    measured = [holder.get(q, q) for q in program.readout.measured]
    return ops, _big_endian(measured)
