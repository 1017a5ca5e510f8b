"""The torch statevector backend: split-operator programs with FFTs, batched.

It executes exactly the operator sequence the circuits apply (see
:mod:`qthybrid.programs.split_operator`), with FFTs in place of QFT gates, so it
is the reference the circuit backends must match to floating-point accuracy.
Programs that differ only in their number of steps and kicks (the per-energy
packets of a sweep, the bands of a whole-curve sweep) are evolved together and
each is read out when it reaches its own step count.
"""

from __future__ import annotations

import time
from contextlib import contextmanager

import numpy as np

from ..programs import ProgramResult
from ..programs.split_operator import signed_indices
from .base import Capabilities, ProgramBackend, checked_programs, split_by_type
from .memory import check_memory
from .options import Option, one_of, positive_int


def _device_ok(value) -> bool:
    return isinstance(value, str) and (value in ("cpu", "cuda", "auto") or value.startswith("cuda:"))


def _same_evolution(a, b) -> bool:
    """True when the shorter of two programs is a prefix of the longer (all but its last potential time)."""
    short, long = (a, b) if a.steps <= b.steps else (b, a)
    s = short.steps
    same_state = (short.initial_state is None and long.initial_state is None) or (
        short.initial_state is not None and long.initial_state is not None
        and np.array_equal(short.initial_state, long.initial_state))
    return (short.registers == long.registers and short.readout == long.readout and same_state
            and np.array_equal(short.potential, long.potential)
            and np.array_equal(short.kinetic_phases, long.kinetic_phases[:s])
            and np.array_equal(short.potential_times[:s], long.potential_times[:s]))


#: Up to this many amplitudes per FFT call, torch runs single-threaded on the CPU: a second thread buys
#: nothing at this size and, with another process on the other core, waits for it (measured: a (64, 4096)
#: FFT pair 2.7 ms on one thread, 16 ms on two).
SINGLE_THREAD_AMPLITUDES = 2**20


@contextmanager
def torch_threads(count: int):
    """Run torch's CPU operations on at most ``count`` threads inside the block."""
    import torch

    previous = torch.get_num_threads()
    if count >= previous:
        yield
        return
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def evolution_groups(programs) -> list:
    """Lists of program indices that can be evolved together (see :func:`_same_evolution`)."""
    groups = []
    for index, program in enumerate(programs):
        for group in groups:
            if all(_same_evolution(program, programs[other]) for other in group):
                group.append(index)
                break
        else:
            groups.append([index])
    return groups


class StatevectorBackend(ProgramBackend):
    """Exact split-operator simulation in torch (CPU or CUDA), complex128 by default."""

    name = "statevector"
    capabilities = Capabilities(exact=True, shots=True, programs=True, gpu=True)

    @classmethod
    def _default_options(cls):
        return {
            **super()._default_options(),
            "device": Option("auto", _device_ok, "'auto', 'cpu', 'cuda' or 'cuda:N'"),
            "precision": Option("double", one_of("double", "single"), "'double' or 'single'"),
            "max_batch": Option(64, positive_int, "an int >= 1 (statevectors evolved together)"),
        }

    def torch_device(self, options=None):
        import torch

        options = options or self.options
        if options.device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        return torch.device(options.device)

    def execute(self, programs, **overrides) -> list:
        options = self._options.replace(**overrides)
        programs = checked_programs(programs)
        started = time.perf_counter()
        probabilities = [None] * len(programs)
        split, chains = split_by_type(programs)
        for index in chains:       # one particle: exact in the single-excitation subspace (n amplitudes)
            probabilities[index] = programs[index].exact_probabilities()
        for group in evolution_groups([programs[i] for i in split]):
            group = [split[i] for i in group]
            members = [programs[i] for i in group]
            amplitudes = min(options.max_batch, sum(p.batch_size for p in members)) * 2 ** members[0].num_qubits
            small = self.torch_device(options).type == "cpu" and amplitudes <= SINGLE_THREAD_AMPLITUDES
            with torch_threads(1 if small else 1 << 30):
                for index, value in zip(group, self._evolve_group(members, options)):
                    probabilities[index] = value
        rng = np.random.default_rng(options.seed)
        results = []
        device = str(self.torch_device(options))
        for program, exact in zip(programs, probabilities):
            metadata = {"device": device, "seconds": time.perf_counter() - started}
            if options.shots is None:
                results.append(ProgramResult(exact, metadata=metadata))
                continue
            p = np.clip(exact, 0.0, None)
            counts = np.stack([rng.multinomial(options.shots, row / row.sum()) for row in p])
            results.append(ProgramResult(counts / options.shots, shots=options.shots, metadata=metadata))
        return results

    def _evolve_group(self, programs, options) -> list:
        """Final outcome probabilities of programs that share their evolution (one array per program)."""
        import torch

        device = self.torch_device(options)
        double = options.precision == "double"
        complex_dtype = torch.complex128 if double else torch.complex64
        real_dtype = torch.float64 if double else torch.float32
        first = programs[0]
        n = first.num_qubits
        rows = [(i, b) for i, program in enumerate(programs) for b in range(program.batch_size)]
        batch = min(options.max_batch, len(rows))
        check_memory(4 * batch * 2**n * (16 if double else 8), self.memory_budget_bytes(options),
                     f"a batch of {batch} statevectors on {n} qubits (4 working copies)",
                     "lower max_batch or use fewer qubits")
        longest = max(programs, key=lambda p: p.steps)
        potential = torch.as_tensor(np.array(first.potential), dtype=real_dtype, device=device)
        square = {size: torch.as_tensor(signed_indices(size).astype(float) ** 2, dtype=real_dtype, device=device)
                  for size in set(first.registers)}
        shape = [2**size for size in reversed(first.registers)]    # C order: register 0 is the last axis
        kicks = {i: program.kick_phases() for i, program in enumerate(programs)}
        start = torch.as_tensor(first.initial_amplitudes(), dtype=complex_dtype, device=device)
        out = [np.empty((program.batch_size, program.num_outcomes)) for program in programs]

        phase_cache = {}

        def potential_phase(time_):
            if ("V", time_) not in phase_cache:
                phase_cache["V", time_] = torch.exp(-1j * potential * time_)
            return phase_cache["V", time_]

        def kinetic_phase(size, phase):
            if (size, phase) not in phase_cache:
                phase_cache[size, phase] = torch.exp(-1j * phase * square[size])
            return phase_cache[size, phase]

        for chunk in [rows[k:k + batch] for k in range(0, len(rows), batch)]:
            phases = np.stack([kicks[i][b] for i, b in chunk])
            psi = start * torch.as_tensor(phases, dtype=complex_dtype, device=device)
            owner = np.array([i for i, _ in chunk])
            steps_of = np.array([programs[i].steps for i in owner])
            active = np.arange(len(chunk))
            done = 0
            for target in np.unique(steps_of):
                for step in range(done, int(target)):
                    psi = psi * potential_phase(float(longest.potential_times[step]))
                    psi = self._kinetic(psi, shape, first.registers, longest.kinetic_phases[step], kinetic_phase)
                done = int(target)
                finished = steps_of[active] == target
                for i in np.unique(owner[active[finished]]):
                    mine = finished & (owner[active] == i)
                    final = psi[torch.as_tensor(mine, device=device)]
                    final = final * potential_phase(float(programs[i].potential_times[target]))
                    values = self._readout(final, programs[i]).cpu().numpy()
                    for row, value in zip(active[mine], values):
                        out[i][chunk[int(row)][1]] = value
                psi = psi[torch.as_tensor(~finished, device=device)]
                active = active[~finished]
        return out

    @staticmethod
    def _kinetic(psi, shape, registers, phases, kinetic_phase):
        """exp(-i c_a s_a^2) in the Fourier basis of every register a."""
        import torch

        rows = psi.shape[0]
        state = psi.reshape(rows, *shape)
        for register, (size, phase) in enumerate(zip(registers, phases)):
            axis = len(registers) - register     # register 0 is the last axis
            view = [1] * (len(registers) + 1)
            view[axis] = 2**size
            factor = kinetic_phase(size, float(phase)).reshape(view)
            state = torch.fft.ifft(torch.fft.fft(state, dim=axis) * factor, dim=axis)
        return state.reshape(rows, -1)

    @staticmethod
    def _readout(psi, program):
        """Outcome probabilities (rows, 2^len(measured)), after the readout's DFT."""
        import torch

        rows, n = psi.shape[0], program.num_qubits
        readout = program.readout
        if readout.fourier:
            low, count = readout.fourier[0], len(readout.fourier)
            state = psi.reshape(rows, 2 ** (n - low - count), 2**count, 2**low)
            psi = torch.fft.fft(state, dim=2, norm="ortho").reshape(rows, -1)
        probabilities = psi.abs().square().reshape(rows, *([2] * n))    # axis 1 + (n-1-q) is qubit q
        axis_of = {q: 1 + (n - 1 - q) for q in range(n)}
        unmeasured = [axis_of[q] for q in range(n) if q not in readout.measured]
        if unmeasured:
            probabilities = probabilities.sum(dim=unmeasured)
        remaining = sorted(axis_of[q] for q in readout.measured)          # most significant qubit first
        position = {axis: i + 1 for i, axis in enumerate(remaining)}
        order = [0] + [position[axis_of[q]] for q in reversed(readout.measured)]
        return probabilities.permute(order).reshape(rows, -1)
