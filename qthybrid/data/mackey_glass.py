"""The Mackey-Glass series: dx/dt = beta x(t - tau) / (1 + x(t - tau)^n) - gamma x(t).

Integrated with RK4 at step ``h`` (delayed values interpolated linearly in the
stored history), history x = 1.2 for t <= 0, a transient discarded, then sampled
every ``dt``. ``transform="tanh"`` returns tanh(x - 1), the form of the
MackeyGlass_t17.txt file the ESN paper uses.
"""

from __future__ import annotations

import numpy as np


def mackey_glass(n_samples: int = 10_000, tau: float = 17.0, beta: float = 0.2, gamma: float = 0.1,
                 n: float = 10.0, dt: float = 1.0, h: float = 0.1, transient: float = 1000.0,
                 x0: float = 1.2, transform: str | None = "tanh") -> np.ndarray:
    """``n_samples`` values of the series (float64)."""
    if tau <= 0 or h <= 0 or dt <= 0 or n_samples < 1:
        raise ValueError("tau, h and dt must be > 0 and n_samples >= 1")
    per_sample = int(round(dt / h))
    if abs(per_sample * h - dt) > 1e-9:
        raise ValueError(f"dt ({dt}) must be a multiple of h ({h})")
    lag = tau / h
    total = int(round((transient + n_samples * dt) / h))
    history = np.empty(total + 1)
    history[0] = x0

    def delayed(index: float) -> float:
        if index <= 0:
            return x0
        low = int(np.floor(index))
        frac = index - low
        return history[low] if frac == 0 else (1 - frac) * history[low] + frac * history[low + 1]

    def rate(x, x_tau):
        return beta * x_tau / (1 + x_tau**n) - gamma * x

    for i in range(total):
        x = history[i]
        d0, d_half, d1 = delayed(i - lag), delayed(i + 0.5 - lag), delayed(i + 1 - lag)
        k1 = rate(x, d0)
        k2 = rate(x + 0.5 * h * k1, d_half)
        k3 = rate(x + 0.5 * h * k2, d_half)
        k4 = rate(x + h * k3, d1)
        history[i + 1] = x + h * (k1 + 2 * k2 + 2 * k3 + k4) / 6
    start = int(round(transient / h))
    series = history[start: start + n_samples * per_sample: per_sample]
    if transform == "tanh":
        return np.tanh(series - 1.0)
    if transform is None:
        return series
    raise ValueError(f"transform must be 'tanh' or None, got {transform!r}")
