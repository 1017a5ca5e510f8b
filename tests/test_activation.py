"""QTActivation: gradients against finite differences, dtypes, devices, learnable barrier."""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from qthybrid import Barrier, dtransmission_dE, transmission  # noqa: E402
from qthybrid.nn import AnalyticQT, QTActivation, qt_activation  # noqa: E402


def test_forward_is_the_physics_kernel(paper_barrier):
    z = torch.linspace(-2, 20, 1001, dtype=torch.float64)
    out = QTActivation(ampl=10.0, barrier=paper_barrier)(z)
    np.testing.assert_allclose(out.numpy(), transmission(10 * z.numpy(), paper_barrier), rtol=1e-14, atol=0)


def test_gradcheck_in_z_V0_and_g():
    z = torch.tensor([-0.5, 1e-3, 0.05, 0.2, 2.9, 3.0, 3.1, 7.0, 40.0], dtype=torch.float64, requires_grad=True)
    V0 = torch.tensor(30.0, dtype=torch.float64, requires_grad=True)
    g = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda z, V0, g: AnalyticQT.apply(z, 10.0, V0, g, False), (z, V0, g))
    thick = torch.tensor(6.0, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda z, V0, g: AnalyticQT.apply(z, 10.0, V0, g, False), (z, V0, thick))


def test_backward_includes_the_chain_factor_and_the_paper_flag_drops_it(paper_barrier):
    z = torch.tensor([0.05, 0.5, 2.0, 0.0], dtype=torch.float64, requires_grad=True)
    QTActivation(ampl=10.0, barrier=paper_barrier)(z).sum().backward()
    true_grad = 10.0 * dtransmission_dE(10.0 * z.detach().numpy(), paper_barrier)
    np.testing.assert_allclose(z.grad.numpy(), true_grad, rtol=1e-13)
    assert z.grad[-1] == pytest.approx(10.0 * 4 / (30.0 * math.sinh(0.5) ** 2))  # finite at E = 0
    z.grad = None
    QTActivation(ampl=10.0, barrier=paper_barrier, paper_gradient=True)(z).sum().backward()
    np.testing.assert_allclose(z.grad.numpy(), true_grad / 10.0, rtol=1e-13)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16])
def test_any_shape_and_float_dtype(dtype):
    z = torch.randn(2, 3, 4, 5, dtype=torch.float32).to(dtype).requires_grad_()
    out = QTActivation()(z)
    assert out.shape == z.shape and out.dtype == dtype
    out.float().sum().backward()
    assert z.grad.dtype == dtype and torch.isfinite(z.grad.float()).all()
    reference = transmission(10 * z.detach().double().numpy(), Barrier())
    tolerance = {torch.float64: 1e-14, torch.float32: 1e-6, torch.float16: 2e-3, torch.bfloat16: 1e-2}[dtype]
    np.testing.assert_allclose(out.detach().double().numpy(), reference, atol=tolerance)


def test_integer_tensors_are_refused():
    with pytest.raises(TypeError, match="z must be a floating-point tensor"):
        QTActivation()(torch.arange(5))


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="ampl must be"):
        QTActivation(ampl=-1.0)
    with pytest.raises(TypeError, match="barrier must be"):
        QTActivation(barrier=30.0)


def test_learnable_barrier_stays_positive_and_learns():
    torch.manual_seed(0)
    target = QTActivation(ampl=1.0, barrier=Barrier(V0=2.0, g=1.5))
    model = QTActivation(ampl=1.0, barrier=Barrier(V0=4.0, g=0.5), learnable=True)
    assert model.barrier.V0 == pytest.approx(4.0) and model.barrier.g == pytest.approx(0.5)
    z = torch.linspace(0.01, 6, 200, dtype=torch.float64)
    optimiser = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(400):
        optimiser.zero_grad()
        loss = ((model(z) - target(z)) ** 2).mean()
        loss.backward()
        optimiser.step()
    assert loss.item() < 1e-6
    assert model.barrier.V0 == pytest.approx(2.0, rel=2e-2) and model.barrier.g == pytest.approx(1.5, rel=5e-2)


def test_functional_form_matches_module():
    z = torch.randn(100, dtype=torch.float64)
    np.testing.assert_array_equal(qt_activation(z, 3.0, 30.0, 0.5).numpy(), QTActivation(ampl=3.0)(z).numpy())


def test_nan_propagates_like_torch_activations():
    out = QTActivation()(torch.tensor([float("nan"), 1.0]))
    assert torch.isnan(out[0]) and torch.isfinite(out[1])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_matches_cpu():
    z = torch.randn(1000, dtype=torch.float64)
    cpu = QTActivation()(z)
    gpu = QTActivation().cuda()(z.cuda())
    np.testing.assert_allclose(gpu.cpu().numpy(), cpu.numpy(), rtol=1e-12)


@pytest.mark.slow
def test_torch_compile_gives_the_same_values_and_gradients():
    layer = QTActivation()
    compiled = torch.compile(layer)
    z = torch.randn(4096, dtype=torch.float32, requires_grad=True)
    z2 = z.detach().clone().requires_grad_()
    layer(z).sum().backward()
    compiled(z2).sum().backward()
    np.testing.assert_allclose(compiled(z2).detach().numpy(), layer(z).detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(z2.grad.numpy(), z.grad.numpy(), rtol=1e-4, atol=1e-6)
