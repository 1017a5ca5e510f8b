"""One conformance suite for every registered backend: the contract, and the same programs giving the same answers.

The suite is parametrised from the registry (``qthybrid.available_backends()``,
which includes every backend installed through the ``qthybrid.backends`` entry
point), so a third-party backend is checked without editing this file. The torch
statevector backend is the reference for program results.
"""

import sys
import textwrap

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("qiskit_aer")
pytest.importorskip("pennylane")

import qthybrid  # noqa: E402
from qthybrid import Barrier  # noqa: E402
from qthybrid.backends import ENTRY_POINT_GROUP, available_backends, backend_class  # noqa: E402
from qthybrid.programs import (CurveScattering, PacketScattering, ProgramResult, annealing_program,  # noqa: E402
                               grid_points, scattering_preset)

#: Extra option sets checked for some backends (every registered backend is checked with its defaults too).
VARIANTS = {
    "aer": [{"form": "blocks"}, {"form": "gates"}],
    "pennylane": [{"device": "default.qubit"}, {"device": "default.qubit", "form": "gates"},
                  {"device": "lightning.qubit"}, {"device": "qiskit.aer"}],
}
NAMES = available_backends()
PROGRAM_BACKENDS = [name for name in NAMES if backend_class(name).capabilities.programs]
CONFIGS = [(name, options) for name in PROGRAM_BACKENDS for options in VARIANTS.get(name, [{}])]
CONFIG_IDS = [f"{name}-{'-'.join(str(v) for v in options.values()) or 'default'}" for name, options in CONFIGS]

WIDE = PacketScattering(num_qubits=7, barrier_points=8, g=1.5, sigma_k=0.5, dt=0.1, separation_sigmas=0.0,
                        max_steps=40, name="wide-barrier")
CURVE = CurveScattering(num_qubits=9, barrier_points=4, g=0.5, dt=0.2, name="small-curve")


def _programs():
    """name -> list of programs: packets with a batch of kicks, a whole-curve band, a 2-D annealing program."""
    x = grid_points([(-2.0, 2.0), (-1.0, 3.0)], 3)
    return {
        "nisq-packets": scattering_preset("nisq").programs([0.3, 0.8, 1.0, 1.7, 4.0, 9.0]),
        "wide-barrier": WIDE.programs([2.5, 3.0, 5.0, 9.0, 20.0]),
        "curve-band": CURVE.programs([6.0, 12.0]),
        "anneal-2d": [annealing_program(x[:, 0] ** 4 - 2 * x[:, 0] ** 2 + (x[:, 1] - 1) ** 2, 3, 2, 1e-2, 1e-5,
                                        25, 0.5)],
        "hardware-chain": scattering_preset("hardware").programs([0.3, 1.0, 3.0]),
    }


PROGRAMS = _programs()


# --- the contract, for every registered backend ------------------------------------------------

def check_contract(name: str) -> None:
    """What every backend must do (also run on a plug-in in test_a_plugin_backend_joins_the_registry)."""
    cls = backend_class(name)
    with pytest.raises(ValueError, match="unknown option 'no_such_option'"):
        cls(no_such_option=1)
    backend = qthybrid.get_backend(name, **({"preset": "nisq"} if cls.capabilities.programs else {}))
    barrier = Barrier()
    scalar = backend.transmission(30.0, barrier)
    assert np.ndim(scalar) == 0 and 0.0 <= float(scalar) <= 1.0
    grid = np.array([[15.0, 30.0], [60.0, 120.0]])
    result = backend.run_transmission(grid, barrier)
    assert result.transmission.shape == grid.shape and result.stderr is None
    assert result.metadata["backend"] == name and "seconds" in result.metadata
    np.testing.assert_allclose(result.transmission.reshape(-1),
                               backend.transmission(grid.reshape(-1), barrier), atol=1e-12)
    if cls.capabilities.shots:
        sampled = backend.run_transmission(grid, barrier, shots=500, seed=1)
        assert sampled.stderr is not None and sampled.stderr.shape == grid.shape
    if cls.capabilities.programs:
        program = PROGRAMS["nisq-packets"][0]
        (outcome,) = backend.execute(program)
        assert isinstance(outcome, ProgramResult) and outcome.shots is None
        assert outcome.probabilities.shape == (program.batch_size, program.num_outcomes)
        np.testing.assert_allclose(outcome.probabilities.sum(axis=1), 1.0, atol=1e-9)
        (chain,) = backend.execute(PROGRAMS["hardware-chain"])
        assert chain.probabilities.shape == (3, PROGRAMS["hardware-chain"][0].num_outcomes)
        with pytest.raises(TypeError, match="SplitOperatorProgram"):
            backend.execute(["not a program"])
    else:
        with pytest.raises(NotImplementedError):
            backend.execute(PROGRAMS["nisq-packets"])


@pytest.mark.parametrize("name", NAMES)
def test_every_backend_keeps_the_contract(name):
    check_contract(name)


# --- the same programs, the same answers ------------------------------------------------------

@pytest.fixture(scope="module")
def references():
    reference = qthybrid.get_backend("statevector")
    return {key: [result.probabilities for result in reference.execute(programs)]
            for key, programs in PROGRAMS.items()}


@pytest.mark.parametrize("program_name", list(PROGRAMS))
@pytest.mark.parametrize("name, options", CONFIGS, ids=CONFIG_IDS)
def test_program_backends_agree_with_the_reference(name, options, program_name, references):
    results = qthybrid.get_backend(name, **options).execute(PROGRAMS[program_name])
    for result, expected in zip(results, references[program_name]):
        assert result.shots is None
        np.testing.assert_allclose(result.probabilities, expected, atol=1e-8, rtol=0)


@pytest.mark.parametrize("name, options", [c for c in CONFIGS if c[0] in ("aer", "pennylane", "statevector")][:4],
                         ids=CONFIG_IDS[:4])
def test_shot_backends_agree_within_four_standard_errors(name, options):
    design = scattering_preset("nisq")
    barrier = Barrier()
    E = np.array([0.3, 0.8, 1.0, 1.7, 4.0, 9.0]) * barrier.V0
    reference = qthybrid.get_backend("statevector", scattering=design).transmission(E, barrier)
    result = qthybrid.get_backend(name, scattering=design, shots=8000, seed=3, **options).run_transmission(E, barrier)
    assert np.all(np.abs(result.transmission - reference) <= 4 * result.stderr)


def test_uninstalled_pennylane_devices_name_their_plugin():
    backend = qthybrid.get_backend("pennylane", preset="nisq", device="cirq.simulator")
    with pytest.raises(ValueError, match="pip install pennylane-cirq"):
        backend.transmission([30.0], Barrier())
    backend = qthybrid.get_backend("pennylane", preset="nisq", device="ionq.simulator")
    with pytest.raises(ValueError, match="pip install pennylane-ionq"):
        backend.transmission([30.0], Barrier())


def test_a_plugin_backend_joins_the_registry(tmp_path, monkeypatch):
    """A package declaring the entry point is found by get_backend and keeps the contract."""
    (tmp_path / "qthybrid_echo_plugin.py").write_text(textwrap.dedent("""
        from qthybrid.backends.statevector import StatevectorBackend

        class EchoBackend(StatevectorBackend):
            '''The statevector backend under another name: stands for a third-party simulator.'''
            name = "echo"
    """))
    dist = tmp_path / "qthybrid_echo_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: qthybrid-echo-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\necho = qthybrid_echo_plugin:EchoBackend\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert "echo" in available_backends()
    check_contract("echo")
    (dist / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\nbroken = qthybrid_echo_plugin:Nowhere\n")
    with pytest.raises(ImportError, match="registered as 'qthybrid_echo_plugin:Nowhere'"):
        qthybrid.get_backend("broken")
    monkeypatch.delitem(sys.modules, "qthybrid_echo_plugin", raising=False)


def test_unknown_backend_lists_the_known_ones():
    with pytest.raises(ValueError, match="unknown backend 'nope'; known backends: aer, analytic"):
        qthybrid.get_backend("nope")
    assert qthybrid.get_backend("pennylane:lightning.qubit").options.device == "lightning.qubit"
