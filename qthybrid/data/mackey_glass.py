"""The Mackey-Glass series: the standard data file, and a generator.

:func:`load_mackey_glass` reads a plain-text series, one value per line. With no
path it reads ``MackeyGlass_t17.txt`` shipped in this package: the standard series
(delay tau = 17, 10,000 values, tanh(x - 1) of the delay equation below) that
Mantas Lukoševičius distributes with his minimal echo state network examples
(MIT-licensed code, (c) 2012-2020 Mantas Lukoševičius), https://mantas.info/code/simple_esn/.
The QT-ESN paper's script reads this file; the copy here is byte-identical to the
one distributed there (SHA-256 7772906806bf183df89f684abfda817c4cabb50d4bb213c27c1f9d73e1192717,
CRLF line ends).

:func:`mackey_glass` integrates dx/dt = beta x(t - tau) / (1 + x(t - tau)^n) - gamma x(t)
with RK4 at step ``h`` (delayed values interpolated linearly in the stored
history), history x = 1.2 for t <= 0, a transient discarded, then sampled every
``dt``. ``transform="tanh"`` returns tanh(x - 1), the form of the standard file.
It has the file's statistics (range, zero crossings, autocorrelation) but not its
values: the file's initial history and integrator are not published.
"""

from __future__ import annotations

import warnings
from importlib import resources
from pathlib import Path

import numpy as np

#: The standard series' file name inside the ``qthybrid.data`` package.
STANDARD_FILE = "MackeyGlass_t17.txt"


def load_mackey_glass(path: str | Path | None = None) -> np.ndarray:
    """A series from a plain-text file, one value per line, as a 1-D float64 array.

    ``path=None`` reads the standard ``MackeyGlass_t17.txt`` shipped with qthybrid
    (10,000 values of tanh(x - 1), tau = 17; see the module docstring for its source).
    Raises FileNotFoundError for a missing file and ValueError, naming the file,
    for text that is not one finite number per line.
    """
    if path is None:
        with resources.as_file(resources.files(__package__) / STANDARD_FILE) as standard:
            return load_mackey_glass(standard)
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Mackey-Glass file not found: {path}")
    try:
        with warnings.catch_warnings():   # an empty file: our error below says it
            warnings.simplefilter("ignore", UserWarning)
            values = np.loadtxt(path, dtype=np.float64, ndmin=2)
    except ValueError as exc:
        raise ValueError(f"{path}: not a plain-text series of numbers, one per line ({exc})") from None
    if values.size == 0:
        raise ValueError(f"{path}: holds no values")
    if values.shape[1] != 1:
        raise ValueError(f"{path}: expected one value per line, found {values.shape[1]} columns")
    series = values[:, 0]
    bad = np.flatnonzero(~np.isfinite(series))
    if bad.size:
        raise ValueError(f"{path}: value {bad[0] + 1} is {series[bad[0]]}; every value must be finite")
    return series


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
