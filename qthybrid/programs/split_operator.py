"""The one executable unit every backend runs: a split-operator Schrodinger program on qubit registers.

A program is data, framework-neutral (numpy only), and describes

    |psi> = prod_j [ exp(-i V tau_{j+1}) K_j ] exp(-i V tau_0) exp(i kick . x) |psi_0>

followed by a readout, where

* the qubits form ``registers`` (one per spatial dimension); register a holds
  ``registers[a]`` consecutive qubits, little-endian: its grid index j_a is
  sum_b bit(q_b) 2^b over its qubits q_0 < q_1 < ...; the flat basis index is
  i = sum_a j_a 2^(offset_a) (qubit q is bit q of i, Qiskit's order);
* psi_0 is ``initial_state`` (2^n amplitudes in flat order) or, when it is None,
  the uniform superposition (a Hadamard on every qubit);
* the kick multiplies by exp(i kicks[b, a] j_a) in every register a: one
  phase gate per qubit. ``kicks`` has one row per **batch element**: a sweep
  over kicks is one program executed for every row (primitives V2: a sweep is
  data);
* V is ``potential`` (2^n real values, flat order) applied for the times
  ``potential_times`` (steps + 1 values: before the first step, then after each);
* K_j = prod_a exp(-i kinetic_phases[j, a] s_a^2) in the Fourier basis of
  register a, with s_a the signed (two's complement) Fourier index of that
  register: in a box of length L and time step dt, kinetic_phase = (2 pi / L)^2 dt;
* the readout optionally applies the forward discrete Fourier transform (numpy's
  sign, exp(-2 pi i j k / N) / sqrt(N)) to the qubits ``readout.fourier`` (an
  ascending run of consecutive qubits) and then measures ``readout.measured``:
  bit b of an outcome is qubit ``measured[b]``.

Every backend returns, for each program, the probabilities of the
2^len(measured) outcomes for every batch row (``ProgramResult``).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field, replace

import numpy as np

#: Largest register a program may hold (2^30 amplitudes: 16 GiB as complex128).
MAX_QUBITS = 30


@dataclass(frozen=True)
class Readout:
    """What is measured at the end: ``measured`` qubits, after a DFT on the ``fourier`` qubits."""

    measured: tuple
    fourier: tuple = ()

    def __post_init__(self):
        object.__setattr__(self, "measured", tuple(int(q) for q in self.measured))
        object.__setattr__(self, "fourier", tuple(int(q) for q in self.fourier))
        if not self.measured:
            raise ValueError("readout.measured must name at least one qubit")
        if len(set(self.measured)) != len(self.measured):
            raise ValueError(f"readout.measured repeats a qubit: {self.measured}")
        if self.fourier and list(self.fourier) != list(range(self.fourier[0], self.fourier[0] + len(self.fourier))):
            raise ValueError(f"readout.fourier must be an ascending run of consecutive qubits, got {self.fourier}")


def _array(value, dtype, name: str, shape=None) -> np.ndarray:
    array = np.array(value, dtype=dtype, copy=True)
    if shape is not None and array.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite")
    array.setflags(write=False)
    return array


@dataclass(frozen=True, eq=False)
class SplitOperatorProgram:
    """A split-operator program (see the module docstring for the exact operator sequence).

    Attributes:
        registers: qubits per register (dimension), e.g. ``(12,)`` or ``(5, 5)``.
        potential: V on the grid, shape (2^n,), in the same (dimensionless) units as the times.
        potential_times: shape (steps + 1,): how long V acts before the first step and after each step.
        kinetic_phases: shape (steps, len(registers)): c in exp(-i c s^2) per step and register (radians).
        readout: what is measured (after an optional Fourier transform).
        initial_state: 2^n complex amplitudes, normalised; None for the uniform superposition.
        kicks: shape (batch, len(registers)), radians per grid point; default one row of zeros.
        name: a label.
        metadata: free-form facts for the program's users (not part of the fingerprint).
    """

    registers: tuple
    potential: np.ndarray
    potential_times: np.ndarray
    kinetic_phases: np.ndarray
    readout: Readout
    initial_state: np.ndarray | None = None
    kicks: np.ndarray | None = None
    name: str = "program"
    metadata: dict = field(default_factory=dict)

    def __post_init__(self):
        registers = tuple(self.registers)
        if not registers or not all(isinstance(r, (int, np.integer)) and not isinstance(r, bool) and r >= 1
                                    for r in registers):
            raise ValueError(f"registers must be a non-empty tuple of ints >= 1, got {self.registers!r}")
        registers = tuple(int(r) for r in registers)
        n = sum(registers)
        if n > MAX_QUBITS:
            raise ValueError(f"a program may hold at most {MAX_QUBITS} qubits, got {n}")
        object.__setattr__(self, "registers", registers)
        object.__setattr__(self, "potential", _array(self.potential, np.float64, "potential", (2**n,)))
        times = _array(self.potential_times, np.float64, "potential_times")
        if times.ndim != 1 or times.size < 1:
            raise ValueError("potential_times must be a 1-D array of steps + 1 values")
        steps = times.size - 1
        object.__setattr__(self, "potential_times", times)
        object.__setattr__(self, "kinetic_phases",
                           _array(self.kinetic_phases, np.float64, "kinetic_phases", (steps, len(registers))))
        if self.initial_state is not None:
            state = _array(self.initial_state, np.complex128, "initial_state", (2**n,))
            norm = float(np.linalg.norm(state))
            if abs(norm - 1) > 1e-9:
                raise ValueError(f"initial_state must be normalised, its norm is {norm:.12g}")
            object.__setattr__(self, "initial_state", state)
        kicks = np.zeros((1, len(registers))) if self.kicks is None else self.kicks
        kicks = _array(kicks, np.float64, "kicks")
        if kicks.ndim == 1 and len(registers) == 1:
            kicks = kicks.reshape(-1, 1)
        if kicks.ndim != 2 or kicks.shape[1] != len(registers) or kicks.shape[0] < 1:
            raise ValueError(f"kicks must have shape (batch, {len(registers)}) with batch >= 1, got {kicks.shape}")
        object.__setattr__(self, "kicks", kicks)
        readout = self.readout
        if not isinstance(readout, Readout):
            raise TypeError(f"readout must be a qthybrid.programs.Readout, got {type(readout).__name__}")
        for qubit in readout.measured + readout.fourier:
            if not 0 <= qubit < n:
                raise ValueError(f"readout qubit {qubit} is outside the program's {n} qubits")

    # Shape ---------------------------------------------------------------------------------
    @property
    def num_qubits(self) -> int:
        return sum(self.registers)

    @property
    def steps(self) -> int:
        return int(self.kinetic_phases.shape[0])

    @property
    def batch_size(self) -> int:
        return int(self.kicks.shape[0])

    @property
    def num_outcomes(self) -> int:
        return 2 ** len(self.readout.measured)

    def register_qubits(self, register: int) -> list:
        """The qubits of ``register``, least significant first."""
        offset = sum(self.registers[:register])
        return list(range(offset, offset + self.registers[register]))

    def grid_indices(self, register: int) -> np.ndarray:
        """j_a for every flat basis index (shape (2^n,))."""
        offset = sum(self.registers[:register])
        return (np.arange(2**self.num_qubits) >> offset) & (2 ** self.registers[register] - 1)

    def has_kicks(self) -> bool:
        return bool(np.any(self.kicks != 0))

    def uniform_kinetics(self) -> bool:
        """True when every step has the same kinetic phases (one gate sequence serves every step)."""
        return bool(np.all(self.kinetic_phases == self.kinetic_phases[:1]))

    def with_kicks(self, kicks) -> "SplitOperatorProgram":
        """The same program for another batch of kicks."""
        return replace(self, kicks=kicks)

    def initial_amplitudes(self) -> np.ndarray:
        """psi_0 (before the kicks), flat order."""
        if self.initial_state is not None:
            return np.array(self.initial_state)
        return np.full(2**self.num_qubits, 2 ** (-self.num_qubits / 2), dtype=np.complex128)

    def kick_phases(self) -> np.ndarray:
        """exp(i kick . j) for every batch row and basis index: shape (batch, 2^n)."""
        angle = np.zeros((self.batch_size, 2**self.num_qubits))
        for register in range(len(self.registers)):
            angle += self.kicks[:, register, None] * self.grid_indices(register)[None, :]
        return np.exp(1j * angle)

    def statevector_bytes(self, batch: int | None = None) -> int:
        """Bytes of one complex128 statevector per batch row (times ``batch`` rows)."""
        return 16 * 2**self.num_qubits * (self.batch_size if batch is None else batch)

    # Identity ------------------------------------------------------------------------------
    def fingerprint(self) -> str:
        """A stable hash of everything that determines the outcome probabilities."""
        digest = hashlib.sha256()
        digest.update(repr((self.registers, self.readout.measured, self.readout.fourier, self.name)).encode())
        for array in (self.potential, self.potential_times, self.kinetic_phases, self.kicks):
            digest.update(np.ascontiguousarray(array).tobytes())
        digest.update(b"uniform" if self.initial_state is None else np.ascontiguousarray(self.initial_state).tobytes())
        return digest.hexdigest()[:16]

    def __repr__(self):
        return (f"SplitOperatorProgram(name={self.name!r}, registers={self.registers}, steps={self.steps}, "
                f"batch={self.batch_size}, measured={len(self.readout.measured)} qubits"
                f"{', fourier readout' if self.readout.fourier else ''})")


@dataclass(frozen=True)
class ProgramResult:
    """The outcome of one program: probabilities (batch, 2^len(measured)), sampled or exact.

    With ``shots`` the probabilities are frequencies ``counts / shots``.
    """

    probabilities: np.ndarray
    shots: int | None = None
    metadata: dict = field(default_factory=dict)

    def stderr(self) -> np.ndarray | None:
        """Binomial standard error of each frequency (None when exact)."""
        if self.shots is None:
            return None
        p = self.probabilities
        return np.sqrt(p * (1 - p) / self.shots)


def signed_indices(num_qubits: int) -> np.ndarray:
    """Signed (two's complement) Fourier indices of an n-qubit register in numpy FFT order."""
    N = 2**num_qubits
    s = np.arange(N)
    return np.where(s < N // 2, s, s - N)


def check_power_of_two(value: int, name: str) -> int:
    if not (isinstance(value, (int, np.integer)) and value >= 1 and value & (value - 1) == 0):
        raise ValueError(f"{name} must be a power of two, got {value!r}")
    return int(math.log2(value))
