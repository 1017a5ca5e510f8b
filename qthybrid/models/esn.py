"""Echo state network with a QT (or tanh) reservoir, as a scikit-learn regressor.

State update (leaky): x <- (1 - a) x + a act(W_in [1; u] + W x), with W dense
U(-0.5, 0.5) rescaled to ``spectral_radius``; for ``activation="qt"`` act(z) is
T(ampl z) of the paper's barrier. The readout is ridge regression on [1; u; x]
after ``washout`` steps. ``fit(U, Y)`` drives the reservoir with the input
sequence U (rows are time steps) against targets Y; ``predict(U)`` drives it
from the state the fit ended in; ``generate(n, u0)`` free-runs, feeding each
output back as the next input (the paper's generative mode).

``random_state`` follows scikit-learn: an int seeds a ``np.random.RandomState``
(MT19937), so ``random_state=42`` (or ``np.random.RandomState(42)``) draws exactly
the paper's reservoir, which its script makes after ``np.random.seed(42)``: W_in
first, then W, each U(-0.5, 0.5). A ``np.random.Generator`` is used as given.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from ..physics import Barrier, transmission


class EchoStateNetwork(RegressorMixin, BaseEstimator):
    def __init__(self, n_reservoir: int = 1000, leak: float = 0.3, spectral_radius: float = 1.25,
                 input_scaling: float = 0.5, ridge: float = 1e-8, activation: str = "qt", ampl: float = 3.0,
                 V0: float = 30.0, g: float = 0.5, washout: int = 100,
                 random_state: int | np.random.RandomState | np.random.Generator | None = 42):
        self.n_reservoir = n_reservoir
        self.leak = leak
        self.spectral_radius = spectral_radius
        self.input_scaling = input_scaling
        self.ridge = ridge
        self.activation = activation
        self.ampl = ampl
        self.V0 = V0
        self.g = g
        self.washout = washout
        self.random_state = random_state

    def _act(self, z):
        if self.activation == "qt":
            return transmission(self.ampl * z, Barrier(self.V0, self.g))
        if self.activation == "tanh":
            return np.tanh(z)
        raise ValueError(f"activation must be 'qt' or 'tanh', got {self.activation!r}")

    def _step(self, x, u):
        """One leaky reservoir update driven by input ``u``."""
        return (1 - self.leak) * x + self.leak * self._act(self.W_in_ @ np.concatenate([[1.0], u]) + self.W_ @ x)

    def _run(self, U, x):
        states = np.empty((len(U), self.n_reservoir))
        for t, u in enumerate(U):
            x = self._step(x, u)
            states[t] = x
        return states, x

    def _features(self, U, states):
        return np.hstack([np.ones((len(U), 1)), U, states])

    def fit(self, X, y):
        X, y = validate_data(self, X, y, multi_output=True, y_numeric=True, dtype=np.float64)
        if not (0 < self.leak <= 1) or self.n_reservoir < 1 or self.ridge < 0:
            raise ValueError("need 0 < leak <= 1, n_reservoir >= 1, ridge >= 0")
        rng = (self.random_state if isinstance(self.random_state, np.random.Generator)
               else check_random_state(self.random_state))
        self.W_in_ = rng.uniform(-self.input_scaling, self.input_scaling, (self.n_reservoir, 1 + X.shape[1]))
        W = rng.uniform(-0.5, 0.5, (self.n_reservoir, self.n_reservoir))
        radius = np.max(np.abs(np.linalg.eigvals(W)))
        self.W_ = W * (self.spectral_radius / radius)
        states, self.state_ = self._run(X, np.zeros(self.n_reservoir))
        washout = min(self.washout, len(X) - 1)
        features = self._features(X, states)[washout:]
        targets = y[washout:]
        gram = features.T @ features + self.ridge * np.eye(features.shape[1])
        self.W_out_ = np.linalg.solve(gram, features.T @ targets).T
        return self

    def predict(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        states, _ = self._run(X, self.state_)
        out = self._features(X, states) @ self.W_out_.T
        return out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def generate(self, n_steps: int, u0) -> np.ndarray:
        """Free-run ``n_steps`` from the fitted state, feeding each output back as input."""
        check_is_fitted(self)
        x, u = self.state_.copy(), np.atleast_1d(np.asarray(u0, dtype=float))
        outputs = []
        for _ in range(n_steps):
            x = self._step(x, u)
            y = self.W_out_ @ np.concatenate([[1.0], u, x])
            outputs.append(y)
            u = np.atleast_1d(y)
        outputs = np.array(outputs).reshape(n_steps, -1)
        return outputs[:, 0] if outputs.shape[1] == 1 else outputs
