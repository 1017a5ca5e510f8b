"""The backend registry and the options pattern."""

import subprocess
import sys

import numpy as np
import pytest

import qthybrid
from qthybrid import get_backend, packet_transmission, transmission


def test_unknown_backend_lists_the_known_ones():
    with pytest.raises(ValueError) as info:
        get_backend("quantum-magic")
    message = str(info.value)
    assert "quantum-magic" in message
    for name in qthybrid.available_backends():
        assert name in message


def test_analytic_backend_is_the_closed_form(paper_barrier):
    backend = get_backend("analytic")
    assert backend.name == "analytic"
    assert backend.capabilities.exact and not backend.capabilities.shots
    E = np.linspace(-3, 90, 50)
    np.testing.assert_array_equal(backend.transmission(E, paper_barrier), transmission(E, paper_barrier))


def test_options_validate_and_override_per_call(paper_barrier):
    backend = get_backend("analytic", sigma_k=0.05)
    E = np.array([3.0, 30.0, 60.0])
    np.testing.assert_allclose(backend.transmission(E, paper_barrier), packet_transmission(E, paper_barrier, 0.05))
    # A per-call override applies to that call only.
    np.testing.assert_allclose(backend.transmission(E, paper_barrier, sigma_k=None), transmission(E, paper_barrier))
    assert backend.options.sigma_k == 0.05
    with pytest.raises(ValueError, match="option 'sigma_k' must be"):
        backend.transmission(E, paper_barrier, sigma_k=-1.0)
    with pytest.raises(ValueError, match="unknown option 'shots'; known options: sigma_k"):
        get_backend("analytic", shots=100)
    backend.set_options(sigma_k=None)
    assert backend.options.sigma_k is None


def test_importing_and_analytic_backend_stay_light():
    code = ("import sys, qthybrid; qthybrid.get_backend('analytic').transmission([1.0]);"
            "print(sorted(m for m in ('torch', 'qiskit', 'qiskit_aer', 'pennylane') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_barrier_must_be_a_barrier():
    with pytest.raises(TypeError, match="barrier must be a qthybrid.Barrier"):
        transmission(1.0, barrier=(30.0, 0.5))
