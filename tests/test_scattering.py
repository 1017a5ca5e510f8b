"""Barrier-scattering programs: physics of the simulation, circuits against the torch reference."""

import warnings

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("qiskit_aer")

import qthybrid  # noqa: E402
from qthybrid import Barrier, packet_transmission, transmission  # noqa: E402
from qthybrid.backends import aer as aer_module  # noqa: E402
from qthybrid.circuits.builder import append_barrier_phase, append_kinetic_phase, blocked_fourier  # noqa: E402
from qthybrid.programs import ScatteringProgram, scattering_preset  # noqa: E402

SMALL = ScatteringProgram(num_qubits=8, barrier_points=4, g=0.5, sigma_k=0.6, dt=0.1,
                          separation_sigmas=0.0, name="small")


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
    append_kinetic_phase(circuit, list(circuit.qubits), box, dt)
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


def test_barrier_phase_hits_exactly_the_barrier_block():
    from qiskit import QuantumCircuit
    from qiskit.quantum_info import Operator

    n, m = 6, 8
    circuit = QuantumCircuit(n)
    append_barrier_phase(circuit, list(circuit.qubits), m, 0.7)
    phases = np.angle(np.diag(Operator(circuit).data))
    expected = np.zeros(2**n)
    expected[2 ** (n - 1) - m: 2 ** (n - 1)] = 0.7
    np.testing.assert_allclose(phases, expected, atol=1e-12)


# --- the physics of the simulation ------------------------------------------------------------

def test_accurate_preset_matches_the_analytic_physics():
    barrier = Barrier()
    eps = np.array([0.1, 0.2, 0.5, 0.9, 1.0, 1.2, 2.0, 5.0, 10.0])
    E = eps * barrier.V0
    T = statevector().transmission(E, barrier)
    program = scattering_preset("accurate")
    np.testing.assert_allclose(T, packet_transmission(E, barrier, program.sigma_k), atol=5e-3, rtol=0)
    np.testing.assert_allclose(T, transmission(E, barrier), atol=1e-2, rtol=0)


def test_norm_is_conserved():
    probabilities = statevector().evolve(SMALL, [0.5, 2.0, 8.0])
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-12)


def test_free_packet_is_fully_transmitted_and_a_wall_reflects():
    free = ScatteringProgram(num_qubits=10, barrier_points=4, g=0.5, sigma_k=0.1, dt=0.05,
                             separation_sigmas=4.0, barrier_height=0.0)
    probabilities = statevector().evolve(free, [2.0, 5.0])
    # Only the packet's Gaussian tails beyond 4 sigma (< 3.2e-5) may be outside the readout half.
    np.testing.assert_allclose(probabilities[:, 512:].sum(axis=1), 1.0, atol=3.2e-5)
    # A 10 V0 high, 2/q0 wide wall: in its own units g = 2 sqrt(10), E/V0' = eps/10 and the
    # packet's spread is sigma_k / sqrt(10). Its transmission is ~1e-5..1e-3 and the simulation
    # must reproduce the analytic packet average (a high wall needs V dt << 1: dt = 0.005).
    height, width = 10.0, 2.0
    wall = ScatteringProgram(num_qubits=11, barrier_points=16, g=width, sigma_k=0.1, dt=0.005,
                             separation_sigmas=4.0, barrier_height=height)
    eps = np.array([2.0, 5.0])
    T = statevector().evolve(wall, eps)[:, 2 ** 10:].sum(axis=1)
    expected = packet_transmission(eps, Barrier(V0=height, g=width * np.sqrt(height)), 0.1 / np.sqrt(height))
    assert T.max() < 1e-3
    np.testing.assert_allclose(T, expected, rtol=2e-2)


# --- validation -------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, match", [
    ({"barrier_points": 6}, "barrier_points must be a power of two >= 4"),
    ({"barrier_points": 2}, "barrier_points must be a power of two >= 4"),
    ({"num_qubits": 2}, "num_qubits must be an int in"),
    ({"sigma_k": 0.001}, "the wave packet does not fit the box"),
    ({"dt": -0.1}, "dt must be a finite number > 0"),
    ({"barrier_height": -1.0}, "barrier_height must be finite and >= 0"),
])
def test_bad_programs_are_refused(kwargs, match):
    settings = dict(num_qubits=10, barrier_points=4, g=0.5, sigma_k=0.1, dt=0.05)
    settings.update(kwargs)
    with pytest.raises(ValueError, match=match):
        ScatteringProgram(**settings)


def test_energies_outside_the_program_range_are_refused():
    program = scattering_preset("accurate")
    low, high = program.energy_range()
    with pytest.raises(ValueError, match="eps = E/V0 must lie in"):
        program.schedule([0.5 * low])
    with pytest.raises(ValueError, match="eps = E/V0 must lie in"):
        program.schedule([2 * high])
    with pytest.raises(ValueError, match="eps must be finite"):
        program.schedule([np.nan])
    with pytest.raises(ValueError, match="at most 20 steps"):
        scattering_preset("nisq").schedule([0.1])
    with pytest.raises(ValueError, match="unknown preset 'fast'"):
        scattering_preset("fast")


def test_statevectors_too_large_for_memory_are_refused_before_allocating():
    huge = ScatteringProgram(num_qubits=30, barrier_points=4, g=0.5, sigma_k=1e-5, dt=0.05)
    with pytest.raises(MemoryError, match="num_qubits=30 needs about"):
        statevector(program=huge).transmission([30.0], Barrier())
    with pytest.raises(MemoryError, match="num_qubits=30 needs about"):
        qthybrid.get_backend("aer", program=huge).transmission([30.0], Barrier())


# --- Aer against the reference ---------------------------------------------------------------

@pytest.mark.parametrize("form", ["blocks", "gates"])
def test_aer_matches_statevector(form):
    barrier = Barrier()
    E = barrier.V0 * np.array([0.3, 0.7, 1.0, 2.5, 6.0, 0.7])
    reference = statevector(program=SMALL).transmission(E, barrier)
    result = qthybrid.get_backend("aer", program=SMALL, form=form).run_transmission(E, barrier)
    np.testing.assert_allclose(result.transmission, reference, atol=1e-10, rtol=0)
    assert result.metadata["circuits"] == len(np.unique(SMALL.schedule(E / barrier.V0).steps))


def test_a_sweep_is_one_aer_job(monkeypatch):
    from qiskit_aer import AerSimulator

    calls = []
    original = AerSimulator.run

    def counting_run(self, circuits, *args, **kwargs):
        calls.append(len(circuits) if isinstance(circuits, list) else 1)
        return original(self, circuits, *args, **kwargs)

    monkeypatch.setattr(AerSimulator, "run", counting_run)
    result = qthybrid.get_backend("aer", preset="nisq").run_transmission(30.0 * np.linspace(0.3, 8, 16), Barrier())
    assert len(calls) == 1 and len(result.metadata["job_ids"]) == 1


def test_aer_splits_sweeps_that_do_not_fit_memory_and_falls_back_to_the_leaner_form(monkeypatch):
    from qthybrid.backends import _circuit_common

    barrier = Barrier()
    E = barrier.V0 * np.array([0.3, 0.7, 2.5, 6.0])
    steps = SMALL.schedule(E / barrier.V0).steps
    per_step = aer_module._BYTES_PER_STEP
    # On 8 qubits blocks are the leaner form: a budget between the two forms' cost of the
    # longest circuit forces the fallback, and the sweep no longer fits one job.
    lean, heavy = sorted((per_step[f](8), f) for f in per_step)
    budget = int(steps.max() * (lean[0] + heavy[0]) / 2)
    monkeypatch.setattr(_circuit_common, "available_memory_bytes", lambda: 2 * budget)
    result = qthybrid.get_backend("aer", program=SMALL, form=heavy[1]).run_transmission(E, barrier)
    assert len(result.metadata["job_ids"]) > 1 and lean[1] in result.metadata["forms"]
    np.testing.assert_allclose(result.transmission, statevector(program=SMALL).transmission(E, barrier),
                               atol=1e-10)
    monkeypatch.setattr(_circuit_common, "available_memory_bytes", lambda: 1000)
    with pytest.raises(MemoryError, match="needs about"):
        qthybrid.get_backend("aer", program=SMALL).transmission(E, barrier)


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


def test_device_transpilation_keeps_the_readout_on_the_right_qubit():
    """Circuits transpiled for a fake device, simulated without noise, give the ideal T."""
    from qiskit_aer import AerSimulator

    barrier = Barrier()
    eps = np.array([0.5, 2.0])
    backend = qthybrid.get_backend("aer", preset="nisq", noise_backend="fake_lagos")
    program = scattering_preset("nisq")
    schedule = program.schedule(eps)
    noisy_simulator = backend._simulator(backend.options, aer_module.fake_backend("fake_lagos"))
    circuits, binds, order = backend.circuits_for(program, schedule, backend.options, noisy_simulator)
    ideal = AerSimulator(method="density_matrix").run(circuits, parameter_binds=binds, shots=1).result()
    T = np.array([ideal.data(i)["probabilities"][1] for i in range(len(order))])
    np.testing.assert_allclose(T[np.argsort(order)], statevector(preset="nisq").transmission(eps * 30, barrier),
                               atol=1e-9)
    noisy = backend.transmission(eps * 30, barrier)
    assert np.all(np.abs(noisy - T[np.argsort(order)]) > 1e-3)   # the device's noise is really applied
    assert np.all((noisy >= 0) & (noisy <= 1))


def test_unknown_fake_backend_is_named():
    with pytest.raises(ValueError, match="unknown fake backend 'fake_nowhere'"):
        qthybrid.get_backend("aer", preset="nisq", noise_backend="fake_nowhere").transmission([30.0], Barrier())


@pytest.mark.slow
def test_aer_matches_statevector_on_the_accurate_preset():
    barrier = Barrier()
    E = barrier.V0 * np.array([10.0, 25.0])
    reference = statevector().transmission(E, barrier)
    np.testing.assert_allclose(qthybrid.get_backend("aer").transmission(E, barrier), reference, atol=1e-10)
