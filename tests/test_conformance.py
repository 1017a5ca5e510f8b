"""One conformance suite for every program-running backend: same programs, same answers.

The torch statevector backend is the reference. A new backend joins the whole
suite by adding one line to BACKENDS.
"""

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("qiskit_aer")
pytest.importorskip("pennylane")

import qthybrid  # noqa: E402
from qthybrid import Barrier  # noqa: E402
from qthybrid.programs import ScatteringProgram, scattering_preset  # noqa: E402

BACKENDS = [
    ("aer", {"form": "blocks"}),
    ("aer", {"form": "gates"}),
    ("pennylane", {"device": "default.qubit"}),
    ("pennylane", {"device": "default.qubit", "form": "blocks"}),
    ("pennylane", {"device": "lightning.qubit"}),
    ("pennylane", {"device": "qiskit.aer"}),
]
IDS = [f"{name}-{'-'.join(str(v) for v in options.values())}" for name, options in BACKENDS]

#: name -> (program, E/V0 values it can measure)
PROGRAMS = {
    "nisq": (scattering_preset("nisq"), np.array([0.3, 0.8, 1.0, 1.7, 4.0, 9.0])),
    "wide-barrier": (ScatteringProgram(num_qubits=7, barrier_points=8, g=1.5, sigma_k=0.5, dt=0.1,
                                       separation_sigmas=0.0, max_steps=40, name="wide-barrier"),
                     np.array([2.5, 3.0, 5.0, 9.0, 20.0])),
}


def barrier_for(program):
    return Barrier(V0=30.0, g=program.g)


@pytest.mark.parametrize("program_name", list(PROGRAMS))
@pytest.mark.parametrize("name, options", BACKENDS, ids=IDS)
def test_exact_backends_agree_with_the_reference(name, options, program_name):
    program, eps = PROGRAMS[program_name]
    barrier = barrier_for(program)
    E = eps * barrier.V0
    reference = qthybrid.get_backend("statevector", program=program).transmission(E, barrier)
    result = qthybrid.get_backend(name, program=program, **options).run_transmission(E, barrier)
    assert result.stderr is None
    np.testing.assert_allclose(result.transmission, reference, atol=1e-8, rtol=0)


@pytest.mark.parametrize("name, options", BACKENDS[:1] + BACKENDS[2:3], ids=IDS[:1] + IDS[2:3])
def test_shot_backends_agree_within_four_standard_errors(name, options):
    program, eps = PROGRAMS["nisq"]
    barrier = barrier_for(program)
    E = eps * barrier.V0
    reference = qthybrid.get_backend("statevector", program=program).transmission(E, barrier)
    result = qthybrid.get_backend(name, program=program, shots=8000, seed=3, **options).run_transmission(E, barrier)
    assert np.all(np.abs(result.transmission - reference) <= 4 * result.stderr)


#: Plugin devices and the package that provides each; the test uses those not installed here
#: (the `cloud` extra installs amazon-braket-pennylane-plugin, which provides braket.local.qubit).
PLUGIN_DEVICES = {"braket.local.qubit": "amazon-braket-pennylane-plugin", "ionq.simulator": "pennylane-ionq",
                  "cirq.simulator": "pennylane-cirq", "qulacs.simulator": "pennylane-qulacs"}


def test_uninstalled_pennylane_devices_name_their_plugin():
    from importlib.metadata import entry_points

    installed = {entry.name for entry in entry_points(group="pennylane.plugins")}
    missing = {device: plugin for device, plugin in PLUGIN_DEVICES.items() if device not in installed}
    if not missing:
        pytest.skip("every plugin device of the test is installed")
    for device, plugin in missing.items():
        backend = qthybrid.get_backend("pennylane", preset="nisq", device=device)
        with pytest.raises(ValueError, match=f"pip install {plugin}"):
            backend.transmission([30.0], Barrier())
