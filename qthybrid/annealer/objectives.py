"""Standard test functions for the annealer: vectorised over points, with known minima.

Each function takes an array of shape (..., d) and returns shape (...). A
``TestFunction`` bundles it with its usual box, global minimiser(s) and minimum.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


def ackley(x):
    x = np.asarray(x, dtype=float)
    d = x.shape[-1]
    return (-20 * np.exp(-0.2 * np.sqrt(np.sum(x**2, -1) / d)) - np.exp(np.sum(np.cos(2 * np.pi * x), -1) / d)
            + 20 + np.e)


def rastrigin(x):
    x = np.asarray(x, dtype=float)
    return 10 * x.shape[-1] + np.sum(x**2 - 10 * np.cos(2 * np.pi * x), -1)


def levy(x):
    w = 1 + (np.asarray(x, dtype=float) - 1) / 4
    head = np.sin(np.pi * w[..., 0]) ** 2
    middle = np.sum((w[..., :-1] - 1) ** 2 * (1 + 10 * np.sin(np.pi * w[..., :-1] + 1) ** 2), -1)
    tail = (w[..., -1] - 1) ** 2 * (1 + np.sin(2 * np.pi * w[..., -1]) ** 2)
    return head + middle + tail


def griewank(x):
    x = np.asarray(x, dtype=float)
    i = np.arange(1, x.shape[-1] + 1)
    return 1 + np.sum(x**2, -1) / 4000 - np.prod(np.cos(x / np.sqrt(i)), -1)


def styblinski_tang(x):
    x = np.asarray(x, dtype=float)
    return 0.5 * np.sum(x**4 - 16 * x**2 + 5 * x, -1)


def michalewicz(x, m: int = 10):
    x = np.asarray(x, dtype=float)
    i = np.arange(1, x.shape[-1] + 1)
    return -np.sum(np.sin(x) * np.sin(i * x**2 / np.pi) ** (2 * m), -1)


def holder_table(x):
    x = np.asarray(x, dtype=float)
    x1, x2 = x[..., 0], x[..., 1]
    return -np.abs(np.sin(x1) * np.cos(x2) * np.exp(np.abs(1 - np.sqrt(x1**2 + x2**2) / np.pi)))


def drop_wave(x):
    x = np.asarray(x, dtype=float)
    r2 = np.sum(x**2, -1)
    return -(1 + np.cos(12 * np.sqrt(r2))) / (0.5 * r2 + 2)


def rosenbrock(x):
    x = np.asarray(x, dtype=float)
    return np.sum(100 * (x[..., 1:] - x[..., :-1] ** 2) ** 2 + (1 - x[..., :-1]) ** 2, -1)


def himmelblau(x):
    x = np.asarray(x, dtype=float)
    x1, x2 = x[..., 0], x[..., 1]
    return (x1**2 + x2 - 11) ** 2 + (x1 + x2**2 - 7) ** 2


def tilted_double_well(x):
    """x^4 - 2 x^2 + 0.3 x summed over coordinates: the global well is at x = -1.03558 (f = -1.30543),
    the other at x = 0.96015 (f = -0.70585)."""
    x = np.asarray(x, dtype=float)
    return np.sum(x**4 - 2 * x**2 + 0.3 * x, -1)


def schwefel(x):
    x = np.asarray(x, dtype=float)
    return 418.9828872724338 * x.shape[-1] - np.sum(x * np.sin(np.sqrt(np.abs(x))), -1)


def alpine(x):
    x = np.asarray(x, dtype=float)
    return np.sum(np.abs(x * np.sin(x) + 0.1 * x), -1)


def zakharov(x):
    x = np.asarray(x, dtype=float)
    s = np.sum(0.5 * np.arange(1, x.shape[-1] + 1) * x, -1)
    return np.sum(x**2, -1) + s**2 + s**4


def dixon_price(x):
    x = np.asarray(x, dtype=float)
    i = np.arange(2, x.shape[-1] + 1)
    return (x[..., 0] - 1) ** 2 + np.sum(i * (2 * x[..., 1:] ** 2 - x[..., :-1]) ** 2, -1)


def salomon(x):
    r = np.sqrt(np.sum(np.asarray(x, dtype=float) ** 2, -1))
    return 1 - np.cos(2 * np.pi * r) + 0.1 * r


def qing(x):
    x = np.asarray(x, dtype=float)
    return np.sum((x**2 - np.arange(1, x.shape[-1] + 1)) ** 2, -1)


def different_powers(x):
    x = np.asarray(x, dtype=float)
    return np.sum(np.abs(x) ** (np.arange(1, x.shape[-1] + 1) + 1), -1)


def eggholder(x):
    x = np.asarray(x, dtype=float)
    x1, x2 = x[..., 0], x[..., 1]
    return -(x2 + 47) * np.sin(np.sqrt(np.abs(x2 + x1 / 2 + 47))) - x1 * np.sin(np.sqrt(np.abs(x1 - (x2 + 47))))


def six_hump_camel(x):
    x = np.asarray(x, dtype=float)
    x1, x2 = x[..., 0], x[..., 1]
    return (4 - 2.1 * x1**2 + x1**4 / 3) * x1**2 + x1 * x2 + (-4 + 4 * x2**2) * x2**2


def three_hump_camel(x):
    x = np.asarray(x, dtype=float)
    x1, x2 = x[..., 0], x[..., 1]
    return 2 * x1**2 - 1.05 * x1**4 + x1**6 / 6 + x1 * x2 + x2**2


def branin(x):
    x = np.asarray(x, dtype=float)
    x1, x2 = x[..., 0], x[..., 1]
    return (x2 - 5.1 / (4 * np.pi**2) * x1**2 + 5 / np.pi * x1 - 6) ** 2 + 10 * (1 - 1 / (8 * np.pi)) * np.cos(x1) + 10


def shubert(x):
    x = np.asarray(x, dtype=float)
    i = np.arange(1, 6)
    return np.prod(np.sum(i * np.cos((i + 1) * x[..., None] + i), -1), -1)


def easom(x):
    x = np.asarray(x, dtype=float)
    x1, x2 = x[..., 0], x[..., 1]
    return -np.cos(x1) * np.cos(x2) * np.exp(-((x1 - np.pi) ** 2 + (x2 - np.pi) ** 2))


def cross_in_tray(x):
    x = np.asarray(x, dtype=float)
    x1, x2 = x[..., 0], x[..., 1]
    return -1e-4 * (np.abs(np.sin(x1) * np.sin(x2) * np.exp(np.abs(100 - np.sqrt(x1**2 + x2**2) / np.pi))) + 1) ** 0.1


def goldstein_price(x):
    x = np.asarray(x, dtype=float)
    x1, x2 = x[..., 0], x[..., 1]
    return ((1 + (x1 + x2 + 1) ** 2 * (19 - 14 * x1 + 3 * x1**2 - 14 * x2 + 6 * x1 * x2 + 3 * x2**2))
            * (30 + (2 * x1 - 3 * x2) ** 2 * (18 - 32 * x1 + 12 * x1**2 + 48 * x2 - 36 * x1 * x2 + 27 * x2**2)))


def schaffer2(x):
    x = np.asarray(x, dtype=float)
    x1, x2 = x[..., 0], x[..., 1]
    return 0.5 + (np.sin(x1**2 - x2**2) ** 2 - 0.5) / (1 + 0.001 * (x1**2 + x2**2)) ** 2


def schaffer4(x):
    x = np.asarray(x, dtype=float)
    x1, x2 = x[..., 0], x[..., 1]
    return 0.5 + (np.cos(np.sin(np.abs(x1**2 - x2**2))) ** 2 - 0.5) / (1 + 0.001 * (x1**2 + x2**2)) ** 2


def bukin6(x):
    x = np.asarray(x, dtype=float)
    x1, x2 = x[..., 0], x[..., 1]
    return 100 * np.sqrt(np.abs(x2 - 0.01 * x1**2)) + 0.01 * np.abs(x1 + 10)


def beale(x):
    x = np.asarray(x, dtype=float)
    x1, x2 = x[..., 0], x[..., 1]
    return (1.5 - x1 + x1 * x2) ** 2 + (2.25 - x1 + x1 * x2**2) ** 2 + (2.625 - x1 + x1 * x2**3) ** 2


def levy13(x):
    x = np.asarray(x, dtype=float)
    x1, x2 = x[..., 0], x[..., 1]
    return (np.sin(3 * np.pi * x1) ** 2 + (x1 - 1) ** 2 * (1 + np.sin(3 * np.pi * x2) ** 2)
            + (x2 - 1) ** 2 * (1 + np.sin(2 * np.pi * x2) ** 2))


def bohachevsky(x):
    x = np.asarray(x, dtype=float)
    x1, x2 = x[..., 0], x[..., 1]
    return x1**2 + 2 * x2**2 - 0.3 * np.cos(3 * np.pi * x1) - 0.4 * np.cos(4 * np.pi * x2) + 0.7


def mccormick(x):
    x = np.asarray(x, dtype=float)
    x1, x2 = x[..., 0], x[..., 1]
    return np.sin(x1 + x2) + (x1 - x2) ** 2 - 1.5 * x1 + 2.5 * x2 + 1


def foxholes(x):
    """De Jong's fifth function (Shekel's foxholes): 25 narrow wells on a 5 x 5 lattice."""
    x = np.asarray(x, dtype=float)
    grid = np.array([-32, -16, 0, 16, 32], dtype=float)
    a1, a2 = np.tile(grid, 5), np.repeat(grid, 5)
    j = np.arange(1, 26)
    inner = j + (x[..., 0, None] - a1) ** 6 + (x[..., 1, None] - a2) ** 6
    return 1 / (0.002 + np.sum(1 / inner, -1))


@dataclass(frozen=True)
class TestFunction:
    """A benchmark function with its box, minimiser(s) and minimum value."""

    name: str
    function: Callable
    bounds: tuple            #: (low, high) per coordinate (for d = 2)
    minimisers: tuple        #: global minimisers (for d = 2)
    minimum: float

    def __call__(self, x):
        return self.function(x)


SUITE_2D = (
    TestFunction("ackley", ackley, ((-5, 5), (-5, 5)), ((0.0, 0.0),), 0.0),
    TestFunction("rastrigin", rastrigin, ((-5.12, 5.12), (-5.12, 5.12)), ((0.0, 0.0),), 0.0),
    TestFunction("levy", levy, ((-10, 10), (-10, 10)), ((1.0, 1.0),), 0.0),
    TestFunction("griewank", griewank, ((-10, 10), (-10, 10)), ((0.0, 0.0),), 0.0),
    TestFunction("styblinski_tang", styblinski_tang, ((-5, 5), (-5, 5)),
                 ((-2.903534, -2.903534),), -78.33233140754282),
    TestFunction("michalewicz", michalewicz, ((0, np.pi), (0, np.pi)), ((2.202906, 1.570796),),
                 -1.8013034100985537),
    TestFunction("holder_table", holder_table, ((-10, 10), (-10, 10)),
                 ((8.05502, 9.66459), (-8.05502, 9.66459), (8.05502, -9.66459), (-8.05502, -9.66459)),
                 -19.208502567767606),
    TestFunction("drop_wave", drop_wave, ((-5.12, 5.12), (-5.12, 5.12)), ((0.0, 0.0),), -1.0),
    TestFunction("rosenbrock", rosenbrock, ((-2, 2), (-1, 3)), ((1.0, 1.0),), 0.0),
    TestFunction("himmelblau", himmelblau, ((-5, 5), (-5, 5)),
                 ((3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848127)), 0.0),
)

FUNCTIONS = {f.name: f for f in SUITE_2D}
FUNCTIONS["tilted_double_well"] = TestFunction("tilted_double_well", tilted_double_well, ((-2, 2),),
                                               ((-1.0355787,),), -1.305428483743916)


#: More 2-D functions by name (benchmarks and the CLI); minimisers approximate to ~1e-5.
for _function in (
    TestFunction("eggholder", eggholder, ((-512, 512), (-512, 512)), ((512.0, 404.2318),), -959.6406627208506),
    TestFunction("six_hump_camel", six_hump_camel, ((-3, 3), (-2, 2)), ((0.0898, -0.7126), (-0.0898, 0.7126)),
                 -1.0316284534898774),
    TestFunction("three_hump_camel", three_hump_camel, ((-5, 5), (-5, 5)), ((0.0, 0.0),), 0.0),
    TestFunction("branin", branin, ((-5, 10), (0, 15)), ((-np.pi, 12.275), (np.pi, 2.275), (9.42478, 2.475)),
                 0.39788735772973816),
    TestFunction("shubert", shubert, ((-10, 10), (-10, 10)), ((-7.0835, 4.8580), (-7.0835, -7.7083),
                                                             (4.8580, -7.0835), (5.48286, 4.85806)),
                 -186.73090883102375),
    TestFunction("easom", easom, ((-100, 100), (-100, 100)), ((np.pi, np.pi),), -1.0),
    TestFunction("cross_in_tray", cross_in_tray, ((-10, 10), (-10, 10)),
                 ((1.34941, 1.34941), (-1.34941, 1.34941), (1.34941, -1.34941), (-1.34941, -1.34941)),
                 -2.0626118708227397),
    TestFunction("goldstein_price", goldstein_price, ((-2, 2), (-2, 2)), ((0.0, -1.0),), 3.0),
    TestFunction("schaffer2", schaffer2, ((-100, 100), (-100, 100)), ((0.0, 0.0),), 0.0),
    TestFunction("schaffer4", schaffer4, ((-100, 100), (-100, 100)), ((0.0, 1.253115), (0.0, -1.253115),
                                                                   (1.253115, 0.0), (-1.253115, 0.0)),
                 0.2925786320359),
    TestFunction("bukin6", bukin6, ((-15, -5), (-3, 3)), ((-10.0, 1.0),), 0.0),
    TestFunction("beale", beale, ((-4.5, 4.5), (-4.5, 4.5)), ((3.0, 0.5),), 0.0),
    TestFunction("levy13", levy13, ((-10, 10), (-10, 10)), ((1.0, 1.0),), 0.0),
    TestFunction("bohachevsky", bohachevsky, ((-100, 100), (-100, 100)), ((0.0, 0.0),), 0.0),
    TestFunction("mccormick", mccormick, ((-1.5, 4), (-3, 4)), ((-0.54719, -1.54719),), -1.913222954981037),
    TestFunction("foxholes", foxholes, ((-65.536, 65.536), (-65.536, 65.536)), ((-31.97833, -31.97833),),
                 0.998003837794449),
    TestFunction("schwefel", schwefel, ((-500, 500), (-500, 500)), ((420.968746, 420.968746),), 0.0),
):
    FUNCTIONS[_function.name] = _function


@dataclass(frozen=True)
class ScalableFunction:
    """A function defined in any dimension d, with its box per coordinate and its minimum."""

    name: str
    function: Callable
    box: tuple                                   #: (low, high) of every coordinate
    minimiser: Callable[[int], np.ndarray]       #: a global minimiser in d dimensions
    shiftable: bool = True                       #: stays the same problem when moved inside its box

    def bounds(self, d: int) -> list:
        return [tuple(self.box)] * d

    def __call__(self, x):
        return self.function(x)


def _constant(value):
    return lambda d: np.full(d, float(value))


def _michalewicz_minimiser(d: int, m: int = 10) -> np.ndarray:
    """Michalewicz is separable: each coordinate minimised on its own (fine grid, then Brent)."""
    from scipy.optimize import minimize_scalar

    grid = np.linspace(0.0, np.pi, 200_001)
    x = np.empty(d)
    for i in range(1, d + 1):
        term = lambda t: -np.sin(t) * np.sin(i * t**2 / np.pi) ** (2 * m)   # noqa: E731
        centre = grid[np.argmin(term(grid))]
        x[i - 1] = minimize_scalar(term, bounds=(max(0.0, centre - 1e-4), min(np.pi, centre + 1e-4)),
                                   method="bounded", options={"xatol": 1e-13}).x
    return x


SCALABLE = {f.name: f for f in (
    ScalableFunction("rastrigin", rastrigin, (-5.12, 5.12), _constant(0.0)),
    ScalableFunction("ackley", ackley, (-32.768, 32.768), _constant(0.0)),
    ScalableFunction("griewank", griewank, (-600.0, 600.0), _constant(0.0)),
    ScalableFunction("levy", levy, (-10.0, 10.0), _constant(1.0)),
    ScalableFunction("schwefel", schwefel, (-500.0, 500.0), _constant(420.9687462275036), shiftable=False),
    ScalableFunction("styblinski_tang", styblinski_tang, (-5.0, 5.0), _constant(-2.903534027771178)),
    ScalableFunction("rosenbrock", rosenbrock, (-5.0, 10.0), _constant(1.0)),
    ScalableFunction("alpine", alpine, (-10.0, 10.0), _constant(0.0)),
    ScalableFunction("zakharov", zakharov, (-5.0, 10.0), _constant(0.0)),
    ScalableFunction("dixon_price", dixon_price, (-10.0, 10.0),
                     lambda d: 2.0 ** (-(2.0 ** np.arange(1, d + 1) - 2) / 2.0 ** np.arange(1, d + 1)), shiftable=False),
    ScalableFunction("salomon", salomon, (-100.0, 100.0), _constant(0.0)),
    ScalableFunction("qing", qing, (-500.0, 500.0), lambda d: np.sqrt(np.arange(1.0, d + 1))),
    ScalableFunction("different_powers", different_powers, (-1.0, 1.0), _constant(0.0)),
    ScalableFunction("michalewicz", michalewicz, (0.0, np.pi), _michalewicz_minimiser, shiftable=False),
    ScalableFunction("tilted_double_well", tilted_double_well, (-2.0, 2.0), _constant(-1.0355787)),
)}
