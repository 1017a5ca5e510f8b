"""qthybrid's PennyLane operations: exact matrices, decompositions for other devices, default.qubit kernels."""

import numpy as np
import pytest

qml = pytest.importorskip("pennylane")

from qthybrid.circuits.builder import dense_kinetic_unitary, dft_matrix  # noqa: E402
from qthybrid.circuits.pennylane_ops import simulator_operations  # noqa: E402

KineticStep, ForwardDFT, PhaseDiagonal = simulator_operations()


@pytest.mark.parametrize("n", [3, 7])
def test_kinetic_step_matrix_decomposition_and_kernel_agree(n):
    wires = list(range(n))[::-1]                 # big-endian, as the programs pass registers
    op = KineticStep(0.37, wires=wires)
    np.testing.assert_allclose(op.matrix(), dense_kinetic_unitary(n, 0.37), atol=1e-12)
    decomposed = qml.matrix(qml.prod(*reversed(op.decomposition())), wire_order=wires)
    np.testing.assert_allclose(decomposed, op.matrix(), atol=1e-10)
    state = np.random.default_rng(n).normal(size=2**n) + 1j * np.random.default_rng(n + 1).normal(size=2**n)
    state /= np.linalg.norm(state)

    @qml.qnode(qml.device("default.qubit", wires=n))
    def evolve():
        qml.StatePrep(state, wires=range(n))
        KineticStep(0.37, wires=wires)
        return qml.state()

    np.testing.assert_allclose(evolve(), op.matrix(wire_order=range(n)) @ state, atol=1e-12)   # the FFT kernel


@pytest.mark.parametrize("n", [4, 8])
def test_forward_dft_is_numpys_transform_on_every_path(n):
    wires = list(range(n))[::-1]
    op = ForwardDFT(wires=wires)
    np.testing.assert_allclose(op.matrix(), dft_matrix(n), atol=1e-12)
    decomposed = qml.matrix(qml.prod(*reversed(op.decomposition())), wire_order=wires)
    np.testing.assert_allclose(decomposed, dft_matrix(n), atol=1e-10)


def test_phase_diagonal_kernel_on_a_subset_of_wires():
    phases = np.exp(1j * np.arange(8) * 0.3)
    state = np.full(32, 1 / np.sqrt(32), dtype=complex)

    @qml.qnode(qml.device("default.qubit", wires=5))
    def apply(op_class):
        qml.StatePrep(state, wires=range(5))
        op_class(phases, wires=[3, 1, 4])
        return qml.state()

    np.testing.assert_allclose(apply(PhaseDiagonal), apply(qml.DiagonalQubitUnitary), atol=1e-12)
