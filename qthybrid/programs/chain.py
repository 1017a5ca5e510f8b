"""One particle on a chain of qubits: the hardware preset's program and its scattering design.

Encoding (unary): site j of the chain is qubit j, and the particle on site j is
the basis state with qubit j alone excited. Every gate keeps the number of
excitations, so a measured bit string with other than one excitation is an error
(symmetry post-selection discards it).

:class:`ChainProgram` evolves the particle under

    H = -J sum_j (|j><j+1| + |j+1><j|) + sum_j V_j |j><j|        (times in 1/J)

with the split

    E(dt/2) [V(dt) O(dt) E(dt)] ... [V(dt) O(dt) E(dt/2)]          (steps factors)

where E and O are the hops on even bonds (2i, 2i+1) and odd bonds (2i+1, 2i+2):
exp(i tau (|j><j+1| + h.c.)) on each bond (an XX+YY rotation of the qubit pair),
and V(tau) = prod_j exp(-i tau V_j n_j) (a phase gate per site). Hops on bonds
outside the forward light cone of the initial state act on empty sites, are the
identity there, and are left out (exact). The initial state is loaded by an
X gate and a line of real Givens rotations from its rightmost site, then a phase
per site. The potential has one row per **batch element** (a sweep is data).

The outcome of a program is the particle's site: outcome j < n is "one excitation,
on qubit j", outcome n is every other bit string (an error).

:class:`ChainScattering` (preset ``"hardware"``) uses it for barrier scattering in
the thin-barrier limit (see :mod:`qthybrid.physics.lattice`): a Gaussian packet of
lattice momentum pi/2 on the sites left of one barrier site of strength
U/J = g / sqrt(eps); T is the weight found right of the barrier among the
single-excitation outcomes. Every energy is the same circuit with another barrier
phase.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from .._arrays import as_float_array, check_finite, check_positive_number
from .split_operator import ProgramResult

#: Largest chain a program may hold.
MAX_SITES = 30


def _frozen(value, dtype, name: str) -> np.ndarray:
    array = np.array(value, dtype=dtype, copy=True)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite")
    array.setflags(write=False)
    return array


@dataclass(frozen=True)
class HopLayer:
    """exp(i angle (|j><j+1| + h.c.)) on each bond (j, j+1) listed (j = the bond's left site)."""

    angle: float
    bonds: tuple


@dataclass(frozen=True)
class PotentialLayer:
    """exp(-i time V_j) on every site j (V from the program's potential row)."""

    time: float


@dataclass(frozen=True, eq=False)
class ChainProgram:
    """One particle on ``num_sites`` qubits (see the module docstring for the exact operator sequence).

    Attributes:
        num_sites: n, the qubits of the chain.
        initial_state: n complex amplitudes (normalised) on a contiguous run of sites.
        potential: shape (batch, n): V_j / J per batch row.
        dt: the time step J dt (dimensionless).
        steps: the number of steps.
        name: a label.
        metadata: free-form facts (not part of the fingerprint).
    """

    num_sites: int
    initial_state: np.ndarray
    potential: np.ndarray
    dt: float
    steps: int
    name: str = "chain"
    metadata: dict = field(default_factory=dict)

    def __post_init__(self):
        n = self.num_sites
        if not (isinstance(n, (int, np.integer)) and not isinstance(n, bool) and 2 <= n <= MAX_SITES):
            raise ValueError(f"num_sites must be an int in [2, {MAX_SITES}], got {n!r}")
        object.__setattr__(self, "num_sites", int(n))
        state = _frozen(self.initial_state, np.complex128, "initial_state")
        if state.shape != (n,):
            raise ValueError(f"initial_state must have shape ({n},), got {state.shape}")
        norm = float(np.linalg.norm(state))
        if abs(norm - 1) > 1e-9:
            raise ValueError(f"initial_state must be normalised, its norm is {norm:.12g}")
        support = np.flatnonzero(state)
        if support.size and support[-1] - support[0] + 1 != support.size:
            raise ValueError("initial_state must occupy a contiguous run of sites (one line of Givens rotations)")
        object.__setattr__(self, "initial_state", state)
        potential = _frozen(self.potential, np.float64, "potential")
        if potential.ndim == 1:
            potential = potential.reshape(1, -1)
            potential.setflags(write=False)
        if potential.ndim != 2 or potential.shape[1] != n or potential.shape[0] < 1:
            raise ValueError(f"potential must have shape (batch, {n}) with batch >= 1, got {potential.shape}")
        object.__setattr__(self, "potential", potential)
        check_positive_number(self.dt, "dt")
        if not (isinstance(self.steps, (int, np.integer)) and not isinstance(self.steps, bool) and self.steps >= 1):
            raise ValueError(f"steps must be an int >= 1, got {self.steps!r}")
        object.__setattr__(self, "steps", int(self.steps))

    # Shape ---------------------------------------------------------------------------------
    @property
    def num_qubits(self) -> int:
        return self.num_sites

    @property
    def batch_size(self) -> int:
        return int(self.potential.shape[0])

    @property
    def num_outcomes(self) -> int:
        """n + 1: the particle's site, and "not one excitation"."""
        return self.num_sites + 1

    def with_potential(self, potential) -> "ChainProgram":
        """The same program for another batch of potentials."""
        return replace(self, potential=potential)

    def potential_sites(self) -> list:
        """Sites where some batch row has a nonzero potential (where the circuit has phase gates)."""
        return [int(j) for j in np.flatnonzero(np.any(self.potential != 0, axis=0))]

    # Circuit structure ---------------------------------------------------------------------------
    def preparation(self) -> tuple[int, list, np.ndarray]:
        """(start site, Givens rotations, phases) that load the initial state from |0...0>.

        X on the start site (the rightmost occupied one), then for each (j, theta) in
        order the real rotation |j+1> -> cos(theta) |j+1> + sin(theta) |j> on bond (j, j+1)
        (the amplitudes (a_j, a_{j+1}) go to (c a_j + s a_{j+1}, -s a_j + c a_{j+1})), then
        the phase ``phases[j]`` on every site.
        """
        amplitude = np.abs(self.initial_state)
        support = np.flatnonzero(amplitude)
        low, high = int(support[0]), int(support[-1])
        rotations = []
        for j in range(high - 1, low - 1, -1):
            below = math.sqrt(float(np.sum(amplitude[low:j + 1] ** 2)))
            rotations.append((j, math.atan2(below, float(amplitude[j + 1]))))
        phases = np.where(amplitude > 0, np.angle(self.initial_state), 0.0)
        return high, rotations, phases

    def layers(self) -> list:
        """The evolution as HopLayer and PotentialLayer objects, in order (light-cone pruned hops)."""
        n = self.num_sites
        occupied = np.abs(self.initial_state) > 0
        out = []

        def hop(parity: int, angle: float):
            bonds = tuple(j for j in range(parity, n - 1, 2) if occupied[j] or occupied[j + 1])
            for j in bonds:
                occupied[j] = occupied[j + 1] = True
            if bonds:
                out.append(HopLayer(angle, bonds))

        hop(0, self.dt / 2)
        for step in range(self.steps):
            out.append(PotentialLayer(self.dt))
            hop(1, self.dt)
            hop(0, self.dt if step < self.steps - 1 else self.dt / 2)
        return out

    def hop_count(self) -> int:
        """Two-qubit rotations in the circuit (preparation and evolution)."""
        return len(self.preparation()[1]) + sum(len(layer.bonds) for layer in self.layers()
                                                if isinstance(layer, HopLayer))

    # Reference -----------------------------------------------------------------------------
    def final_states(self) -> np.ndarray:
        """The particle's amplitudes after the evolution, shape (batch, n): the exact reference."""
        psi = np.tile(self.initial_state, (self.batch_size, 1))
        for layer in self.layers():
            if isinstance(layer, PotentialLayer):
                psi = psi * np.exp(-1j * layer.time * self.potential)
                continue
            c, s = math.cos(layer.angle), math.sin(layer.angle)
            for j in layer.bonds:
                left, right = psi[:, j].copy(), psi[:, j + 1].copy()
                psi[:, j] = c * left + 1j * s * right
                psi[:, j + 1] = 1j * s * left + c * right
        return psi

    def exact_probabilities(self) -> np.ndarray:
        """Outcome probabilities (batch, n + 1): |amplitude|^2 per site, 0 for "not one excitation"."""
        out = np.zeros((self.batch_size, self.num_outcomes))
        out[:, :self.num_sites] = np.abs(self.final_states()) ** 2
        return out

    # Identity ------------------------------------------------------------------------------
    def fingerprint(self) -> str:
        """A stable hash of everything that determines the outcome probabilities."""
        digest = hashlib.sha256()
        digest.update(repr(("chain", self.num_sites, self.dt, self.steps, self.name)).encode())
        for array in (self.initial_state, self.potential):
            digest.update(np.ascontiguousarray(array).tobytes())
        return digest.hexdigest()[:16]

    def __repr__(self):
        return (f"ChainProgram(name={self.name!r}, sites={self.num_sites}, steps={self.steps}, dt={self.dt}, "
                f"batch={self.batch_size}, hops={self.hop_count()})")


def site_outcomes(counts: dict, num_sites: int) -> np.ndarray:
    """Counts (or a quasi-distribution) over bit strings (Qiskit order: qubit 0 rightmost) -> per outcome
    (n + 1,): the excited site j for one excitation, n for any other string."""
    out = np.zeros(num_sites + 1)
    for bits, count in counts.items():
        bits = bits.replace(" ", "")
        if bits.count("1") == 1:
            out[len(bits) - 1 - bits.index("1")] += count
        else:
            out[num_sites] += count
    return out


# Scattering design -----------------------------------------------------------------------------
#: The barrier strengths U/J for which the hardware design's ideal circuit reproduces the lattice T
#: within 0.025 (measured in tests/test_chain.py): eps in [g^2 / 2^2, g^2 / 0.1^2].
_STRENGTH_RANGE = (0.1, 2.0)


@dataclass(frozen=True)
class ChainScattering:
    """Barrier scattering on a chain of qubits (preset ``"hardware"``; see the module docstring).

    Attributes:
        g: barrier strength (dimensionless, as :class:`~qthybrid.Barrier`).
        num_sites: qubits in the chain.
        barrier_site: the site carrying the barrier (sites right of it count as transmitted).
        packet_sites: the packet occupies the ``packet_sites`` sites left of the barrier.
        packet_sigma: the packet's Gaussian width (sites).
        dt: the time step J dt.
        steps: the number of steps (the packet has passed the barrier by then).
        name: a label (the preset's name).
    """

    g: float = 0.5
    num_sites: int = 9
    barrier_site: int = 4
    packet_sites: int = 4
    packet_sigma: float = 1.6
    dt: float = 0.6
    steps: int = 7
    name: str = "hardware"

    def __post_init__(self):
        check_positive_number(self.g, "g")
        if not (isinstance(self.num_sites, int) and 3 <= self.num_sites <= MAX_SITES):
            raise ValueError(f"num_sites must be an int in [3, {MAX_SITES}], got {self.num_sites!r}")
        if not (isinstance(self.barrier_site, int) and 1 <= self.barrier_site <= self.num_sites - 2):
            raise ValueError(f"barrier_site must be an int in [1, num_sites - 2], got {self.barrier_site!r}")
        if not (isinstance(self.packet_sites, int) and 1 <= self.packet_sites <= self.barrier_site):
            raise ValueError(f"packet_sites must be an int in [1, barrier_site], got {self.packet_sites!r}")
        for name in ("packet_sigma", "dt"):
            check_positive_number(getattr(self, name), name)

    # The packet and the barrier -------------------------------------------------------------------
    def packet(self) -> np.ndarray:
        """The incident packet: a Gaussian of lattice momentum pi/2 on the sites left of the barrier."""
        j = np.arange(self.num_sites)
        first = self.barrier_site - self.packet_sites
        centre = first + (self.packet_sites - 1) / 2
        inside = (j >= first) & (j < self.barrier_site)
        amplitude = np.where(inside, np.exp(-((j - centre) ** 2) / (4 * self.packet_sigma**2)), 0.0)
        state = amplitude * np.exp(1j * np.pi / 2 * j)
        return state / np.linalg.norm(state)

    def barrier_strength(self, eps) -> np.ndarray:
        """U/J on the barrier site at each eps (thin-barrier limit: g / sqrt(eps))."""
        from ..physics.lattice import thin_barrier_strength

        return thin_barrier_strength(eps, self.g)

    def energy_range(self) -> tuple[float, float]:
        """(eps_min, eps_max): where U/J = g / sqrt(eps) lies in the range the design reproduces."""
        low, high = _STRENGTH_RANGE
        return float(self.g**2 / high**2), float(self.g**2 / low**2)

    def _checked_eps(self, eps) -> np.ndarray:
        eps = as_float_array(eps, "eps").astype(np.float64).reshape(-1)
        check_finite(eps, "eps")
        if eps.size == 0:
            raise ValueError("eps must hold at least one energy")
        low, high = self.energy_range()
        bad = (eps < low * (1 - 1e-12)) | (eps > high * (1 + 1e-12))
        if np.any(bad):
            raise ValueError(f"eps = E/V0 must lie in [{low:.4g}, {high:.4g}] for program {self.name!r} "
                             f"(barrier strength U/J = g/sqrt(eps) in {list(_STRENGTH_RANGE)}); "
                             f"got {eps[bad][:5].tolist()}")
        return eps

    # Programs and readout -------------------------------------------------------------------------
    def programs(self, eps) -> list:
        """One program: the energies are its batch (one barrier potential per row)."""
        eps = self._checked_eps(eps)
        potential = np.zeros((eps.size, self.num_sites))
        potential[:, self.barrier_site] = self.barrier_strength(eps)
        return [ChainProgram(num_sites=self.num_sites, initial_state=self.packet(), potential=potential,
                             dt=self.dt, steps=self.steps, name=f"{self.name}_chain{self.num_sites}")]

    def transmission(self, eps, results) -> tuple[np.ndarray, np.ndarray | None]:
        """T (and its standard error with shots): the weight right of the barrier among single excitations.

        A result may carry ``metadata["effective_shots"]`` (per row: the shots an
        unmitigated estimate would need for the same variance, set by mitigation);
        otherwise the kept shots are counted.
        """
        eps = self._checked_eps(eps)
        (result,) = results
        p = np.asarray(result.probabilities, dtype=float)
        n = self.num_sites
        kept = p[:, :n].sum(axis=1)
        if np.any(kept <= 0):
            raise RuntimeError("no single-excitation outcome was measured: the noise destroyed every shot")
        T = np.clip(p[:, self.barrier_site + 1:n].sum(axis=1) / kept, 0.0, 1.0)
        if result.shots is None:
            return T, None
        effective = result.metadata.get("effective_shots")
        effective = np.asarray(effective, dtype=float) if effective is not None else result.shots * kept
        return T, np.sqrt(T * (1 - T) / np.maximum(effective, 1.0))

    # References ---------------------------------------------------------------------------------
    def lattice_transmission(self, eps) -> np.ndarray:
        """The chain's exact plane-wave T at the band centre for each eps (transfer matrix)."""
        from ..physics.lattice import lattice_transmission

        U = self.barrier_strength(self._checked_eps(eps))
        return np.array([lattice_transmission(0.0, [u]) for u in U])

    def ideal_transmission(self, eps) -> np.ndarray:
        """What the noiseless circuit gives (exact single-particle evolution of the program)."""
        (program,) = self.programs(eps)
        return self.transmission(eps, [ProgramResult(program.exact_probabilities())])[0]

    def accuracy(self, eps=None) -> dict:
        """Max |ideal circuit - lattice T| and |lattice T - continuum T| over ``eps`` (default: 40 energies
        of [0.3, 3] within the range)."""
        from ..physics import Barrier, transmission

        if eps is None:
            low, high = self.energy_range()
            eps = np.geomspace(max(low, 0.3), min(high, 3.0), 40)
        lattice = self.lattice_transmission(eps)
        continuum = transmission(np.asarray(eps) * 30.0, Barrier(V0=30.0, g=self.g))
        return {"circuit_vs_lattice": float(np.max(np.abs(self.ideal_transmission(eps) - lattice))),
                "lattice_vs_continuum": float(np.max(np.abs(lattice - continuum)))}

    @property
    def accuracy_note(self) -> str:
        facts = self.accuracy()
        return (f"the hardware preset is a {self.num_sites}-qubit chain with a one-site (thin) barrier: its ideal "
                f"circuit is within {facts['circuit_vs_lattice']:.3f} of the chain's exact T, which is within "
                f"{facts['lattice_vs_continuum']:.3f} of the continuum T for g = {self.g:g} (eps in [0.3, 3])")

    def fingerprint(self) -> str:
        """A stable hash of the design (for caches and job journals)."""
        text = json.dumps({"kind": type(self).__name__, **asdict(self)}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]
