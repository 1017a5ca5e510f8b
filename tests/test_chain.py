"""The hardware preset: the lattice T, the chain program and its circuits, mitigation under device noise."""

import numpy as np
import pytest

import qthybrid
from qthybrid import Barrier, transmission
from qthybrid.physics.lattice import lattice_transmission, thin_barrier_transmission
from qthybrid.programs import ChainProgram, ProgramResult, scattering_preset

HARDWARE = scattering_preset("hardware")


# --- the lattice T --------------------------------------------------------------------------------

def _green_function_transmission(E, V, J=1.0):
    """Independent reference: T = Gamma_L Gamma_R |G_1m|^2 with the leads' exact self-energies (NEGF)."""
    q = np.arccos(-E / (2 * J))
    sigma = -J * np.exp(1j * q)                      # retarded self-energy of a semi-infinite lead
    m = len(V)
    H = np.diag(np.asarray(V, float)) - J * (np.eye(m, k=1) + np.eye(m, k=-1))
    H = H.astype(complex)
    H[0, 0] += sigma
    H[-1, -1] += sigma
    G = np.linalg.inv(E * np.eye(m) - H)
    gamma = -2 * sigma.imag
    return gamma**2 * abs(G[0, -1]) ** 2


def test_lattice_transmission_matches_the_green_function_of_random_chains(rng):
    for _ in range(20):
        V = rng.normal(0, 1.5, size=rng.integers(1, 7))
        E = rng.uniform(-1.95, 1.95)
        assert lattice_transmission(E, V) == pytest.approx(_green_function_transmission(E, V), abs=1e-12)


def test_one_site_and_band_edges():
    q = np.linspace(0.1, 3.0, 9)
    U = 0.8
    np.testing.assert_allclose(lattice_transmission(-2 * np.cos(q), [U]), 1 / (1 + (U / (2 * np.sin(q))) ** 2),
                               atol=1e-13)
    assert lattice_transmission(2.5, [0.3]) == 0.0 and lattice_transmission(0.0, [0.0]) == pytest.approx(1.0)


def test_a_fine_lattice_converges_to_the_continuum_barrier():
    """m sites of height V0 across the width g, J = 1/a^2: T -> the closed form as a -> 0."""
    g, eps = 1.0, np.array([0.3, 0.8, 2.0])
    errors = []
    for m in (8, 32):
        a = g / m
        J = 1 / a**2
        T = lattice_transmission(eps - 2 * J, np.ones(m), hopping=J)   # band bottom -2J is E = 0
        errors.append(np.max(np.abs(T - transmission(eps * 30.0, Barrier(V0=30.0, g=g)))))
    assert errors[1] < 2e-3 and errors[1] < errors[0] / 5


def test_the_thin_barrier_is_close_to_the_rectangle_for_the_papers_barrier():
    eps = np.geomspace(0.3, 3, 25)
    exact = transmission(eps * 30.0, Barrier())
    assert np.max(np.abs(thin_barrier_transmission(eps, 0.5) - exact)) < 0.01
    np.testing.assert_allclose(HARDWARE.lattice_transmission(eps), thin_barrier_transmission(eps, 0.5), atol=1e-12)


# --- the program and its circuits -----------------------------------------------------------------

def test_the_design_reproduces_the_lattice_T_over_its_range():
    low, high = HARDWARE.energy_range()
    assert low <= 0.3 and high >= 3.0
    eps = np.geomspace(low, high, 40)
    assert np.max(np.abs(HARDWARE.ideal_transmission(eps) - HARDWARE.lattice_transmission(eps))) < 0.025
    with pytest.raises(ValueError, match=r"eps = E/V0 must lie in \[0.0625, 25\] for program 'hardware'"):
        HARDWARE.programs([0.01])


def test_qiskit_and_pennylane_circuits_apply_the_program_exactly(rng):
    pytest.importorskip("pennylane")
    import pennylane as qml
    from qiskit.quantum_info import Statevector

    from qthybrid.circuits.chain import build_chain_circuit, chain_operations, outcomes_from_bit_probabilities

    state = np.zeros(7, complex)
    state[1:5] = rng.normal(size=4) + 1j * rng.normal(size=4)
    program = ChainProgram(num_sites=7, initial_state=state / np.linalg.norm(state),
                           potential=rng.normal(size=(2, 7)), dt=0.45, steps=4)
    expected = program.exact_probabilities()
    built = build_chain_circuit(program, measure=False)
    device = qml.device("default.qubit", wires=7)
    for row in range(2):
        qiskit_probs = outcomes_from_bit_probabilities(Statevector(built.bound(program, row)).probabilities(), 7)
        np.testing.assert_allclose(qiskit_probs, expected[row], atol=1e-12)

        @qml.qnode(device)
        def circuit():
            for op in chain_operations(program, program.potential[row]):
                qml.apply(op)
            return qml.probs(wires=list(reversed(range(7))))

        np.testing.assert_allclose(outcomes_from_bit_probabilities(circuit(), 7), expected[row], atol=1e-12)


def test_the_hardware_circuit_fits_a_line_of_heavy_hex_qubits():
    pytest.importorskip("qiskit_ibm_runtime")
    from qthybrid.circuits.chain import build_chain_circuit
    from qthybrid.circuits.devices import fake_backend
    from qthybrid.circuits.layout import best_line, transpile_for_device

    (program,) = HARDWARE.programs([1.0])
    for name in ("fake_torino", "fake_fez"):
        device = fake_backend(name)
        mapped = transpile_for_device(build_chain_circuit(program).circuit, device, program)
        counts = mapped.count_ops()
        assert counts.get("cz", 0) == 2 * program.hop_count() <= 300 and "swap" not in counts
        line = best_line(device, program.num_sites)
        coupled = {tuple(edge) for edge in device.coupling_map.get_edges()}
        assert all((a, b) in coupled or (b, a) in coupled for a, b in zip(line, line[1:]))


def test_outcomes_count_every_other_bit_string_as_an_error():
    from qthybrid.programs import site_outcomes

    np.testing.assert_array_equal(site_outcomes({"001": 5, "100": 2, "000": 1, "011": 3}, 3), [5, 0, 2, 4])
    T, stderr = HARDWARE.transmission([1.0], [ProgramResult(np.array([[0.1, 0, 0, 0, 0, 0.3, 0.1, 0, 0, 0.5]]),
                                                            shots=1000)])
    assert T[0] == pytest.approx(0.8) and stderr[0] == pytest.approx(np.sqrt(0.8 * 0.2 / 500))


# --- mitigation ---------------------------------------------------------------------------------

def test_extrapolation_weights_are_mitiqs():
    pytest.importorskip("mitiq")
    from mitiq.zne.inference import LinearFactory, RichardsonFactory

    from qthybrid.backends.noisy import extrapolation_weights

    y = np.array([0.8, 0.71, 0.65])
    for method, factory in (("linear", LinearFactory), ("richardson", RichardsonFactory)):
        assert extrapolation_weights([1, 2, 3], method) @ y == pytest.approx(factory.extrapolate([1, 2, 3], list(y)))


def test_folding_keeps_the_ideal_distribution_and_scales_two_qubit_gates():
    pytest.importorskip("mitiq")
    from qiskit.quantum_info import Statevector

    from qthybrid.backends.noisy import DeviceRehearsal, _fold

    (program,) = HARDWARE.programs([0.7])
    from qthybrid.circuits.chain import build_chain_circuit

    built = build_chain_circuit(program)
    mapped, qubits = DeviceRehearsal("fake_torino").transpiled(built.bound(program), program)
    base = Statevector(mapped.remove_final_measurements(inplace=False)).probabilities()
    folded = _fold(mapped, 3.0, seed=1)
    assert folded.count_ops()["cz"] == 3 * mapped.count_ops()["cz"]
    np.testing.assert_allclose(Statevector(folded.remove_final_measurements(inplace=False)).probabilities(), base,
                               atol=1e-9)


def test_bad_mitigation_options_are_refused():
    with pytest.raises(ValueError, match="option 'mitigation' must be"):
        qthybrid.get_backend("aer", mitigation=["magic"])
    with pytest.raises(ValueError, match="option 'zne_scale_factors' must be"):
        qthybrid.get_backend("aer", zne_scale_factors=(2, 3))


def test_a_missing_mitigation_library_is_named_before_anything_runs(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "mitiq", None)       # as if the hardware extra were not installed
    backend = qthybrid.get_backend("aer", preset="hardware", noise_backend="fake_torino")
    with pytest.raises(ImportError, match=r"needs mitiq: pip install 'qthybrid\[hardware\]', or pass mitigation='none'"):
        backend.transmission([15.0], Barrier())
    noisy = qthybrid.get_backend("aer", preset="hardware", noise_backend="fake_torino",
                                 mitigation=["postselect", "readout"], shots=200, seed=1)
    assert 0 <= float(noisy.transmission([15.0], Barrier())[0]) <= 1     # ZNE left out: no mitiq needed


@pytest.mark.slow
def test_mitigation_brings_fake_torino_back_to_the_noiseless_curve():
    """Default mitigation within 0.05 of the noiseless backend at energies across [0.3, 3]; raw is further."""
    pytest.importorskip("mthree")
    E = np.array([0.35, 0.8, 1.6, 2.9]) * 30.0
    ideal = qthybrid.get_backend("aer", preset="hardware").transmission(E)
    noisy = qthybrid.get_backend("aer", preset="hardware", noise_backend="fake_torino", seed=11).run_transmission(E)
    assert np.max(np.abs(noisy.transmission - ideal)) < 0.05
    raw = HARDWARE.transmission(E / 30.0, [ProgramResult(noisy.metadata["unmitigated_probabilities"], shots=10000)])[0]
    assert np.mean(np.abs(raw - ideal)) > np.mean(np.abs(noisy.transmission - ideal))


@pytest.mark.slow
def test_one_noisy_path_submission_aer_and_qiskit_remote_agree():
    """Unmitigated T from submit('ibm:fake_torino'), Aer's noise_backend and PennyLane's qiskit.remote agree
    within shot noise (the same transpilation, the same device data)."""
    pytest.importorskip("pennylane_qiskit")
    from qthybrid.circuits.devices import fake_backend
    from qthybrid.hardware import JobJournal, submit

    eps = np.array([0.4, 2.0])
    shots = 6000
    record = submit(HARDWARE, eps, "ibm:fake_torino", shots=shots, journal=JobJournal(), wait=True)
    submitted = np.array(record.result["transmission"]), np.array(record.result["stderr"])
    aer = qthybrid.get_backend("aer", preset="hardware", noise_backend="fake_torino", mitigation="none", shots=shots,
                               seed=4).run_transmission(eps * 30.0)
    remote = qthybrid.get_backend("pennylane", preset="hardware", device="qiskit.remote", shots=shots,
                                  device_kwargs={"backend": fake_backend("fake_torino")}).run_transmission(eps * 30.0)
    for T, err in ((aer.transmission, aer.stderr), (remote.transmission, remote.stderr)):
        assert np.all(np.abs(T - submitted[0]) <= 4 * np.hypot(err, submitted[1]))
