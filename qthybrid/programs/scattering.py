"""Barrier scattering as split-operator programs: T(E) from a wave packet on a 2^n-point qubit grid.

Units (dimensionless, shared by every backend): energies in units of V0,
lengths in 1/q0 and momenta in q0 = sqrt(2 m V0)/hbar, time in hbar/V0. Then
H = -d^2/dx^2 + V(x), a plane wave of momentum k has eps = E/V0 = k^2, its group
velocity is 2k, the barrier has height 1 and width g.

Geometry (periodic box of N = 2^n points, spacing dx = g/m)::

    [0 ........ N/2-m | barrier (m points) | N/2 ............ N)
         packet ->                            transmitted part -> readout

The barrier ends exactly at the midpoint, so "past the barrier" is the upper
half of the box, i.e. the top qubit. The barrier is the dyadic block
[N/2 - m, N/2) (m a power of two), one multi-controlled phase on a circuit.
Evolution is Strang split-operator with a fixed step dt:
exp(-iV dt/2), then ``steps`` times [exp(-i k^2 dt) (in the Fourier basis), exp(-iV dt)].

Two ways to measure an energy sweep (both build :class:`SplitOperatorProgram`):

* :class:`PacketScattering` (``sweep="packets"``): one narrow packet per energy,
  T read as the probability past the barrier, i.e. the packet average of T.
  Energies that share a number of steps share one program (the momentum kick is
  the batch parameter).
* :class:`CurveScattering` (``sweep="curve"``): a few broad packets ("bands"),
  each scattered once; the readout measures the top qubit (transmitted half) and
  the momentum of the lower n-1 qubits (a DFT before measuring). Since every
  momentum component scatters independently, the ratio of the transmitted
  momentum distribution to the incident one (computed exactly from the initial
  state) is the plane-wave T(k) at every momentum of the band. Fewer programs,
  far fewer steps, and every shot informs the whole band.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass

import numpy as np

from .._arrays import as_float_array, check_finite, check_positive_number
from .split_operator import ProgramResult, Readout, SplitOperatorProgram

#: Grid spacing of the accurate presets (1/q0): resolves k up to ~25 q0; converged to ~3e-4 in T.
_DX_TARGET = 0.125
#: Distinct step lengths of a jittered schedule (each is one set of gates, reused).
_JITTER_LEVELS = 8


def step_times(steps: int, dt: float, jitter: float = 0.0) -> np.ndarray:
    """The Trotter step lengths: dt, or dt (1 + jitter u_j) with u_j in [-1, 1) quasi-random.

    A fixed step kicks the particle periodically, and the barrier's kicks couple an
    energy eps to the grid's fast states at eps + 2 pi n / dt (Floquet resonances):
    narrow dips of up to ~1e-2 in T at energies that depend on dt and the box.
    Steps of quasi-random length (the golden-ratio sequence, on ``_JITTER_LEVELS``
    levels, the same for every program so that programs stay prefixes of each other)
    break the periodicity; free flight stays exact and the splitting error per step
    is unchanged in order.
    """
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    if jitter == 0:
        return np.full(steps, dt)
    golden = (math.sqrt(5.0) - 1.0) / 2.0
    u = (np.floor(((np.arange(steps) * golden) % 1.0) * _JITTER_LEVELS) + 0.5) / _JITTER_LEVELS
    return dt * (1.0 + jitter * (2.0 * u - 1.0))


@dataclass(frozen=True)
class _BarrierBox:
    """The periodic box of 2^n points with the barrier's m points ending at the midpoint."""

    num_qubits: int
    barrier_points: int
    g: float

    def _check_box(self, barrier_height) -> None:
        n, m = self.num_qubits, self.barrier_points
        if not (isinstance(n, int) and not isinstance(n, bool) and 3 <= n <= 30):
            raise ValueError(f"num_qubits must be an int in [3, 30], got {n!r}")
        if not (isinstance(m, int) and not isinstance(m, bool) and m >= 4 and m & (m - 1) == 0):
            raise ValueError(f"barrier_points must be a power of two >= 4 (the barrier must be resolved "
                             f"by at least 4 grid points), got {m!r}")
        if m > 2 ** (n - 3):
            raise ValueError(f"barrier_points={m} leaves no room for the packet on {2 ** n} points; "
                             f"it must be <= 2^(num_qubits - 3) = {2 ** (n - 3)}")
        check_positive_number(self.g, "g")
        if not (isinstance(barrier_height, (int, float)) and not isinstance(barrier_height, bool)
                and math.isfinite(barrier_height) and barrier_height >= 0):
            raise ValueError(f"barrier_height must be finite and >= 0, got {barrier_height!r}")

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

    def _program(self, initial_state, kicks, steps: int, readout: Readout, label: str,
                 jitter: float = 0.0) -> SplitOperatorProgram:
        """Strang splitting: V tau_0/2, then for each step [kinetic tau_j, V (tau_j + tau_j+1)/2], V tau_last/2."""
        tau = step_times(steps, self.dt, jitter)
        return SplitOperatorProgram(
            registers=(self.num_qubits,), potential=self.potential(),
            potential_times=np.concatenate([[tau[0] / 2], (tau[:-1] + tau[1:]) / 2, [tau[-1] / 2]]),
            kinetic_phases=((2 * np.pi / self.box_length) ** 2 * tau)[:, None],
            readout=readout, initial_state=initial_state, kicks=np.asarray(kicks, float).reshape(-1, 1),
            name=f"{self.name}_{label}")

    def fingerprint(self) -> str:
        """A stable hash of the design (for caches and job journals)."""
        text = json.dumps({"kind": type(self).__name__, **asdict(self)}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def _checked_eps(self, eps) -> np.ndarray:
        eps = as_float_array(eps, "eps").astype(np.float64).reshape(-1)
        check_finite(eps, "eps")
        if eps.size == 0:
            raise ValueError("eps must hold at least one energy")
        return eps

    def _range_error(self, eps: np.ndarray, bad: np.ndarray, why: str) -> ValueError:
        low, high = self.energy_range()
        return ValueError(f"eps = E/V0 must lie in [{low:.4g}, {high:.4g}] for program {self.name!r} ({why}); "
                          f"got {eps[bad][:5].tolist()}")


# Per-energy packets ----------------------------------------------------------------------------
@dataclass(frozen=True)
class EnergySchedule:
    """Per-energy evolution: eps = E/V0, mean momentum k0, duration and Trotter steps (dt is shared)."""

    eps: np.ndarray
    k0: np.ndarray
    duration: np.ndarray
    steps: np.ndarray
    dt: float

    def groups(self):
        """Yield ``(steps, indices)`` for each distinct step count (one program each)."""
        for steps in np.unique(self.steps):
            yield int(steps), np.flatnonzero(self.steps == steps)


@dataclass(frozen=True)
class PacketScattering(_BarrierBox):
    """One Gaussian packet per energy; T is the probability past the barrier (the packet average).

    The packet starts centred at a quarter of the box with mean momentum
    k0 = sqrt(eps) and evolves for t = box / (4 k0), when the transmitted part is
    centred at three quarters and the reflected part back at a quarter.

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
        accuracy_note: None, or why this design's T is far from the exact one (shown to users).
    """

    sigma_k: float = 0.03
    dt: float = 0.05
    max_steps: int | None = None
    separation_sigmas: float = 4.0
    barrier_height: float = 1.0
    name: str = "packets"
    accuracy_note: str | None = None

    def __post_init__(self):
        self._check_box(self.barrier_height)
        for field_name in ("sigma_k", "dt"):
            check_positive_number(getattr(self, field_name), field_name)
        if self.max_steps is not None and not (isinstance(self.max_steps, int) and self.max_steps >= 1):
            raise ValueError(f"max_steps must be None or an int >= 1, got {self.max_steps!r}")
        if not (isinstance(self.separation_sigmas, (int, float)) and self.separation_sigmas >= 0):
            raise ValueError(f"separation_sigmas must be >= 0, got {self.separation_sigmas!r}")
        sigma_x = self.packet_sigma_x
        if self.separation_sigmas and self.separation_sigmas * sigma_x > self.box_length / 4 - self.g:
            raise ValueError(
                f"the wave packet does not fit the box: {self.separation_sigmas} x sigma_x = "
                f"{self.separation_sigmas * sigma_x:.4g} must be <= box/4 - g = {self.box_length / 4 - self.g:.4g}; "
                f"raise sigma_k or num_qubits")

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
        """(eps_min, eps_max): the energies (eps = E/V0) this design can measure.

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
        eps = self._checked_eps(eps)
        k0 = np.sqrt(np.clip(eps, 0.0, None))
        steps = self._steps_for(np.where(k0 > 0, k0, 1.0))
        bad = ~self._valid(k0, steps)
        if np.any(bad):
            step_limit = "" if self.max_steps is None else f", and it may take at most {self.max_steps} steps"
            raise self._range_error(eps, bad, f"the packet must pass the barrier before wrapping round the box "
                                              f"and its momenta must fit the grid{step_limit}")
        return EnergySchedule(eps=eps, k0=k0, duration=steps * self.dt, steps=steps, dt=self.dt)

    def programs(self, eps) -> list:
        """One program per distinct step count; its kick batch holds the energies that share it."""
        schedule = self.schedule(eps)
        return [self._program(self.envelope(), schedule.k0[indices] * self.dx, steps,
                              Readout(measured=(self.readout_qubit,)), f"{steps}steps")
                for steps, indices in schedule.groups()]

    def transmission(self, eps, results) -> tuple[np.ndarray, np.ndarray | None]:
        """T (and its standard error with shots) at ``eps`` from the results of :meth:`programs`."""
        schedule = self.schedule(eps)
        T = np.empty(len(schedule.eps))
        stderr = np.empty(len(schedule.eps))
        sampled = False
        for (_, indices), result in zip(schedule.groups(), results):
            T[indices] = result.probabilities[:, 1]
            if result.shots is not None:
                sampled = True
                stderr[indices] = result.stderr()[:, 1]
        return T, (stderr if sampled else None)


# Whole-curve (momentum-resolved) bands -------------------------------------------------------------
@dataclass(frozen=True)
class Band:
    """One broad packet: its centre momentum, spread, start, duration and the momenta it reads (q0)."""

    k_centre: float
    sigma_k: float
    start: float
    steps: int
    k_low: float
    k_high: float


@dataclass(frozen=True)
class CurveScattering(_BarrierBox):
    """T(k) over bands of momenta from a few broad packets (see the module docstring).

    Each band is a Gaussian packet (momentum spread sigma_k, mean k_c) started as
    close to the barrier as its tails allow (``margin_sigmas`` position spreads
    clear of the box edge and of the barrier) and evolved until its transmitted
    part, ``margin_sigmas`` spreads wide, lies wholly past the midpoint. T is read
    at the momenta of the half-box grid (spacing 4 pi / box) within
    ``window_sigmas`` spreads of k_c, where the incident distribution is large;
    bands are planned to cover the requested energies with the fewest steps, and
    T at the requested energies is interpolated (cubic) within the band whose
    centre is nearest in units of its spread.

    Attributes:
        num_qubits, barrier_points, g: the box (as :class:`PacketScattering`).
        dt: the mean Trotter step (hbar/V0).
        step_jitter: relative spread of the step lengths (see :func:`step_times`).
        margin_sigmas: clearance of the packet tails, in position spreads (truncation
            error: 5 keeps it below ~1e-3).
        window_sigmas: half-width of the read momentum window in momentum spreads.
        max_band_width: the largest relative half-width of one band's window.
        barrier_height, name, accuracy_note: as :class:`PacketScattering`.
    """

    dt: float = 0.05
    step_jitter: float = 0.25
    margin_sigmas: float = 5.0
    window_sigmas: float = 2.0
    max_band_width: float = 0.3
    barrier_height: float = 1.0
    name: str = "curve"
    accuracy_note: str | None = None

    def __post_init__(self):
        self._check_box(self.barrier_height)
        for field_name in ("dt", "margin_sigmas", "window_sigmas"):
            check_positive_number(getattr(self, field_name), field_name)
        if not (isinstance(self.step_jitter, (int, float)) and 0 <= self.step_jitter < 1):
            raise ValueError(f"step_jitter must be in [0, 1), got {self.step_jitter!r}")
        if not (isinstance(self.max_band_width, (int, float)) and 0 < self.max_band_width <= 0.35):
            raise ValueError(f"max_band_width must be in (0, 0.35], got {self.max_band_width!r}")

    # Planning -------------------------------------------------------------------------------
    def _band(self, k_centre: float, half_width: float) -> Band | None:
        """The band of relative half-width ``half_width`` around ``k_centre``, or None if it cannot fit."""
        M = self.margin_sigmas
        sigma_k = half_width * k_centre / self.window_sigmas
        sigma_0 = 1.0 / (2.0 * sigma_k)
        half, g = self.box_length / 2, self.g
        if 2 * M * sigma_0 + g > half or k_centre + 4 * sigma_k > self.k_max:
            return None
        t = (2 * M * sigma_0 + g) / (2 * k_centre)
        for _ in range(200):   # t = (M (sigma(t) + sigma_0) + g) / (2 k_c): a contraction for these widths
            t_next = (M * (math.hypot(sigma_0, 2 * sigma_k * t) + sigma_0) + g) / (2 * k_centre)
            converged = abs(t_next - t) <= 1e-9 * t_next
            t = t_next
            if converged:
                break
        steps = max(1, math.ceil(t / self.dt))
        if 2 * M * math.hypot(sigma_0, 2 * sigma_k * steps * self.dt) > half - 2 * g:
            return None
        return Band(k_centre=k_centre, sigma_k=sigma_k, start=half - g - M * sigma_0, steps=steps,
                    k_low=k_centre * (1 - half_width), k_high=k_centre * (1 + half_width))

    def _best_band(self, k_low: float) -> Band | None:
        """The band whose window starts at ``k_low`` and covers the most log-momentum per step."""
        best, best_rate = None, 0.0
        for half_width in np.linspace(0.02, self.max_band_width, 15):
            band = self._band(k_low / (1 - half_width), half_width)
            if band is not None:
                rate = math.log(band.k_high / band.k_low) / band.steps
                if rate > best_rate:
                    best, best_rate = band, rate
        return best

    def bands(self, eps) -> list:
        """The bands that cover ``eps`` (validated), lowest momentum first."""
        eps = self._checked_eps(eps)
        low, high = self.energy_range()
        bad = (eps < low) | (eps > high)
        if np.any(bad):
            raise self._range_error(eps, bad, "slow packets spread too much for the box; fast ones need momenta "
                                              "the grid cannot hold")
        k = np.sqrt(eps)
        k_start, k_stop = float(k.min()) * 0.999, float(k.max()) * 1.001
        bands = []
        while True:
            band = self._best_band(k_start)
            bands.append(band)
            if band.k_high >= k_stop:
                return bands
            k_start = band.k_high * 0.98    # windows overlap a little

    def energy_range(self) -> tuple[float, float]:
        """(eps_min, eps_max): the lowest energy a band fits the box for, and the grid's limit."""
        k_high = 0.8 * self.k_max
        k_values = np.geomspace(1e-3, k_high, 400)
        fits = [k for k in k_values if self._best_band(k) is not None]
        if not fits:
            raise ValueError(f"program {self.name!r} cannot measure any energy: enlarge the box (num_qubits)")
        return float(fits[0] ** 2), float(k_high**2)

    # Programs and readout ---------------------------------------------------------------------
    def incident_state(self, band: Band) -> np.ndarray:
        """The band's Gaussian envelope (real, normalised; the kick adds exp(i k_c x))."""
        sigma_0 = 1.0 / (2.0 * band.sigma_k)
        amplitude = np.exp(-((self.positions - band.start) ** 2) / (4 * sigma_0**2))
        return amplitude / np.linalg.norm(amplitude)

    def readout(self) -> Readout:
        """All qubits measured; the lower n-1 (the position within each half) Fourier transformed."""
        n = self.num_qubits
        return Readout(measured=tuple(range(n)), fourier=tuple(range(n - 1)))

    def programs(self, eps) -> list:
        """One program per band (batch 1: the kick is the band's mean momentum)."""
        return [self._program(self.incident_state(band), [band.k_centre * self.dx], band.steps, self.readout(),
                              f"band{i}_k{band.k_centre:.3g}", jitter=self.step_jitter)
                for i, band in enumerate(self.bands(eps))]

    def half_box_momenta(self) -> np.ndarray:
        """Momenta of the half-box DFT in numpy FFT order (q0)."""
        return 2 * np.pi * np.fft.fftfreq(self.num_points // 2, d=self.dx)

    def incident_distribution(self, band: Band) -> np.ndarray:
        """|DFT of the kicked initial state on the lower half|^2: the incident momentum distribution."""
        half = self.num_points // 2
        state = self.incident_state(band) * np.exp(1j * band.k_centre * self.positions)
        return np.abs(np.fft.fft(state[:half]) / np.sqrt(half)) ** 2

    def band_curve(self, band: Band, result: ProgramResult):
        """(k, T(k), stderr or None) at the half-box momenta inside the band's window."""
        half = self.num_points // 2
        transmitted = result.probabilities[0, half:]
        incident = self.incident_distribution(band)
        k = self.half_box_momenta()
        spacing = 4 * np.pi / self.box_length          # one grid point beyond each edge brackets the window
        inside = np.flatnonzero((k >= band.k_low - spacing) & (k <= band.k_high + spacing))
        inside = inside[np.argsort(k[inside])]
        T = transmitted[inside] / incident[inside]
        stderr = None
        if result.shots is not None:
            stderr = result.stderr()[0, half:][inside] / incident[inside]
        return k[inside], T, stderr

    def transmission(self, eps, results) -> tuple[np.ndarray, np.ndarray | None]:
        """T (and its standard error with shots) at ``eps`` from the results of :meth:`programs`."""
        from scipy.interpolate import CubicSpline

        eps = self._checked_eps(eps)
        bands = self.bands(eps)
        k = np.sqrt(eps)
        # Each energy is read from the band in which it sits most centrally.
        distance = np.array([np.abs(k - b.k_centre) / (b.k_high - b.k_low) for b in bands])
        choice = np.argmin(distance, axis=0)
        T = np.empty(len(k))
        stderr = np.empty(len(k))
        sampled = False
        for index, (band, result) in enumerate(zip(bands, results)):
            chosen = np.flatnonzero(choice == index)
            if chosen.size == 0:
                continue
            k_band, T_band, err_band = self.band_curve(band, result)
            if err_band is None:
                T[chosen] = CubicSpline(k_band, T_band)(k[chosen]) if k_band.size >= 4 else np.interp(
                    k[chosen], k_band, T_band)
                continue
            # Sampled: linear interpolation between the two bracketing momenta (a spline through noisy
            # points would mix more of them with weights beyond [0, 1]); independent errors combine.
            sampled = True
            right = np.clip(np.searchsorted(k_band, k[chosen]), 1, k_band.size - 1)
            w = (k[chosen] - k_band[right - 1]) / (k_band[right] - k_band[right - 1])
            T[chosen] = (1 - w) * T_band[right - 1] + w * T_band[right]
            stderr[chosen] = np.hypot((1 - w) * err_band[right - 1], w * err_band[right])
        return T, (stderr if sampled else None)


# Presets ---------------------------------------------------------------------------------------------
PRESETS = ("accurate", "nisq", "hardware")
SWEEPS = ("auto", "curve", "packets")

_NISQ_NOTE = ("the nisq preset is a small packet circuit: its packet fills a 6-qubit box, so T is a coarse "
              "packet average, up to ~0.3-0.5 away from the exact T")


def scattering_preset(name: str = "accurate", g: float = 0.5, sweep: str = "auto"):
    """The reference scattering designs.

    * ``accurate``: 12 qubits, dx ~ 1/8, dt = 0.05. ``sweep="curve"`` (the default):
      momentum-resolved bands, the plane-wave T within ~5e-3 for eps in [0.1, 10];
      ``sweep="packets"``: one packet of sigma_k = 0.03 per energy (the packet
      average, within ~7e-3 of the plane-wave T).
    * ``nisq``: 6 qubits, 4 barrier points, dt = 0.2 and at most 20 Trotter steps
      (eps >= 0.25), per-energy packets only (too deep for devices: use hardware). The packet
      fills the tiny box, so T differs from the analytic value by up to ~0.3.
    * ``hardware``: one particle on a 9-qubit chain (:class:`~qthybrid.programs.chain.ChainScattering`),
      ~60 XX+YY rotations (~120 two-qubit gates on IBM Heron); every energy is one batch row.
    """
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; known presets: {', '.join(PRESETS)}")
    if sweep not in SWEEPS:
        raise ValueError(f"sweep must be one of {', '.join(map(repr, SWEEPS))}, got {sweep!r}")
    if name == "hardware":
        if sweep == "curve":
            raise ValueError("the hardware preset measures one energy per batch row of one chain circuit: use "
                             "sweep='packets' (or 'auto')")
        from .chain import ChainScattering

        return ChainScattering(g=g)
    if name == "accurate":
        m = max(4, 2 ** math.ceil(math.log2(g / _DX_TARGET)))
        if sweep == "packets":
            return PacketScattering(num_qubits=12, barrier_points=m, g=g, sigma_k=0.03, dt=0.05, name="accurate")
        return CurveScattering(num_qubits=12, barrier_points=m, g=g, dt=0.05, name="accurate")
    if sweep == "curve":
        raise ValueError("the nisq preset's 6-qubit box is too small for momentum-resolved bands: "
                         "use sweep='packets' (or 'auto')")
    return PacketScattering(num_qubits=6, barrier_points=4, g=g, sigma_k=1.0, dt=0.2, max_steps=20,
                            separation_sigmas=0.0, name="nisq", accuracy_note=_NISQ_NOTE)
