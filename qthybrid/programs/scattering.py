"""Schrodinger programs for barrier scattering: a wave packet on a 2^n-point qubit grid.

Units (dimensionless, shared by every backend): energies in units of V0,
lengths in 1/q0 and momenta in q0 = sqrt(2 m V0)/hbar, time in hbar/V0. Then
H = -d^2/dx^2 + V(x), a plane wave of momentum k has eps = E/V0 = k^2, its group
velocity is 2k, the barrier has height 1 and width g.

Geometry (periodic box of N = 2^n points, spacing dx = g/m):

    [0 ........ N/2-m | barrier (m points) | N/2 ............ N)
         packet at N/4 ->                    transmitted part -> readout

The barrier ends exactly at the midpoint, so "past the barrier" is the upper
half of the box: the readout is the top qubit alone, P(q_{n-1} = 1). The packet
(Gaussian, momentum spread ``sigma_k``) starts centred at a quarter of the box
with mean momentum k0 = sqrt(eps); each energy is evolved for
t = box / (4 k0), when the transmitted part is centred at three quarters and
the reflected part back at a quarter of the box. The barrier occupies the
dyadic block [N/2 - m, N/2) (m a power of two), so on a circuit it is one
multi-controlled phase.

Evolution is Strang split-operator with one fixed step dt for every energy:
exp(-iV dt/2), then ``steps`` times [QFT, exp(-i k^2 dt), QFT^-1, exp(-iV dt)];
the last half step of V is dropped because a diagonal phase cannot change
position probabilities. Each energy gets its own duration through its number
of steps, round(t / dt). Since dt is shared, every gate but the momentum kick
is a constant: the energy is the only circuit parameter, and energies that
share a step count share a circuit.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass

import numpy as np

from .._arrays import as_float_array, check_finite


@dataclass(frozen=True)
class EnergySchedule:
    """Per-energy evolution: eps = E/V0, mean momentum k0, duration and Trotter steps (dt is shared)."""

    eps: np.ndarray
    k0: np.ndarray
    duration: np.ndarray
    steps: np.ndarray
    dt: float

    def groups(self):
        """Yield ``(steps, indices)`` for each distinct step count (one circuit each)."""
        for steps in np.unique(self.steps):
            yield int(steps), np.flatnonzero(self.steps == steps)


@dataclass(frozen=True)
class ScatteringProgram:
    """A barrier-scattering experiment on ``num_qubits`` position qubits (see module docstring).

    Attributes:
        num_qubits: n, the grid has 2^n points.
        barrier_points: m, grid points across the barrier (a power of two >= 4).
        g: barrier strength = barrier width in units of 1/q0.
        sigma_k: momentum spread of the packet (units of q0).
        dt: the Trotter step (units of hbar/V0).
        max_steps: if set, energies needing more steps are refused (hardware presets).
        separation_sigmas: how many standard deviations of the packet must clear the
            box edges and the barrier at readout; 0 switches the check off (``nisq``).
        barrier_height: the barrier's height in units of V0 (1 for the physical barrier;
            0 gives a free packet, large values an opaque wall: used for validation).
        name: a label (the preset's name).
    """

    num_qubits: int
    barrier_points: int
    g: float
    sigma_k: float
    dt: float = 0.05
    max_steps: int | None = None
    separation_sigmas: float = 4.0
    barrier_height: float = 1.0
    name: str = "custom"

    def __post_init__(self):
        n, m = self.num_qubits, self.barrier_points
        if not (isinstance(n, int) and 3 <= n <= 30):
            raise ValueError(f"num_qubits must be an int in [3, 30], got {n!r}")
        if not (isinstance(m, int) and m >= 4 and m & (m - 1) == 0):
            raise ValueError(f"barrier_points must be a power of two >= 4 (the barrier must be resolved "
                             f"by at least 4 grid points), got {m!r}")
        if m > 2 ** (n - 3):
            raise ValueError(f"barrier_points={m} leaves no room for the packet on {2 ** n} points; "
                             f"it must be <= 2^(num_qubits - 3) = {2 ** (n - 3)}")
        for field in ("g", "sigma_k", "dt"):
            value = getattr(self, field)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ValueError(f"{field} must be a finite number > 0, got {value!r}")
        if self.max_steps is not None and not (isinstance(self.max_steps, int) and self.max_steps >= 1):
            raise ValueError(f"max_steps must be None or an int >= 1, got {self.max_steps!r}")
        if not (isinstance(self.barrier_height, (int, float)) and math.isfinite(self.barrier_height)
                and self.barrier_height >= 0):
            raise ValueError(f"barrier_height must be finite and >= 0, got {self.barrier_height!r}")
        if not (isinstance(self.separation_sigmas, (int, float)) and self.separation_sigmas >= 0):
            raise ValueError(f"separation_sigmas must be >= 0, got {self.separation_sigmas!r}")
        sigma_x = self.packet_sigma_x
        if self.separation_sigmas and self.separation_sigmas * sigma_x > self.box_length / 4 - self.g:
            raise ValueError(
                f"the wave packet does not fit the box: {self.separation_sigmas} x sigma_x = "
                f"{self.separation_sigmas * sigma_x:.4g} must be <= box/4 - g = {self.box_length / 4 - self.g:.4g}; "
                f"raise sigma_k or num_qubits")

    # Grid -------------------------------------------------------------------------------
    @property
    def num_points(self) -> int:
        return 2 ** self.num_qubits

    @property
    def dx(self) -> float:
        """Grid spacing (1/q0)."""
        return self.g / self.barrier_points

    @property
    def box_length(self) -> float:
        """Length of the periodic box (1/q0)."""
        return self.num_points * self.dx

    @property
    def positions(self) -> np.ndarray:
        return np.arange(self.num_points) * self.dx

    @property
    def momenta(self) -> np.ndarray:
        """Grid momenta in numpy FFT order (q0)."""
        return 2 * np.pi * np.fft.fftfreq(self.num_points, d=self.dx)

    @property
    def k_max(self) -> float:
        """Largest representable momentum, pi/dx (q0)."""
        return math.pi / self.dx

    @property
    def barrier_slice(self) -> slice:
        """Grid indices of the barrier: the dyadic block [N/2 - m, N/2)."""
        return slice(self.num_points // 2 - self.barrier_points, self.num_points // 2)

    @property
    def readout_qubit(self) -> int:
        """The qubit whose value 1 means "past the barrier" (the top one)."""
        return self.num_qubits - 1

    def potential(self) -> np.ndarray:
        """V(x) on the grid in units of V0: ``barrier_height`` on the barrier, 0 elsewhere."""
        V = np.zeros(self.num_points)
        V[self.barrier_slice] = self.barrier_height
        return V

    # Packet -------------------------------------------------------------------------------
    @property
    def packet_sigma_x(self) -> float:
        """Initial position spread of |psi|^2: 1/(2 sigma_k) (1/q0)."""
        return 1.0 / (2.0 * self.sigma_k)

    @property
    def packet_centre(self) -> float:
        return self.box_length / 4

    def envelope(self) -> np.ndarray:
        """The normalised real Gaussian envelope before the momentum kick (periodic images summed)."""
        x = self.positions
        L = self.box_length
        offsets = (x - self.packet_centre + L / 2) % L - L / 2
        amplitude = np.exp(-offsets**2 / (4 * self.packet_sigma_x**2))
        return amplitude / np.linalg.norm(amplitude)

    # Energies -----------------------------------------------------------------------------
    def _steps_for(self, k0: np.ndarray) -> np.ndarray:
        return np.maximum(1, np.rint(self.box_length / (4 * k0 * self.dt))).astype(np.int64)

    def _valid(self, k0: np.ndarray, steps: np.ndarray) -> np.ndarray:
        """Which mean momenta give a clean readout after ``steps`` steps (see energy_range)."""
        s = self.separation_sigmas
        ok = (k0 > 0) & (k0 + max(s, 4.0) * self.sigma_k <= self.k_max)
        if self.max_steps is not None:
            ok &= steps <= self.max_steps
        if s:
            t = steps * self.dt
            spread = s * np.sqrt(self.packet_sigma_x**2 + (2 * self.sigma_k * t) ** 2)
            half, barrier_left = self.box_length / 2, self.box_length / 2 - self.g
            transmitted = self.packet_centre + 2 * k0 * t
            reflected = 2 * barrier_left - transmitted
            ok &= (transmitted - spread >= half) & (transmitted + spread <= self.box_length)
            ok &= (reflected - spread >= 0) & (reflected + spread <= barrier_left)
        return ok

    def energy_range(self) -> tuple[float, float]:
        """(eps_min, eps_max): the energies (eps = E/V0) this program can measure.

        At readout the transmitted part (centre +- separation_sigmas spreads) must
        lie in the upper half of the box and the reflected part left of the
        barrier, so slow, spreading packets are refused; fast ones must keep
        their momenta below the grid's k_max; and at most ``max_steps`` steps.
        """
        eps = np.geomspace(1e-4, self.k_max**2, 4000)
        k0 = np.sqrt(eps)
        valid = eps[self._valid(k0, self._steps_for(k0))]
        if valid.size == 0:
            raise ValueError(f"program {self.name!r} cannot measure any energy: enlarge the box "
                             f"(num_qubits) or the momentum spread")
        return float(valid[0]), float(valid[-1])

    def schedule(self, eps) -> EnergySchedule:
        """Validate dimensionless energies ``eps`` and give each its number of steps."""
        eps = as_float_array(eps, "eps").astype(np.float64).reshape(-1)
        check_finite(eps, "eps")
        k0 = np.sqrt(np.clip(eps, 0.0, None))
        steps = self._steps_for(np.where(k0 > 0, k0, 1.0))
        bad = ~self._valid(k0, steps)
        if np.any(bad):
            low, high = self.energy_range()
            step_limit = "" if self.max_steps is None else f", and it may take at most {self.max_steps} steps"
            raise ValueError(
                f"eps = E/V0 must lie in [{low:.4g}, {high:.4g}] for program {self.name!r} "
                f"(the packet must pass the barrier before wrapping round the box and its momenta "
                f"must fit the grid{step_limit}); got {eps[bad][:5].tolist()}")
        return EnergySchedule(eps=eps, k0=k0, duration=steps * self.dt, steps=steps, dt=self.dt)

    # Identity -----------------------------------------------------------------------------
    def fingerprint(self) -> str:
        """A stable hash of the program (for caches and job journals)."""
        text = json.dumps(asdict(self), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


_DX_TARGET = 0.125   # 1/q0: resolves k up to ~25 q0; converged to ~3e-4 in T (measured)


def scattering_preset(name: str = "accurate", g: float = 0.5) -> ScatteringProgram:
    """The reference programs.

    * ``accurate``: 12 qubits, dx ~ 1/8, sigma_k = 0.03, dt = 0.05; T within ~3e-3
      of the packet average for eps in [0.1, 10] (measured, see README).
    * ``nisq``: 6 qubits, 4 barrier points, dt = 0.2 and at most 20 Trotter steps
      (eps >= 0.25); for hardware rehearsal. The packet fills the tiny box, so T
      differs from the analytic value by up to ~0.3 (measured and reported).
    """
    if name == "accurate":
        m = max(4, 2 ** math.ceil(math.log2(g / _DX_TARGET)))
        return ScatteringProgram(num_qubits=12, barrier_points=m, g=g, sigma_k=0.03, dt=0.05,
                                 name="accurate")
    if name == "nisq":
        return ScatteringProgram(num_qubits=6, barrier_points=4, g=g, sigma_k=1.0, dt=0.2,
                                 max_steps=20, separation_sigmas=0.0, name="nisq")
    raise ValueError(f"unknown preset {name!r}; known presets: accurate, nisq")


PRESETS = ("accurate", "nisq")
