"""QTActivation: gradients against finite differences, dtypes, devices, learnable barrier, the fused kernel."""

import importlib.machinery
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from qthybrid import Barrier, dtransmission_dE, transmission  # noqa: E402
from qthybrid.nn import AnalyticQT, QTActivation, qt_activation  # noqa: E402
from qthybrid.nn import functional  # noqa: E402
from qthybrid.nn.kernels import cpu as cpu_kernel  # noqa: E402
from qthybrid.nn.kernels import fused_backend  # noqa: E402

#: The float32 accuracy promised for the fused kernel against the float64 reference.
T_RTOL, T_ATOL, SLOPE_RTOL = 2e-6, 1e-7, 1e-5
#: dT/dz below float32's normal range keeps only its subnormal spacing (rounded, then times the gradient).
SLOPE_ATOL = 2 * float(np.finfo(np.float32).smallest_subnormal)


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


# --- the fused float32 kernel --------------------------------------------------------------------------


@pytest.fixture
def fused_cpu():
    backend = fused_backend(torch.device("cpu"))
    if backend is None:
        pytest.skip("no C compiler here: the fused kernel cannot be built (the torch path serves float32)")
    return backend


def adversarial_eps(g: float, rng) -> np.ndarray:
    """eps = E / V0 at random and at hard places: near 0 and 1, where the float32 series hands over to the
    double-precision branches (|g^2 (1 - eps)| = 1), on and around resonances and transmission minima, and far
    above the barrier (sin/cos arguments beyond the kernel's own reduction, eps beyond the float64 kernel's cap)."""
    n = np.arange(1, 400)
    resonances = 1 + (n * np.pi / g) ** 2
    minima = 1 + ((n + 0.5) * np.pi / g) ** 2
    resonances, minima = resonances[resonances < 1000], minima[minima < 1000]
    return np.concatenate([
        rng.uniform(-10, 1000, 4000), 10 ** rng.uniform(-12, 3, 4000), -(10 ** rng.uniform(-12, 1, 200)),
        10 ** rng.uniform(3, 12, 200),
        [0.0, -0.0, 1.0, 1000.0, -10.0],
        1 + rng.choice([-1, 1], 2000) * 10 ** rng.uniform(-9, 0, 2000),
        1 + 1 / g**2 + rng.normal(0, 1e-4, 500), max(0.0, 1 - 1 / g**2) + np.abs(rng.normal(0, 1e-4, 500)),
        np.repeat(resonances, 4) * (1 + rng.normal(0, 1e-6, 4 * resonances.size)),
        np.repeat(minima, 4) * (1 + rng.normal(0, 1e-3, 4 * minima.size)),
    ])


def assert_within_promise(T, slope, z, ampl, barrier, weights=1.0):
    """T and ``weights`` * dT/dz within the promised bounds of the float64 reference."""
    E = ampl * np.asarray(z, dtype=np.float64)
    reference = transmission(E, barrier)
    reference_slope = np.asarray(weights, dtype=np.float64) * ampl * dtransmission_dE(E, barrier)
    T, slope = np.asarray(T, dtype=np.float64), np.asarray(slope, dtype=np.float64)
    T_error = np.abs(T - reference) / np.maximum(T_RTOL * np.abs(reference), T_ATOL)
    slope_error = np.abs(slope - reference_slope) / (SLOPE_RTOL * np.abs(reference_slope) + SLOPE_ATOL)
    worst = int(np.argmax(slope_error))
    assert T_error.max() <= 1, f"T off by {T_error.max():.3g} x the bound at E = {E[np.argmax(T_error)]!r}"
    assert slope_error.max() <= 1, (f"dT/dz off by {slope_error.max():.3g} x the bound at E = {E[worst]!r} "
                                    f"({slope[worst]!r} vs {reference_slope[worst]!r})")


@pytest.mark.parametrize("g", [0.05, 0.5, 2.0, 5.0, 20.0, 50.0])
@pytest.mark.parametrize("ampl, V0", [(10.0, 30.0), (3.0, 7.3)])
def test_float32_values_and_gradients_match_the_float64_reference(fused_cpu, g, ampl, V0):
    barrier = Barrier(V0=V0, g=g)
    z = torch.tensor(adversarial_eps(g, np.random.default_rng(int(10 * g))) * V0 / ampl, dtype=torch.float32)
    z.requires_grad_()
    T = QTActivation(ampl=ampl, barrier=barrier)(z)
    weights = torch.rand(z.shape, generator=torch.Generator().manual_seed(1)) + 0.5
    T.backward(weights)
    assert T.dtype == torch.float32
    assert_within_promise(T.detach(), z.grad, z.detach(), ampl, barrier, weights)


def test_the_kernels_entry_points_agree(fused_cpu):
    z = torch.tensor(adversarial_eps(0.7, np.random.default_rng(3)) * 3, dtype=torch.float32)
    grad = torch.randn(z.shape, generator=torch.Generator().manual_seed(2))
    T, slope = fused_cpu.transmission_and_slope(z, 10.0, 30.0, 0.7, 10.0)
    assert torch.equal(fused_cpu.transmission(z, 10.0, 30.0, 0.7), T)
    # The same float32 arithmetic, but the compiler may fuse a multiply-add differently in each entry point.
    np.testing.assert_allclose(fused_cpu.input_gradient(z, grad, 10.0, 30.0, 0.7, 10.0).numpy(),
                               (grad * slope).numpy(), rtol=1e-6, atol=SLOPE_ATOL)
    assert_within_promise(T, slope, z, 10.0, Barrier(30.0, 0.7))


def test_float32_paper_gradient_drops_the_chain_factor(fused_cpu, paper_barrier):
    z = torch.linspace(-1, 40, 4001, dtype=torch.float32, requires_grad=True)
    QTActivation(barrier=paper_barrier, paper_gradient=True)(z).sum().backward()
    reference = dtransmission_dE(10.0 * z.detach().double().numpy(), paper_barrier)
    np.testing.assert_allclose(z.grad.double().numpy(), reference, rtol=SLOPE_RTOL, atol=SLOPE_ATOL)


def test_float32_special_values_follow_the_float64_path(fused_cpu):
    values = [float("nan"), float("-inf"), float("inf"), 0.0, -0.0, -1.0, 1e-45, 3.0, 1e30]
    z32 = torch.tensor(values, dtype=torch.float32, requires_grad=True)
    z64 = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    out32, out64 = QTActivation()(z32), QTActivation()(z64)
    out32.sum().backward()
    out64.sum().backward()
    np.testing.assert_allclose(out32.detach().double().numpy(), out64.detach().numpy(), rtol=T_RTOL, atol=T_ATOL,
                               equal_nan=True)
    np.testing.assert_allclose(z32.grad.double().numpy(), z64.grad.numpy(), rtol=SLOPE_RTOL, atol=SLOPE_ATOL,
                               equal_nan=True)
    assert torch.isnan(out32[0]) and torch.isnan(z32.grad[0]) and out32[1] == 0 and z32.grad[1] == 0


@pytest.mark.parametrize("paper_gradient", [False, True])
def test_float32_learnable_barrier_gets_the_float64_gradients(fused_cpu, paper_gradient):
    z = torch.linspace(-0.5, 12, 3001, dtype=torch.float64)
    weights = torch.cos(z)
    grads = {}
    for dtype in (torch.float32, torch.float64):
        layer = QTActivation(barrier=Barrier(V0=20.0, g=1.3), learnable=True, paper_gradient=paper_gradient)
        (layer(z.to(dtype)) * weights.to(dtype)).sum().backward()
        grads[dtype] = np.array([layer.raw_V0.grad.item(), layer.raw_g.grad.item()])
    np.testing.assert_allclose(grads[torch.float32], grads[torch.float64], rtol=1e-4)


def test_without_a_fused_kernel_float32_takes_the_torch_path(fused_cpu, monkeypatch):
    z = torch.linspace(-1, 30, 2001, dtype=torch.float32, requires_grad=True)
    fused = QTActivation()(z)
    monkeypatch.setattr(functional, "fused_backend", lambda device: None)
    z_torch = z.detach().clone().requires_grad_()
    torch_path = QTActivation()(z_torch)
    assert torch_path.grad_fn.name() == "AnalyticQTBackward"
    np.testing.assert_allclose(torch_path.detach().numpy(), fused.detach().numpy(), atol=1e-6)


def test_a_failed_build_warns_once_and_falls_back(tmp_path, monkeypatch):
    monkeypatch.setenv("QTHYBRID_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(cpu_kernel, "_prebuilt", lambda: None)
    monkeypatch.setattr(cpu_kernel, "_compiler", lambda: ["false"])   # a "compiler" that always fails
    cpu_kernel.library.cache_clear()
    try:
        with pytest.warns(cpu_kernel.KernelFallbackWarning, match="could not be built"):
            assert fused_backend(torch.device("cpu")) is None
        z = torch.linspace(0, 3, 11, dtype=torch.float32)
        np.testing.assert_allclose(QTActivation()(z).numpy(), transmission(10 * z.double().numpy()), atol=1e-6)
    finally:
        cpu_kernel.library.cache_clear()


def test_the_kernel_builds_into_an_empty_cache_and_nowhere_else(fused_cpu, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("QTHYBRID_CACHE_DIR", str(cache))
    monkeypatch.setattr(cpu_kernel, "_prebuilt", lambda: None)   # as an install without the built extension
    cpu_kernel.library.cache_clear()
    try:
        assert cpu_kernel.library() is not None
        built = sorted(p.relative_to(cache).as_posix() for p in cache.rglob("*"))
        assert len(built) == 2 and built[0] == "kernels" and built[1].startswith("kernels/qt_kernel-")
        z = torch.linspace(-1, 30, 1001)
        np.testing.assert_array_equal(cpu_kernel.transmission(z, 10.0, 30.0, 0.5).numpy(),
                                      QTActivation()(z).numpy())
    finally:
        cpu_kernel.library.cache_clear()


FRESH_PROCESS = textwrap.dedent("""
    import torch
    from qthybrid.nn import QTActivation
    from qthybrid.nn.kernels import cpu, fused_backend
    cpu._prebuilt = lambda: None   # as an install without the built extension: the cache serves
    z = torch.linspace(-1, 30, 1001)
    print(fused_backend(z.device) is not None, float(QTActivation()(z).double().sum()))
""")


@pytest.mark.slow
def test_fresh_processes_build_once_and_write_only_to_the_cache(fused_cpu, tmp_path):
    dirs = {name: tmp_path / name for name in ("cache", "home", "tmp", "cwd")}
    for path in dirs.values():
        path.mkdir()
    env = {**os.environ, "QTHYBRID_CACHE_DIR": str(dirs["cache"]), "HOME": str(dirs["home"]),
           "TMPDIR": str(dirs["tmp"]), "PYTHONDONTWRITEBYTECODE": "1"}
    outputs, libraries = [], []
    for _ in range(2):
        result = subprocess.run([sys.executable, "-c", FRESH_PROCESS], env=env, cwd=dirs["cwd"],
                                capture_output=True, text=True, check=True)
        outputs.append(result.stdout.split())
        libraries.append([(p.name, p.stat().st_mtime_ns) for p in (dirs["cache"] / "kernels").iterdir()])
    assert outputs[0][0] == "True" and outputs[0] == outputs[1]
    assert len(libraries[0]) == 1 and libraries[1] == libraries[0]     # the second process reused the build
    assert float(outputs[0][1]) == pytest.approx(transmission(10 * np.linspace(-1, 30, 1001)).sum(), rel=1e-6)
    for name in ("home", "tmp", "cwd"):
        assert not list(dirs[name].iterdir()), f"the processes wrote into {name}"


def test_the_install_s_build_is_used_only_while_it_is_current(tmp_path, monkeypatch):
    source = tmp_path / "qt_kernel.c"
    source.write_text("/* the kernel */")
    built = tmp_path / (cpu_kernel.PREBUILT_STEM + importlib.machinery.EXTENSION_SUFFIXES[0])
    built.write_bytes(b"")
    monkeypatch.setattr(cpu_kernel, "SOURCE", source)
    os.utime(source, (1_000_000, 1_000_000))
    assert cpu_kernel._prebuilt() == built
    os.utime(source, (built.stat().st_mtime + 10,) * 2)   # the source edited after the install
    assert cpu_kernel._prebuilt() is None


def test_an_installed_build_is_loaded_when_present(fused_cpu):
    prebuilt = cpu_kernel._prebuilt()
    if prebuilt is None:
        pytest.skip("no current build from the install here (the cached build serves)")
    assert cpu_kernel.library()._name == str(prebuilt)


class _Activated(torch.utils.data.Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, index):
        z = torch.linspace(-1.0, 10.0, 200_000)
        return QTActivation()(z).sum()


def test_dataloader_workers_forked_after_the_kernel_ran_get_the_same_values(fused_cpu):
    """Forked workers (one thread each, as DataLoader sets) must not wait on the parent's OpenMP team."""
    QTActivation()(torch.rand(1_000_000))              # the parent's OpenMP team has run
    expected = QTActivation()(torch.linspace(-1.0, 10.0, 200_000)).sum()
    loader = torch.utils.data.DataLoader(_Activated(), num_workers=2, batch_size=1,
                                         multiprocessing_context="fork", timeout=120)
    values = torch.cat(list(loader))
    assert torch.allclose(values, expected.expand(4))


def test_the_kernel_shares_torch_s_openmp_runtime(fused_cpu):
    """Built with OpenMP, the kernel must run on the runtime torch loaded (soname libgomp.so.1), not load
    the system's copy beside it. (Aer and scikit-learn bring their own, renamed copies: not counted.)"""
    maps = Path("/proc/self/maps")
    if not maps.exists():
        pytest.skip("needs /proc/self/maps (Linux)")
    cpu_kernel.library()
    runtimes = {line.split()[-1] for line in maps.read_text().splitlines() if line.endswith("/libgomp.so.1")}
    if not runtimes:
        pytest.skip("no libgomp.so.1 loaded: torch here uses another OpenMP runtime")
    assert len(runtimes) == 1, runtimes


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("g", [0.5, 5.0, 50.0])
def test_cuda_float32_matches_the_float64_reference(g):
    barrier = Barrier(V0=30.0, g=g)
    z = torch.tensor(adversarial_eps(g, np.random.default_rng(5)) * 3.0, dtype=torch.float32)
    z_gpu = z.cuda().requires_grad_()
    T = QTActivation(barrier=barrier).cuda()(z_gpu)
    T.backward(torch.ones_like(T))
    assert T.grad_fn.name() == "FusedQTBackward"
    assert_within_promise(T.detach().cpu(), z_gpu.grad.cpu(), z, 10.0, barrier)


TRITON_INTERPRETED = textwrap.dedent("""
    import numpy as np, torch
    from qthybrid.nn.kernels import cuda
    eps = np.load({path!r})
    z = torch.tensor(eps * 3.0, dtype=torch.float32)
    T, slope = cuda.transmission_and_slope(z, 10.0, 30.0, {g}, 10.0)
    grad = cuda.input_gradient(z, torch.full_like(z, 2.0), 10.0, 30.0, {g}, 10.0)
    torch.testing.assert_close(cuda.transmission(z, 10.0, 30.0, {g}), T, rtol=0, atol=0, equal_nan=True)
    np.save({out!r}, np.stack([T.numpy(), slope.numpy(), grad.numpy()]))
""")


@pytest.mark.slow
@pytest.mark.parametrize("g", [0.5, 20.0])
def test_the_triton_kernel_in_triton_s_interpreter(g, tmp_path):
    """Checks the CUDA kernel's arithmetic on CPU where Triton is installed (CUDA builds of torch)."""
    pytest.importorskip("triton")
    barrier = Barrier(V0=30.0, g=g)
    eps = adversarial_eps(g, np.random.default_rng(6))[::4]
    np.save(tmp_path / "eps.npy", eps)
    code = TRITON_INTERPRETED.format(path=str(tmp_path / "eps.npy"), out=str(tmp_path / "out.npy"), g=g)
    subprocess.run([sys.executable, "-c", code], env={**os.environ, "TRITON_INTERPRET": "1"}, check=True,
                   capture_output=True)
    T, slope, grad = np.load(tmp_path / "out.npy")
    z = (eps * 3.0).astype(np.float32)
    assert_within_promise(T, slope, z, 10.0, barrier)
    np.testing.assert_allclose(grad, 2 * slope, rtol=1e-6, atol=SLOPE_ATOL)
