"""The closed-form physics against independent references (mpmath, quadrature, limits)."""

import math
import warnings

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate

from qthybrid import (Barrier, dtransmission_dE, hill_wheeler_transmission, logistic_transmission,
                      packet_transmission, transmission)
from qthybrid.physics import ELECTRON_MASS_KG

mp.mp.dps = 60


def reference_T(E, V0, g):
    """Textbook rectangular-barrier transmission in 60-digit arithmetic (independent of the package)."""
    eps = mp.mpf(E) / mp.mpf(V0)
    g = mp.mpf(g)
    if eps <= 0:
        return mp.mpf(0)
    if eps == 1:
        return 1 / (1 + g**2 / 4)
    if eps < 1:
        kappa_L = g * mp.sqrt(1 - eps)
        return 1 / (1 + mp.sinh(kappa_L) ** 2 / (4 * eps * (1 - eps)))
    k_L = g * mp.sqrt(eps - 1)
    return 1 / (1 + mp.sin(k_L) ** 2 / (4 * eps * (eps - 1)))


EPS_GRID = np.concatenate([np.logspace(-8, 4, 241), 1 - np.logspace(-12, -1, 12), 1 + np.logspace(-12, -1, 12)])


@pytest.mark.parametrize("g", [0.01, 0.1, 0.5, 1.0, 3.0, 7.5, 20.0])
def test_transmission_matches_high_precision_reference(g):
    V0 = 30.0
    E = EPS_GRID * V0
    T = transmission(E, Barrier(V0, g))
    assert T.dtype == np.float64
    for E_i, T_i in zip(E, T):
        ref = reference_T(E_i, V0, g)
        assert abs(mp.mpf(T_i) - ref) <= 1e-12 * ref, (E_i, T_i, ref)


@pytest.mark.parametrize("g", [0.01, 0.5, 3.0, 20.0])
def test_derivative_matches_high_precision_reference(g):
    V0 = 30.0
    eps = np.concatenate([np.logspace(-6, 3, 40), [1 - 1e-9, 1.0, 1 + 1e-9, 1 + 1e-3]])
    E = eps * V0
    dT = dtransmission_dE(E, Barrier(V0, g))
    for E_i, d_i in zip(E, dT):
        ref = mp.diff(lambda x: reference_T(x, V0, g), mp.mpf(E_i))
        assert abs(mp.mpf(d_i) - ref) <= 1e-9 * abs(ref) + 1e-300, (E_i, d_i, ref)


def test_closed_form_limits():
    b = Barrier(30.0, 0.5)
    assert transmission(30.0, b) == pytest.approx(1 / (1 + 0.25 / 4), rel=1e-15)
    assert dtransmission_dE(0.0, b) == pytest.approx(4 / (30.0 * math.sinh(0.5) ** 2), rel=1e-14)
    g2 = 0.25
    assert dtransmission_dE(30.0, b) == pytest.approx(4 / 3 * g2 * (g2 + 3) / (30.0 * (g2 + 4) ** 2), rel=1e-13)
    assert transmission(np.array([-5.0, 0.0]), b).tolist() == [0.0, 0.0]
    assert dtransmission_dE(-1.0, b) == 0.0


def test_paper_values_with_ampl_10(paper_barrier):
    # papers.md, table of T against z for ampl = 10 (the authors' code).
    z = np.array([0.01, 0.1, 0.2, 0.5, 1.0, 2.0, 10.0])
    expected = [0.047, 0.330, 0.497, 0.713, 0.835, 0.912, 0.985]
    np.testing.assert_allclose(transmission(10 * z, paper_barrier), expected, atol=5e-4)


def test_thick_barrier_does_not_overflow():
    thick = Barrier(30.0, 2000.0)
    E = np.array([1e-3, 1.0, 15.0, 29.0, 29.9999])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        T = transmission(E, thick)
        dT = dtransmission_dE(E, thick)
    assert np.all(np.isfinite(T)) and np.all(np.isfinite(dT))
    assert np.all(T[:-1] < 1e-300)
    # Just below the top (u = g sqrt(1 - eps) = 3.7) a thick barrier still lets some through.
    assert T[-1] == pytest.approx(float(reference_T(E[-1], 30.0, 2000.0)), rel=1e-11)


def test_float32_and_scalars_keep_their_type(paper_barrier):
    out32 = transmission(np.array([1.0, 40.0], dtype=np.float32), paper_barrier)
    assert out32.dtype == np.float32
    np.testing.assert_allclose(out32, transmission(np.array([1.0, 40.0]), paper_barrier), rtol=1e-6)
    assert isinstance(transmission(3.0, paper_barrier), np.floating)
    assert transmission([1, 2], paper_barrier).dtype == np.float64


def test_torch_in_torch_out(paper_barrier):
    torch = pytest.importorskip("torch")
    E = torch.tensor([0.5, 30.0, 45.0], dtype=torch.float32)
    T = transmission(E, paper_barrier)
    assert isinstance(T, torch.Tensor) and T.dtype == torch.float32
    np.testing.assert_allclose(T.numpy(), transmission(E.double().numpy(), paper_barrier), rtol=2e-6)
    T_half = transmission(E.half(), paper_barrier)
    assert T_half.dtype == torch.float16


@settings(max_examples=200, deadline=None)
@given(E=st.floats(-1e6, 1e6, allow_nan=False), V0=st.floats(0.01, 1e3), g=st.floats(0.01, 50))
def test_transmission_is_a_probability(E, V0, g):
    T = transmission(E, Barrier(V0, g))
    assert 0.0 <= T <= 1.0


@settings(max_examples=100, deadline=None)
@given(V0=st.floats(0.1, 1e3), g=st.floats(0.01, 20))
def test_continuous_across_the_barrier_top(V0, g):
    b = Barrier(V0, g)
    below, top, above = transmission(V0 * np.array([1 - 1e-9, 1.0, 1 + 1e-9]), b)
    slope = abs(dtransmission_dE(V0, b)) * V0
    assert abs(below - top) <= 2e-9 * (slope + 1) and abs(above - top) <= 2e-9 * (slope + 1)


@settings(max_examples=200, deadline=None)
@given(E=st.floats(-1e6, 1e6, allow_nan=False, width=32), g=st.floats(0.05, 20))
def test_float32_gradients_are_finite(E, g):
    torch = pytest.importorskip("torch")
    from qthybrid.nn import qt_activation

    z = torch.tensor([E], dtype=torch.float32, requires_grad=True)
    qt_activation(z, ampl=1.0, V0=30.0, g=g).sum().backward()
    assert torch.isfinite(z.grad).all()


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_energies_are_refused(bad, paper_barrier):
    with pytest.raises(ValueError, match="E must be finite"):
        transmission(np.array([1.0, bad]), paper_barrier)


@pytest.mark.parametrize("kwargs, name", [({"V0": 0.0}, "V0"), ({"V0": -3.0}, "V0"), ({"g": 0.0}, "g"),
                                          ({"g": -1.0}, "g"), ({"g": float("nan")}, "g")])
def test_bad_barriers_are_refused(kwargs, name):
    with pytest.raises(ValueError, match=f"{name} must be finite and > 0"):
        Barrier(**kwargs)


@pytest.mark.parametrize("bad", [np.array([1 + 2j]), np.array(["1.0"]), np.array([True])])
def test_wrong_dtypes_are_refused(bad, paper_barrier):
    with pytest.raises(TypeError, match="E must"):
        transmission(bad, paper_barrier)


def test_barrier_width_conversion():
    # papers.md: the authors' L for V0 = 30 eV, g = 0.5 and an electron is 1.78e-11 m.
    hbar, qe = 1.054571817e-34, 1.60217663e-19
    L_paper = 0.5 * hbar / math.sqrt(2 * 9.1093837e-31 * qe * 30.0)
    assert Barrier(30.0, 0.5).width_nm() * 1e-9 == pytest.approx(L_paper, rel=1e-6)
    b = Barrier.from_width(V0=12.0, width_nm=0.3)
    assert b.width_nm() == pytest.approx(0.3, rel=1e-14)
    heavier = Barrier.from_width(V0=12.0, width_nm=0.3, mass_kg=4 * ELECTRON_MASS_KG)
    assert heavier.g == pytest.approx(2 * b.g, rel=1e-14)
    with pytest.raises(ValueError, match="width_nm"):
        Barrier.from_width(V0=1.0, width_nm=-1.0)


@pytest.mark.parametrize("E, sigma_k", [(3.0, 0.04), (30.0, 0.1), (300.0, 0.3), (0.5, 0.02)])
def test_packet_average_matches_direct_quadrature(E, sigma_k, paper_barrier):
    k0 = math.sqrt(E / paper_barrier.V0)

    def integrand(k):
        density = math.exp(-0.5 * ((k - k0) / sigma_k) ** 2) / (math.sqrt(2 * math.pi) * sigma_k)
        return density * float(reference_T(paper_barrier.V0 * k * k, paper_barrier.V0, paper_barrier.g))

    expected, _ = integrate.quad(integrand, 0.0, k0 + 12 * sigma_k, points=[k0], limit=200)
    assert packet_transmission(E, paper_barrier, sigma_k) == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_narrow_packet_tends_to_plane_wave(paper_barrier):
    E = np.array([3.0, 15.0, 60.0])
    np.testing.assert_allclose(packet_transmission(E, paper_barrier, 1e-4), transmission(E, paper_barrier),
                               rtol=1e-6)


def test_packet_refuses_bad_input(paper_barrier):
    with pytest.raises(ValueError, match="E must be >= 0"):
        packet_transmission(-1.0, paper_barrier)
    with pytest.raises(ValueError, match="sigma_k must be > 0"):
        packet_transmission(1.0, paper_barrier, 0.0)


def test_hill_wheeler_is_logistic_in_energy():
    E = np.linspace(20, 40, 11)
    T = hill_wheeler_transmission(E, V0=30.0, hbar_omega=2.0)
    np.testing.assert_allclose(T, 1 / (1 + np.exp(2 * np.pi * (30.0 - E) / 2.0)), rtol=1e-14)
    assert hill_wheeler_transmission(30.0, V0=30.0, hbar_omega=2.0) == 0.5
    np.testing.assert_allclose(T + T[::-1], 1.0, rtol=1e-14)
    np.testing.assert_allclose(logistic_transmission(E, alpha=np.pi, beta=30.0), T, rtol=1e-14)
    assert logistic_transmission(-1e6, alpha=1.0) == 0.0
    with pytest.raises(ValueError, match="hbar_omega"):
        hill_wheeler_transmission(E, hbar_omega=0.0)
