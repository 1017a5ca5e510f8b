"""Barrier scattering as split-operator programs: the physics of the simulation, circuits against the reference."""

import warnings

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("qiskit_aer")

import qthybrid  # noqa: E402
from qthybrid import Barrier, packet_transmission, transmission  # noqa: E402
from qthybrid.backends import aer as aer_module  # noqa: E402
from qthybrid.circuits.builder import append_block_phase, append_kinetic_phase, blocked_fourier  # noqa: E402
from qthybrid.programs import (CurveScattering, PacketScattering, Readout, SplitOperatorProgram,  # noqa: E402
                               scattering_preset)
from qthybrid.programs.scattering import step_times  # noqa: E402

SMALL = PacketScattering(num_qubits=8, barrier_points=4, g=0.5, sigma_k=0.6, dt=0.1, separation_sigmas=0.0,
                         name="small")
#: A 10-qubit whole-curve design: eps from ~1.15, bands of a few hundred steps.
SMALL_CURVE = CurveScattering(num_qubits=10, barrier_points=4, g=0.5, dt=0.1, name="small-curve")


def statevector(**options):
    return qthybrid.get_backend("statevector", **options)


# --- circuit pieces against their definitions -------------------------------------------------

def test_kinetic_circuit_is_the_fft_kinetic_propagator():
    from qiskit import QuantumCircuit
    from qiskit.quantum_info import Operator
    from qiskit.synthesis import synth_qft_full

    n, box, dt = 5, 7.0, 0.3
    circuit = QuantumCircuit(n)
    circuit.compose(synth_qft_full(n, do_swaps=False), inplace=True)
    append_kinetic_phase(circuit, list(circuit.qubits), (2 * np.pi / box) ** 2 * dt)
    circuit.compose(synth_qft_full(n, do_swaps=False, inverse=True), inplace=True)
    k = 2 * np.pi * np.fft.fftfreq(2**n, d=box / 2**n)
    expected = np.fft.ifft(np.exp(-1j * k**2 * dt)[:, None] * np.fft.fft(np.eye(2**n), axis=0), axis=0)
    U = Operator(circuit).data
    phase = U[0, 0] / expected[0, 0]
    assert abs(abs(phase) - 1) < 1e-12
    np.testing.assert_allclose(U, phase * expected, atol=1e-12)


def test_blocked_fourier_factorisation_is_the_dft():
    n = 7
    W_low, W_high, twiddle, frequency, a = blocked_fourier(n)
    N, N1 = 2**n, 2**a
    state = np.random.default_rng(0).normal(size=N) + 1j * np.random.default_rng(1).normal(size=N)
    x = state.reshape(N // N1, N1)                 # x[j2, j1]
    x = W_high @ x                                 # DFT over j2 -> k2
    x = (x.reshape(-1) * twiddle).reshape(N // N1, N1)
    x = (W_low @ x.T).T                            # DFT over j1 -> k1
    out = np.empty(N, complex)
    out[frequency] = x.reshape(-1)
    np.testing.assert_allclose(out, np.fft.fft(state) / np.sqrt(N), atol=1e-12)


@pytest.mark.parametrize("start, size", [(24, 8), (0, 4), (32, 32)])
def test_block_phase_hits_exactly_the_block(start, size):
    from qiskit import QuantumCircuit
    from qiskit.quantum_info import Operator

    n = 6
    circuit = QuantumCircuit(n)
    append_block_phase(circuit, list(circuit.qubits), start, size, 0.7)
    phases = np.angle(np.diag(Operator(circuit).data))
    expected = np.zeros(2**n)
    expected[start:start + size] = 0.7
    np.testing.assert_allclose(phases, expected, atol=1e-12)


# --- the physics of the simulation ------------------------------------------------------------

def test_whole_curve_preset_matches_the_plane_wave_transmission():
    barrier = Barrier()
    eps = np.array([0.1, 0.13, 0.2, 0.37, 0.5, 0.9, 1.0, 1.2, 2.0, 3.3, 5.0, 7.7, 10.0])
    E = eps * barrier.V0
    result = statevector().run_transmission(E, barrier)
    assert result.metadata["design"] == "CurveScattering"
    assert result.metadata["programs"] <= 5            # a few bands, not one program per energy
    np.testing.assert_allclose(result.transmission, transmission(E, barrier), atol=1e-2, rtol=0)


def test_packet_preset_matches_the_packet_average():
    barrier = Barrier()
    eps = np.array([0.5, 2.0, 8.0])
    E = eps * barrier.V0
    T = statevector(sweep="packets").transmission(E, barrier)
    design = scattering_preset("accurate", sweep="packets")
    np.testing.assert_allclose(T, packet_transmission(E, barrier, design.sigma_k), atol=5e-3, rtol=0)


def test_norm_is_conserved():
    program = SMALL.programs([0.5, 2.0, 8.0])[0]
    everything = SplitOperatorProgram(**{**program.__dict__, "readout": Readout(measured=tuple(range(8)))})
    probabilities = statevector().execute(everything)[0].probabilities
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-12)


def test_free_packet_is_fully_transmitted_and_a_wall_reflects():
    free = PacketScattering(num_qubits=10, barrier_points=4, g=0.5, sigma_k=0.1, dt=0.05, barrier_height=0.0)
    T = statevector(scattering=free).transmission([2.0, 5.0], Barrier(V0=1.0))
    # Only the packet's Gaussian tails beyond 4 sigma (< 3.2e-5) may be outside the readout half.
    np.testing.assert_allclose(T, 1.0, atol=3.2e-5)
    # A 10 V0 high, 2/q0 wide wall: in its own units g = 2 sqrt(10), E/V0' = eps/10 and the
    # packet's spread is sigma_k / sqrt(10). Its transmission is ~1e-5..1e-3 and the simulation
    # must reproduce the analytic packet average (a high wall needs V dt << 1: dt = 0.005).
    height, width = 10.0, 2.0
    wall = PacketScattering(num_qubits=11, barrier_points=16, g=width, sigma_k=0.1, dt=0.005, barrier_height=height)
    eps = np.array([2.0, 5.0])
    T = statevector(scattering=wall).transmission(eps * 1.0, Barrier(V0=1.0, g=width))
    expected = packet_transmission(eps, Barrier(V0=height, g=width * np.sqrt(height)), 0.1 / np.sqrt(height))
    assert T.max() < 1e-3
    np.testing.assert_allclose(T, expected, rtol=2e-2)


def test_whole_curve_of_a_free_particle_is_one_at_every_momentum():
    """The ratio readout needs no physics input: without a barrier it must give T = 1 everywhere."""
    free = CurveScattering(num_qubits=10, barrier_points=4, g=0.5, dt=0.1, barrier_height=0.0)
    eps = np.geomspace(1.5, 30.0, 12)
    bands = free.bands(eps)
    results = statevector().execute(free.programs(eps))
    for band, result in zip(bands, results):
        k, T, _ = free.band_curve(band, result)
        assert k.min() <= band.k_low and k.max() >= band.k_high       # the window is bracketed
        window = (k >= band.k_low) & (k <= band.k_high)
        np.testing.assert_allclose(T[window], 1.0, atol=2e-3)
        np.testing.assert_allclose(T, 1.0, atol=5e-3)


def test_whole_curve_bands_cover_the_sweep_and_fit_the_box():
    design = scattering_preset("accurate")
    eps = np.geomspace(0.1, 10.0, 50)
    bands = design.bands(eps)
    k = np.sqrt(eps)
    assert bands[0].k_low <= k.min() and bands[-1].k_high >= k.max()
    for left, right in zip(bands, bands[1:]):
        assert right.k_low <= left.k_high                      # no gap between windows
    for band in bands:
        sigma_0 = 1 / (2 * band.sigma_k)
        assert band.start - design.margin_sigmas * sigma_0 >= 0   # the packet starts inside the lower half


def test_jittered_steps_are_the_same_sequence_for_every_program():
    long, short = step_times(500, 0.05, 0.25), step_times(120, 0.05, 0.25)
    np.testing.assert_array_equal(long[:120], short)
    assert abs(long.mean() - 0.05) < 1e-3 and long.min() >= 0.05 * 0.75 and long.max() <= 0.05 * 1.25
    assert len(np.unique(long)) == 8
    np.testing.assert_array_equal(step_times(10, 0.05), np.full(10, 0.05))


# --- validation -------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, match", [
    ({"barrier_points": 6}, "barrier_points must be a power of two >= 4"),
    ({"barrier_points": 2}, "barrier_points must be a power of two >= 4"),
    ({"num_qubits": 2}, "num_qubits must be an int in"),
    ({"sigma_k": 0.001}, "the wave packet does not fit the box"),
    ({"dt": -0.1}, "dt must be a finite number > 0"),
    ({"barrier_height": -1.0}, "barrier_height must be finite and >= 0"),
])
def test_bad_designs_are_refused(kwargs, match):
    settings = dict(num_qubits=10, barrier_points=4, g=0.5, sigma_k=0.1, dt=0.05)
    settings.update(kwargs)
    with pytest.raises(ValueError, match=match):
        PacketScattering(**settings)


@pytest.mark.parametrize("kwargs, match", [
    ({"registers": (0,)}, "registers must be a non-empty tuple of ints >= 1"),
    ({"registers": (31,)}, "at most 30 qubits"),
    ({"potential": np.zeros(3)}, "potential must have shape"),
    ({"potential": np.full(8, np.nan)}, "potential must be finite"),
    ({"kinetic_phases": np.zeros((2, 2))}, "kinetic_phases must have shape"),
    ({"initial_state": np.ones(8)}, "initial_state must be normalised"),
    ({"kicks": np.zeros((0, 1))}, "kicks must have shape"),
    ({"readout": Readout(measured=(5,))}, "readout qubit 5 is outside"),
])
def test_bad_programs_are_refused(kwargs, match):
    settings = dict(registers=(3,), potential=np.zeros(8), potential_times=np.full(3, 0.1),
                    kinetic_phases=np.full((2, 1), 0.1), readout=Readout(measured=(2,)))
    settings.update(kwargs)
    with pytest.raises(ValueError, match=match):
        SplitOperatorProgram(**settings)
    with pytest.raises(ValueError, match="ascending run"):
        Readout(measured=(0, 1), fourier=(0, 2))


def test_energies_outside_the_design_range_are_refused():
    for design in (scattering_preset("accurate"), scattering_preset("accurate", sweep="packets")):
        low, high = design.energy_range()
        with pytest.raises(ValueError, match="eps = E/V0 must lie in"):
            design.programs([0.5 * low])
        with pytest.raises(ValueError, match="eps = E/V0 must lie in"):
            design.programs([2 * high])
        with pytest.raises(ValueError, match="eps must be finite"):
            design.programs([np.nan])
    with pytest.raises(ValueError, match="at most 20 steps"):
        scattering_preset("nisq").programs([0.1])
    with pytest.raises(ValueError, match="unknown preset 'fast'"):
        scattering_preset("fast")
    with pytest.raises(ValueError, match="too small for momentum-resolved bands"):
        scattering_preset("nisq", sweep="curve")


def test_work_over_the_memory_budget_is_refused_before_it_starts():
    design = PacketScattering(num_qubits=20, barrier_points=4, g=0.5, sigma_k=0.05, dt=0.05)
    with pytest.raises(MemoryError, match="over the 16 MB budget"):
        statevector(scattering=design, max_memory_mb=16).transmission([30.0], Barrier())
    with pytest.raises(MemoryError, match="over the 16 MB budget"):
        qthybrid.get_backend("aer", scattering=design, max_memory_mb=16).transmission([30.0], Barrier())


# --- Aer against the reference ---------------------------------------------------------------

@pytest.mark.parametrize("form", ["blocks", "gates"])
@pytest.mark.parametrize("design, eps", [(SMALL, [0.3, 0.7, 1.0, 2.5, 6.0, 0.7]), (SMALL_CURVE, [2.0, 5.0, 20.0])],
                         ids=["packets", "curve"])
def test_aer_matches_statevector(form, design, eps):
    barrier = Barrier()
    E = barrier.V0 * np.array(eps)
    reference = statevector(scattering=design).transmission(E, barrier)
    result = qthybrid.get_backend("aer", scattering=design, form=form).run_transmission(E, barrier)
    np.testing.assert_allclose(result.transmission, reference, atol=1e-10, rtol=0)
    assert result.metadata["runs"] == 1


def test_a_sweep_is_one_aer_run(monkeypatch):
    from qiskit_aer import AerSimulator

    calls = []
    original = AerSimulator.run

    def counting_run(self, circuits, *args, **kwargs):
        calls.append(len(circuits) if isinstance(circuits, list) else 1)
        return original(self, circuits, *args, **kwargs)

    monkeypatch.setattr(AerSimulator, "run", counting_run)
    result = qthybrid.get_backend("aer", preset="nisq").run_transmission(30.0 * np.linspace(0.3, 8, 16), Barrier())
    assert len(calls) == 1 and len(result.metadata["job_ids"]) == 1


def test_aer_chunks_long_evolutions_to_fit_the_budget():
    barrier = Barrier()
    E = barrier.V0 * np.array([2.0, 5.0, 20.0])
    reference = statevector(scattering=SMALL_CURVE).transmission(E, barrier)
    result = qthybrid.get_backend("aer", scattering=SMALL_CURVE, max_memory_mb=16).run_transmission(E, barrier)
    assert result.metadata["runs"] > 1
    np.testing.assert_allclose(result.transmission, reference, atol=1e-10)


@pytest.mark.parametrize("name", ["statevector", "aer"])
def test_shots_agree_with_exact_within_error_bars(name):
    barrier = Barrier()
    E = barrier.V0 * np.array([0.5, 1.0, 3.0])
    exact = qthybrid.get_backend(name, preset="nisq").transmission(E, barrier)
    sampled = qthybrid.get_backend(name, preset="nisq", shots=20000, seed=7).run_transmission(E, barrier)
    assert np.all(np.abs(sampled.transmission - exact) <= 4 * sampled.stderr)
    np.testing.assert_allclose(sampled.stderr, np.sqrt(exact * (1 - exact) / 20000), rtol=0.05)


def test_gpu_request_without_gpu_warns_once_and_runs_on_cpu(monkeypatch):
    monkeypatch.setattr(aer_module, "_GPU_WARNED", False)
    monkeypatch.setattr(aer_module.AerBackend, "available_devices", staticmethod(lambda: ("CPU",)))
    backend = qthybrid.get_backend("aer", preset="nisq", device="GPU")
    with pytest.warns(RuntimeWarning, match="no GPU"):
        result = backend.run_transmission([30.0], Barrier())
    assert result.metadata["device"] == "CPU"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        backend.run_transmission([30.0], Barrier())


def test_noise_rehearsal_applies_the_device_noise_to_the_right_readout():
    barrier = Barrier()
    E = np.array([0.5, 2.0]) * barrier.V0
    ideal = statevector(preset="nisq").transmission(E, barrier)
    noisy = qthybrid.get_backend("aer", preset="nisq", noise_backend="fake_lagos").transmission(E, barrier)
    assert np.all(np.abs(noisy - ideal) > 1e-3)      # the device's noise is really applied
    assert np.all((noisy >= 0) & (noisy <= 1))


def test_unknown_fake_backend_is_named():
    with pytest.raises(ValueError, match="unknown fake backend 'fake_nowhere'"):
        qthybrid.get_backend("aer", preset="nisq", noise_backend="fake_nowhere").transmission([30.0], Barrier())


@pytest.mark.slow
def test_aer_matches_statevector_on_the_accurate_preset():
    barrier = Barrier()
    E = barrier.V0 * np.array([3.0, 10.0])
    reference = statevector().transmission(E, barrier)
    np.testing.assert_allclose(qthybrid.get_backend("aer").transmission(E, barrier), reference, atol=1e-9)
