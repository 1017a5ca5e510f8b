"""qthybrid.optimize.qde: scipy's calling convention (a drop-in for dual_annealing), budgets, callbacks."""

import inspect

import numpy as np
import pytest
from scipy.optimize import Bounds, OptimizeResult, dual_annealing

from qthybrid.optimize import qde


def wells(x, tilt=0.5):
    """Scalar objective of one point: x^4 - 2 x^2 + tilt x per coordinate (global well near x = -1.06)."""
    x = np.asarray(x, dtype=float)
    assert x.ndim == 1, "qde must call func with one point, like scipy"
    return float(np.sum(x**4 - 2 * x**2 + tilt * x))


def wells_minimum(tilt=0.5):
    t = np.linspace(-2, 0, 400_001)
    return float(np.min(t**4 - 2 * t**2 + tilt * t))


class CallCounter:
    def __init__(self, f):
        self.f, self.calls = f, 0

    def __call__(self, x, *args):
        self.calls += 1
        return self.f(x, *args)


def test_signature_starts_like_dual_annealing_and_takes_its_keywords():
    ours = list(inspect.signature(qde).parameters)
    theirs = list(inspect.signature(dual_annealing).parameters)
    assert ours[:5] == theirs[:5] == ["func", "bounds", "args", "maxiter", "minimizer_kwargs"]
    for name in ("maxfun", "rng", "seed", "no_local_search", "callback", "x0"):
        assert name in ours


def test_drop_in_call_with_args_returns_a_scipy_result_whose_x_and_fun_agree():
    counted = CallCounter(wells)
    result = qde(counted, [(-2.0, 2.0)] * 3, args=(0.5,), seed=1)
    assert isinstance(result, OptimizeResult)
    for key in ("x", "fun", "nfev", "nit", "success", "status", "message", "trajectory"):
        assert key in result
    assert result.x.shape == (3,) and isinstance(result.fun, float)
    assert result.fun == wells(result.x, 0.5) == pytest.approx(3 * wells_minimum(0.5), abs=1e-9)
    assert result.nfev == counted.calls and result.success


def test_vectorized_func_gets_scipy_layout_and_gives_the_same_run():
    shapes = []

    def batch(x, tilt):
        shapes.append(x.shape)
        return np.sum(x**4 - 2 * x**2 + tilt * x, axis=0)

    vectorised = qde(batch, [(-2.0, 2.0)] * 4, args=(0.5,), seed=7, vectorized=True)
    scalar = qde(wells, [(-2.0, 2.0)] * 4, args=(0.5,), seed=7)
    assert all(shape[0] == 4 and len(shape) == 2 for shape in shapes)
    assert sum(shape[1] for shape in shapes) == vectorised.nfev == scalar.nfev
    np.testing.assert_allclose(vectorised.x, scalar.x, atol=1e-12)


def test_seed_and_rng_reproduce_and_differ():
    first = qde(wells, [(-2.0, 2.0)] * 3, seed=3)
    again = qde(wells, [(-2.0, 2.0)] * 3, rng=3)
    generator = qde(wells, [(-2.0, 2.0)] * 3, rng=np.random.default_rng(3))
    assert first.nfev == again.nfev == generator.nfev and np.array_equal(first.x, again.x)
    other = qde(wells, [(-2.0, 2.0)] * 3, seed=4)
    assert other.nfev != first.nfev or not np.array_equal(other.trajectory[0]["mean"], first.trajectory[0]["mean"])
    legacy = qde(wells, [(-2.0, 2.0)] * 3, seed=np.random.RandomState(3))
    assert legacy.success


@pytest.mark.parametrize("budget", [30, 250, 900])
def test_budget_is_honoured_under_both_names(budget):
    counted = CallCounter(wells)
    result = qde(counted, [(-2.0, 2.0)] * 5, seed=0, maxfev=budget)
    assert counted.calls == result.nfev <= budget
    assert not result.success and result.status == 1 and "budget" in result.message
    assert qde(wells, [(-2.0, 2.0)] * 5, seed=0, maxfun=budget).nfev == result.nfev
    with pytest.raises(ValueError, match="maxfev or maxfun"):
        qde(wells, [(-2.0, 2.0)] * 2, maxfev=100, maxfun=200)


def test_dual_annealing_style_callback_sees_each_new_minimum_and_can_stop():
    seen = []

    def callback(x, f, context):
        seen.append((np.array(x), f, context))

    result = qde(wells, [(-2.0, 2.0)] * 3, seed=2, callback=callback)
    values = [f for _, f, _ in seen]
    assert values == sorted(values, reverse=True) and values[-1] == result.fun
    assert {context for _, _, context in seen} <= {0, 1} and 0 in {context for _, _, context in seen}
    assert all(wells(x) == f for x, f, _ in seen)
    stopped = qde(wells, [(-2.0, 2.0)] * 3, seed=2, callback=lambda x, f, context: len(seen) > 0)
    assert not stopped.success and stopped.status == 3 and stopped.nfev < result.nfev


def test_intermediate_result_callback_is_called_per_stage():
    stages = []

    def callback(intermediate_result):
        stages.append(intermediate_result.nit)

    result = qde(wells, [(-2.0, 2.0)] * 3, seed=2, callback=callback)
    assert stages == list(range(1, result.nit + 1))


def test_bounds_object_x0_minimizer_kwargs_and_no_local_search():
    bounds = Bounds([-2.0, -2.0], [2.0, 2.0])
    x0 = np.array([-1.06, -1.06])
    result = qde(wells, bounds, seed=1, x0=x0, minimizer_kwargs={"method": "Nelder-Mead",
                                                                   "options": {"xatol": 1e-10, "fatol": 1e-14}})
    assert result.fun <= wells(x0) and result.fun == pytest.approx(2 * wells_minimum(), abs=1e-8)
    rough = qde(wells, bounds, seed=1, no_local_search=True)
    assert rough.fun == pytest.approx(2 * wells_minimum(), abs=1e-2)
    limited = qde(wells, bounds, seed=1, maxiter=1, replicas=1)
    assert limited.nit == 1


def test_bad_calls_are_refused_with_the_parameter_named():
    with pytest.raises(TypeError, match="func must be callable"):
        qde(3.0, [(-1, 1)])
    with pytest.raises(ValueError, match="func must return one number"):
        qde(lambda x: x, [(-1, 1)] * 2)
    with pytest.raises(ValueError, match="non-finite values"):
        qde(lambda x: float("nan") if x[0] > 0.5 else 0.0, [(-1, 1)], seed=0)
    with pytest.raises(ValueError, match="bounds"):
        qde(wells, [(1, -1)])
    with pytest.raises(ValueError, match="bounds"):
        qde(wells, [])
    with pytest.raises(ValueError, match="maxiter"):
        qde(wells, [(-1, 1)], maxiter=0)
    with pytest.raises(ValueError, match="seed or rng"):
        qde(wells, [(-1, 1)], seed=1, rng=2)
    with pytest.raises(TypeError, match="walkerz"):
        qde(wells, [(-1, 1)], walkerz=3)
