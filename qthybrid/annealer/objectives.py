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
    """x^4 - 2 x^2 + 0.3 x summed over coordinates: the global well is at x ~ -1.04."""
    x = np.asarray(x, dtype=float)
    return np.sum(x**4 - 2 * x**2 + 0.3 * x, -1)


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
                                               ((-1.0416,),), float(tilted_double_well(np.array([-1.04160]))))
