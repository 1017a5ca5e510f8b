"""The scattering program as PennyLane operations (the same circuit as the Qiskit builder).

Wire w holds bit n-1-w of the grid index (PennyLane's big-endian convention),
so ``qml.StatePrep`` takes the envelope in grid order, wire 0 is the top bit
and the readout is ``qml.probs(wires=0)``. The momentum kick is one
``PhaseShift`` per wire whose angle is an array over the swept energies
(parameter broadcasting). Two forms, as in :mod:`qthybrid.circuits.builder`:
``gates`` (``qml.QFT``, ``PhaseShift``/``ControlledPhaseShift`` kinetic phase,
a multi-controlled ``PhaseShift`` barrier) and ``blocks`` (Fourier blocks as
``QubitUnitary`` and diagonals as ``DiagonalQubitUnitary``).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from ..programs import ScatteringProgram
from .builder import _signed_weights, blocked_fourier, blocked_kinetic_phases


def _wire(n: int, bit: int) -> int:
    return n - 1 - bit


def scattering_operations(program: ScatteringProgram, steps: int, momenta, form: str = "gates") -> list:
    """PennyLane operations for ``steps`` Trotter steps; ``momenta`` is k0 (scalar or 1-D array).

    The list is built with queuing off, so it can be created inside a QNode and applied
    with ``qml.apply`` without operators being recorded twice.
    """
    import pennylane as qml

    with qml.QueuingManager.stop_recording():
        return _operations(program, steps, momenta, form, qml)


def _operations(program, steps, momenta, form, qml) -> list:
    n = program.num_qubits
    wires = list(range(n))
    dt = program.dt
    barrier_angle = -program.barrier_height * dt
    momenta = np.asarray(momenta, dtype=float)
    ops = [qml.StatePrep(program.envelope(), wires=wires)]
    ops += [qml.PhaseShift(momenta * (program.dx * 2**b), wires=_wire(n, b)) for b in range(n)]

    p = int(math.log2(program.barrier_points))
    set_bits = [_wire(n, b) for b in range(p, n - 1)]

    def barrier(angle):
        return qml.ctrl(qml.PhaseShift(angle, wires=set_bits[0]), control=set_bits[1:] + [0],
                        control_values=[1] * (len(set_bits) - 1) + [0])

    ops.append(barrier(0.5 * barrier_angle))
    make_step = _gate_step if form == "gates" else _block_step
    for _ in range(steps):
        # Fresh operator objects each step: queuing one object twice only moves it.
        ops += make_step(program, qml)
        ops.append(barrier(barrier_angle))
    return ops


def kinetic_ops(qml, bit_wires: list, scale: float) -> list:
    """exp(-i scale s^2) in the Fourier basis of one register: QFT, phases, inverse QFT.

    ``bit_wires[b]`` is the wire holding bit b of the register's index and s is the
    signed (two's-complement) Fourier index; the phase is quadratic in its bits, so it
    is n ``PhaseShift`` and n(n-1)/2 ``ControlledPhaseShift`` gates.
    """
    n = len(bit_wires)
    weights = _signed_weights(n)
    big_endian = list(reversed(bit_wires))
    ops = [qml.QFT(wires=big_endian)]
    ops += [qml.PhaseShift(-scale * weights[b] ** 2, wires=bit_wires[b]) for b in range(n)]
    ops += [qml.ControlledPhaseShift(-2 * scale * weights[b] * weights[d], wires=[bit_wires[b], bit_wires[d]])
            for b in range(n) for d in range(b + 1, n)]
    ops.append(qml.adjoint(qml.QFT(wires=big_endian)))
    return ops


def _gate_step(program, qml) -> list:
    n = program.num_qubits
    return kinetic_ops(qml, [_wire(n, b) for b in range(n)], (2 * math.pi / program.box_length) ** 2 * program.dt)


@lru_cache(maxsize=8)
def _block_matrices(program: ScatteringProgram):
    """The arrays of one blocked kinetic step, computed once per program and shared by all steps."""
    n = program.num_qubits
    W_low, W_high, twiddle, _, a = blocked_fourier(n)
    kinetic = blocked_kinetic_phases(program)
    # Grid bit b lives on wire n-1-b: the low register (bits < a) is wires n-a..n-1 and a
    # register's matrix index is big-endian over the wires given, i.e. wires in descending bit order.
    low = [_wire(n, b) for b in reversed(range(a))]
    high = [_wire(n, b) for b in reversed(range(a, n))]
    return ((W_high, high), (twiddle, None), (W_low, low), (kinetic, None),
            (W_low.conj().T, low), (twiddle.conj(), None), (W_high.conj().T, high))


def _block_step(program, qml) -> list:
    every = list(range(program.num_qubits))
    return [qml.DiagonalQubitUnitary(matrix, wires=every) if wires is None else qml.QubitUnitary(matrix, wires=wires)
            for matrix, wires in _block_matrices(program)]
