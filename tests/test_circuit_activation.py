"""QTActivation on circuit backends: tabulated curve, disk cache, exact mode, training with Aer."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("qiskit_aer")

import qthybrid  # noqa: E402
from qthybrid import Barrier  # noqa: E402
from qthybrid.nn import QTActivation, TabulatedQT  # noqa: E402
from qthybrid.programs import PacketScattering  # noqa: E402

# 10 qubits, eps from ~0.39: small enough to tabulate in seconds on Aer.
COMPACT = PacketScattering(num_qubits=10, barrier_points=4, g=0.5, sigma_k=0.08, dt=0.05,
                           separation_sigmas=3.0, name="compact")


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("QTHYBRID_CACHE_DIR", str(tmp_path / "cache"))


def test_table_reproduces_the_backend_between_knots():
    layer = TabulatedQT("statevector", Barrier(), ampl=10.0, backend_options={"scattering": COMPACT}, num_points=24)
    knots = layer.knots.numpy()
    knots = knots[knots >= layer.eps_range[0]]             # the simulated knots (below: the threshold law)
    midpoints = np.sqrt(knots[1:-1] * knots[2:])          # geometric midpoints of interior intervals
    z = torch.as_tensor(midpoints * 30.0 / 10.0)
    simulated = qthybrid.get_backend("statevector", scattering=COMPACT).transmission(midpoints * 30.0, Barrier())
    np.testing.assert_allclose(layer(z).numpy(), simulated, atol=3e-3)


def test_below_the_simulated_range_the_table_follows_the_threshold_law():
    """T proportional to eps at low energy, joined to the lowest simulated knot: close to the closed form."""
    layer = TabulatedQT("statevector", Barrier(), ampl=10.0)
    eps = np.geomspace(1e-4, 0.06, 12)
    assert layer.eps_range[0] > eps.max()                  # all of these lie below the simulated range
    z = torch.as_tensor(eps * 30.0 / 10.0)
    np.testing.assert_allclose(layer(z).detach().numpy(), qthybrid.transmission(eps * 30.0, Barrier()),
                               rtol=1e-2, atol=0)


def test_table_gradient_is_the_interpolants_derivative_with_the_chain_factor():
    layer = QTActivation(backend="statevector", backend_options={"scattering": COMPACT})
    z = torch.tensor([0.5, 1.3, 4.0, 12.0], dtype=torch.float64, requires_grad=True)
    layer(z).sum().backward()
    h = 1e-6
    numeric = (layer(z.detach() + h) - layer(z.detach() - h)) / (2 * h)
    np.testing.assert_allclose(z.grad.numpy(), numeric.numpy(), rtol=1e-5, atol=1e-9)
    paper = QTActivation(backend="statevector", backend_options={"scattering": COMPACT}, paper_gradient=True)
    z2 = z.detach().clone().requires_grad_()
    paper(z2).sum().backward()
    np.testing.assert_allclose(z2.grad.numpy(), z.grad.numpy() / 10.0, rtol=1e-12)


def test_table_limits_zero_below_and_flat_above():
    layer = QTActivation(backend="statevector", backend_options={"scattering": COMPACT})
    out = layer(torch.tensor([-3.0, 0.0, 1e4, 2e4], dtype=torch.float64))
    assert out[0] == 0 and out[1] == 0 and out[2] == out[3] and 0.95 < out[2] <= 1.0


def test_curve_is_cached_on_disk(monkeypatch, tmp_path):
    backend = qthybrid.get_backend("statevector", scattering=COMPACT)
    first = TabulatedQT(backend, Barrier(), ampl=10.0, num_points=12)

    def forbidden(*args, **kwargs):
        raise AssertionError("simulated again")

    monkeypatch.setattr(type(backend), "transmission", forbidden)
    second = TabulatedQT(backend, Barrier(), ampl=10.0, num_points=12)
    assert torch.equal(first.values, second.values)
    assert len(list((tmp_path / "cache").glob("curve-statevector-compact-*.npz"))) == 1
    # A different barrier height is a different curve: it must be simulated again.
    with pytest.raises(AssertionError, match="simulated again"):
        TabulatedQT(backend, Barrier(V0=20.0), ampl=10.0, num_points=12)


def test_corrupt_cache_entry_is_recomputed(tmp_path):
    backend = qthybrid.get_backend("statevector", scattering=COMPACT)
    reference = TabulatedQT(backend, Barrier(), ampl=10.0, num_points=12).values.clone()
    (entry,) = (tmp_path / "cache").glob("*.npz")
    entry.write_bytes(b"not a numpy archive")
    again = TabulatedQT(backend, Barrier(), ampl=10.0, num_points=12)
    assert torch.equal(again.values, reference)


def test_exact_mode_simulates_each_value_and_checks_the_range():
    exact = QTActivation(backend="statevector", backend_options={"scattering": COMPACT}, mode="exact")
    z = torch.tensor([2.0, 2.0, 5.0, -1.0], dtype=torch.float64, requires_grad=True)
    out = exact(z)
    simulated = qthybrid.get_backend("statevector", scattering=COMPACT).transmission([20.0, 50.0], Barrier())
    np.testing.assert_allclose(out.detach().numpy(), [simulated[0], simulated[0], simulated[1], 0.0], atol=1e-12)
    out.sum().backward()
    table = QTActivation(backend="statevector", backend_options={"scattering": COMPACT})
    zt = z.detach().clone().requires_grad_()
    table(zt).sum().backward()
    np.testing.assert_allclose(z.grad.numpy()[:3], zt.grad.numpy()[:3], rtol=0.2, atol=2e-3)
    with pytest.raises(ValueError, match="mode='exact' can simulate"):
        exact(torch.tensor([0.01], dtype=torch.float64))


def test_circuit_backends_refuse_learnable_barriers_and_analytic_tables():
    with pytest.raises(ValueError, match="learnable=True needs backend='analytic'"):
        QTActivation(backend="aer", learnable=True)
    with pytest.raises(ValueError, match="does not run Schrodinger programs"):
        TabulatedQT("analytic", Barrier(), ampl=10.0)


def test_a_qt_network_trains_with_the_aer_backend():
    from sklearn.datasets import make_moons

    X, y = make_moons(n_samples=300, noise=0.15, random_state=0)
    X = torch.as_tensor(X, dtype=torch.float32)
    y = torch.as_tensor(y)
    torch.manual_seed(0)
    activation = QTActivation(ampl=3.0, backend="aer", backend_options={"scattering": COMPACT}, table_points=16)
    model = torch.nn.Sequential(torch.nn.Linear(2, 32), activation, torch.nn.Linear(32, 2))
    optimiser = torch.optim.Adam(model.parameters(), lr=0.03)
    for _ in range(300):
        optimiser.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(X), y)
        loss.backward()
        optimiser.step()
    accuracy = (model(X).argmax(1) == y).float().mean().item()
    assert accuracy > 0.95, accuracy
