"""The torch statevector backend: split-operator evolution with FFTs, batched over energies.

It executes exactly the operator sequence the circuits apply (see
:mod:`qthybrid.programs.scattering`), with FFTs in place of QFT gates, so it is
the reference the circuit backends must match to floating-point accuracy.
"""

from __future__ import annotations

import numpy as np

from ..physics import Barrier
from ..programs import ScatteringProgram
from .base import Backend, Capabilities, TransmissionResult
from .options import Option, one_of, positive_int
from ._circuit_common import check_memory, energies_to_eps, program_options, resolve_program


def _device_ok(value) -> bool:
    return isinstance(value, str) and (value in ("cpu", "cuda", "auto") or value.startswith("cuda:"))


class StatevectorBackend(Backend):
    """Exact wave-packet simulation in torch (CPU or CUDA), float64 by default."""

    name = "statevector"
    capabilities = Capabilities(exact=True, shots=True, programs=True, gpu=True)

    @classmethod
    def _default_options(cls):
        return {
            **program_options(),
            "device": Option("auto", _device_ok, "'auto', 'cpu', 'cuda' or 'cuda:N'"),
            "precision": Option("double", one_of("double", "single"), "'double' or 'single'"),
            "max_batch": Option(64, positive_int, "an int >= 1 (energies evolved together)"),
        }

    def _torch_device(self, options):
        import torch

        if options.device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        return torch.device(options.device)

    def evolve(self, program: ScatteringProgram, eps, **overrides):
        """Final position probabilities |psi(x)|^2, shape (len(eps), 2^n), as a numpy array."""
        options = self._options.replace(**overrides)
        return self._evolve(program, program.schedule(eps), options, readout_only=False)

    def _evolve(self, program, schedule, options, readout_only: bool) -> np.ndarray:
        import torch

        device = self._torch_device(options)
        complex_dtype = torch.complex128 if options.precision == "double" else torch.complex64
        real_dtype = torch.float64 if options.precision == "double" else torch.float32
        bytes_per = 16 if options.precision == "double" else 8
        batch = min(options.max_batch, len(schedule.eps))
        check_memory(program.num_qubits, batch=batch, bytes_per_amplitude=bytes_per, copies=4)

        x = torch.as_tensor(program.positions, dtype=real_dtype, device=device)
        k2 = torch.as_tensor(program.momenta**2, dtype=real_dtype, device=device)
        V = torch.as_tensor(program.potential(), dtype=real_dtype, device=device)
        envelope = torch.as_tensor(program.envelope(), dtype=complex_dtype, device=device)
        half = program.num_points // 2
        out = np.empty((len(schedule.eps),) if readout_only else (len(schedule.eps), program.num_points))

        kinetic = torch.exp(-1j * k2 * schedule.dt)
        potential = torch.exp(-1j * V * schedule.dt)
        start = envelope * torch.exp(-0.5j * V * schedule.dt)
        # Energies share dt and differ only in their number of steps: evolve a batch
        # together and read each energy out (and drop it) when it reaches its own count.
        by_steps = np.argsort(schedule.steps, kind="stable")
        for batch_indices in np.array_split(by_steps, int(np.ceil(len(by_steps) / options.max_batch))):
            k0 = torch.as_tensor(schedule.k0[batch_indices], dtype=real_dtype, device=device)[:, None]
            psi = start * torch.exp(1j * k0 * x)
            active = batch_indices
            done = 0
            for target in np.unique(schedule.steps[batch_indices]):
                for _ in range(int(target) - done):
                    psi = torch.fft.ifft(torch.fft.fft(psi).mul_(kinetic)).mul_(potential)
                done = int(target)
                finished = schedule.steps[active] == target
                probabilities = psi[torch.as_tensor(finished, device=device)].abs().square()
                if readout_only:
                    out[active[finished]] = probabilities[:, half:].sum(dim=1).cpu().numpy()
                else:
                    out[active[finished]] = probabilities.cpu().numpy()
                psi = psi[torch.as_tensor(~finished, device=device)]
                active = active[~finished]
        return out

    def _run_transmission(self, energies, barrier: Barrier, options) -> TransmissionResult:
        energies, eps = energies_to_eps(energies, barrier)
        program = resolve_program(options, barrier)
        schedule = program.schedule(eps)
        T = self._evolve(program, schedule, options, readout_only=True)
        stderr = None
        if options.shots is not None:
            rng = np.random.default_rng(options.seed)
            T = rng.binomial(options.shots, np.clip(T, 0.0, 1.0)) / options.shots
            stderr = np.sqrt(T * (1 - T) / options.shots)
        return TransmissionResult(energies=energies, transmission=T, stderr=stderr,
                                  metadata={"program": program.fingerprint(), "preset": program.name,
                                            "device": str(self._torch_device(options)),
                                            "steps": schedule.steps.tolist()})
