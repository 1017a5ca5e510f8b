"""The tunnelling classifier of paper 3 as a scikit-learn estimator.

Q(x) = 1 / (1 + exp(alpha (beta - x))): alpha is the sharpness, beta the
threshold, fitted by BFGS on the (weighted) binary cross-entropy. On one
feature this is exactly logistic regression reparameterised (w = alpha,
b = -alpha beta), and the estimator reproduces scikit-learn's unpenalised
LogisticRegression; the physics is in the reading of the parameters. The
Hill-Wheeler transmission through an inverted parabolic barrier,
T(E) = 1 / (1 + exp(2 pi (V0 - E) / hbar omega)), is exactly this law with
alpha = 2 pi / (hbar omega) and beta = V0, so a fitted classifier *is* a
barrier (``barrier_``). ``activation="rectangular"`` swaps in the rectangular
barrier's T(eps) with eps = 1 + alpha (x - beta) (the barrier top at the
threshold; g = 2 makes T = 1/2 there, like the logistic law).

Several features are projected to the scalar x: ``"lda"`` (Fisher's
direction, fixed before the fit), ``"learned"`` (direction fitted jointly:
x = w.X with |w| = 1, so the model is multivariate logistic regression) or
``"none"`` (one feature only). More than two classes are one-vs-rest.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from .physics import Barrier
from .physics.barrier import G_MAX
from .physics.transmission import transmission_kernel
from ._arrays import numpy_namespace

_PROJECTIONS = ("auto", "none", "lda", "learned")
_ACTIVATIONS = ("logistic", "hill-wheeler", "rectangular")
_OPTIMIZERS = ("bfgs", "qde")
_LOG_FLOOR = 1e-300   # rectangular law: Q can be exactly 0 below the barrier bottom


def _lda_direction(X, y, weights):
    """Unit Fisher direction Sigma^-1 (mu1 - mu0) for a binary problem (ridge-stabilised)."""
    w1, w0 = weights * y, weights * (1 - y)
    mu1 = (w1 @ X) / w1.sum()
    mu0 = (w0 @ X) / w0.sum()
    centred = X - np.where(y[:, None] == 1, mu1, mu0)
    covariance = (centred * weights[:, None]).T @ centred / weights.sum()
    covariance += 1e-9 * (np.trace(covariance) / len(covariance) + 1e-12) * np.eye(len(covariance))
    direction = np.linalg.solve(covariance, mu1 - mu0)
    norm = np.linalg.norm(direction)
    return direction / norm if norm > 0 else np.eye(len(direction))[0]


class _BinaryFit:
    """Loss and gradient of one binary problem in the parameters the optimiser moves."""

    def __init__(self, activation, g, X, y, weights, learned):
        self.activation, self.g, self.X, self.y, self.learned = activation, g, X, y, learned
        self.weights = weights / weights.sum()

    def logits_and_jacobian(self, theta):
        """z (the logistic argument, or eps for the rectangular law) and dz/dtheta."""
        X = self.X
        if self.learned:      # theta = (v, b): z = v.x + b
            z = X @ theta[:-1] + theta[-1]
            return z, np.hstack([X, np.ones((len(X), 1))])
        alpha, beta = theta   # theta = (alpha, beta): z = alpha (x - beta)
        x = X[:, 0]
        return alpha * (x - beta), np.column_stack([x - beta, np.full_like(x, -alpha)])

    def __call__(self, theta):
        z, jacobian = self.logits_and_jacobian(theta)
        if self.activation == "rectangular":
            eps = 1.0 + z
            Q, dQ = transmission_kernel(numpy_namespace(), eps, np.asarray(self.g), with_derivative=True)
            Q_safe = np.clip(Q, _LOG_FLOOR, 1 - 1e-16)
            loss = -(self.y * np.log(Q_safe) + (1 - self.y) * np.log1p(-Q_safe))
            dloss_dz = np.where((Q > _LOG_FLOOR) & (Q < 1 - 1e-16),
                                (Q - self.y) / (Q_safe * (1 - Q_safe)) * dQ, 0.0)
        else:
            loss = np.logaddexp(0.0, -z) * self.y + np.logaddexp(0.0, z) * (1 - self.y)
            dloss_dz = expit(z) - self.y
        return float(self.weights @ loss), jacobian.T @ (self.weights * dloss_dz)


class TunnelingClassifier(ClassifierMixin, BaseEstimator):
    """Quantum-tunnelling classifier Q(x) = 1 / (1 + exp(alpha (beta - x))) (see module docstring).

    Args:
        alpha0, beta0: starting sharpness and threshold.
        projection: ``"auto"`` ("none" for one feature, else "learned"), ``"none"``,
            ``"lda"`` or ``"learned"``.
        activation: ``"logistic"``, ``"hill-wheeler"`` (the same law, read as a parabolic
            barrier) or ``"rectangular"``.
        g: barrier strength of the rectangular law.
        optimizer: ``"bfgs"`` (scipy) or ``"qde"`` (the QDE annealer's grid solver over
            alpha in (0, 20/std x], beta in [min x, max x], then its local polish; needs
            projection "none" or "lda").
        tol, max_iter: BFGS gradient tolerance and iteration limit.

    Attributes:
        classes_, n_features_in_, alpha_, beta_ (scalars for two classes, one per class
        otherwise), direction_ (unit projection direction(s)), n_iter_.
    """

    def __init__(self, alpha0: float = 1.0, beta0: float = 0.0, projection: str = "auto",
                 activation: str = "logistic", g: float = 2.0, optimizer: str = "bfgs",
                 tol: float = 1e-8, max_iter: int = 1000):
        self.alpha0 = alpha0
        self.beta0 = beta0
        self.projection = projection
        self.activation = activation
        self.g = g
        self.optimizer = optimizer
        self.tol = tol
        self.max_iter = max_iter

    # Validation ---------------------------------------------------------------------------
    def _check_params(self, n_features):
        for name, allowed in (("projection", _PROJECTIONS), ("activation", _ACTIVATIONS),
                              ("optimizer", _OPTIMIZERS)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")
        for name in ("alpha0", "beta0", "g", "tol"):
            value = getattr(self, name)
            if not (isinstance(value, numbers.Real) and math.isfinite(value)):
                raise ValueError(f"{name} must be a finite number, got {value!r}")
        if self.alpha0 <= 0 or self.g <= 0 or self.tol <= 0:
            raise ValueError("alpha0, g and tol must be > 0")
        if self.g > G_MAX:
            raise ValueError(f"g must be <= {G_MAX:g} (the rectangular law's barrier strength), got {self.g!r}")
        if not (isinstance(self.max_iter, numbers.Integral) and self.max_iter >= 1):
            raise ValueError(f"max_iter must be an int >= 1, got {self.max_iter!r}")
        projection = self.projection
        if projection == "auto":
            projection = "none" if n_features == 1 else "learned"
        if projection == "none" and n_features != 1:
            raise ValueError(f"projection='none' needs exactly one feature, got {n_features}; "
                             f"use 'lda' or 'learned'")
        if self.optimizer == "qde" and projection == "learned":
            raise ValueError("optimizer='qde' fits (alpha, beta) on a fixed projection: use projection='none' "
                             "(one feature) or 'lda'")
        return projection

    # Fitting ------------------------------------------------------------------------------
    def fit(self, X, y, sample_weight=None):
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        # Negative weights would make the loss unbounded below (alpha_ runs off to nan or infinity).
        sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
        sample_weight = sample_weight / sample_weight.max()   # max 1: huge weights cannot overflow their sum
        projection = self._check_params(X.shape[1])
        self.classes_ = np.unique(y)
        weighted = [c for c in self.classes_ if sample_weight[y == c].sum() > 0]
        if len(weighted) < 2:
            raise ValueError("Classifier can't train when only one class is present "
                             "(counting only classes with positive sample weight).")
        targets = [self.classes_[1]] if len(self.classes_) == 2 else list(self.classes_)
        fits = [self._fit_binary(X, (y == target).astype(np.float64), sample_weight, projection)
                for target in targets]
        self.alpha_, self.beta_, self.direction_, self.n_iter_ = (np.array(v) for v in zip(*fits))
        if len(self.classes_) == 2:
            self.alpha_, self.beta_, self.direction_ = self.alpha_[0], self.beta_[0], self.direction_[0]
            self.n_iter_ = int(self.n_iter_[0])
        return self

    def _fit_binary(self, X, y, weights, projection):
        # "learned" starts from Fisher's direction and moves it; "lda" keeps it.
        direction = np.ones(1) if projection == "none" else _lda_direction(X, y, weights)
        learned = projection == "learned"
        if learned:
            theta0 = np.append(self.alpha0 * direction, -self.alpha0 * self.beta0)
            features = X
        else:
            theta0 = np.array([self.alpha0, self.beta0])
            features = (X @ direction)[:, None]
        objective = _BinaryFit(self.activation, self.g, features, y, weights, learned)
        if self.optimizer == "qde":
            theta, iterations = self._anneal(objective, features[:, 0])
            return float(theta[0]), float(theta[1]), direction, iterations
        result = minimize(objective, theta0, jac=True, method="BFGS",
                          options={"gtol": self.tol, "maxiter": self.max_iter})
        theta = result.x
        if learned:
            alpha = float(np.linalg.norm(theta[:-1]))
            if alpha == 0:
                return 0.0, 0.0, direction, result.nit
            return alpha, float(-theta[-1] / alpha), theta[:-1] / alpha, result.nit
        return float(theta[0]), float(theta[1]), direction, result.nit

    @staticmethod
    def _anneal(objective, x):
        """(alpha, beta) by the QDE annealer on the loss surface; returns (theta, stages)."""
        from .annealer import QDEAnnealer

        spread = float(x.std()) or 1.0
        bounds = [(1e-6, 20.0 / spread), (float(x.min()), float(x.max()) if x.max() > x.min() else x.min() + 1)]

        def losses(thetas):
            flat = thetas.reshape(-1, 2)
            return np.array([objective(theta)[0] for theta in flat]).reshape(thetas.shape[:-1])

        result = QDEAnnealer(grid_points=48, candidates=2).minimize(losses, bounds)
        return result.x, result.nit

    # Prediction ---------------------------------------------------------------------------
    def decision_function(self, X):
        """alpha (x - beta) with x = w.X the projected feature: shape (n,), or (n, K) one-vs-rest."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        x = X @ np.asarray(self.direction_).T
        return np.asarray(self.alpha_) * (x - np.asarray(self.beta_))

    def _positive_probability(self, X):
        z = self.decision_function(X)
        if self.activation == "rectangular":
            T, _ = transmission_kernel(numpy_namespace(), 1.0 + z, np.asarray(self.g), with_derivative=False)
            return T
        return expit(z)

    def predict_proba(self, X):
        Q = self._positive_probability(X)
        if Q.ndim == 1:
            return np.column_stack([1 - Q, Q])
        totals = Q.sum(axis=1, keepdims=True)
        return np.where(totals > 0, Q / np.where(totals > 0, totals, 1), 1 / Q.shape[1])

    def predict(self, X):
        probabilities = self.predict_proba(X)   # checks fitting before classes_ is read
        return self.classes_[np.argmax(probabilities, axis=1)]

    # Physics ------------------------------------------------------------------------------
    @property
    def barrier_(self):
        """The barrier the fitted law describes (units of the projected feature).

        Logistic / Hill-Wheeler: {"V0": beta_, "hbar_omega": 2 pi / alpha_}. Rectangular:
        a :class:`qthybrid.Barrier` per problem with height 1/alpha_ (so that E/V0 =
        1 + alpha (x - beta), the energy origin at x = beta - 1/alpha) and strength g.
        """
        check_is_fitted(self)
        alpha, beta = np.asarray(self.alpha_), np.asarray(self.beta_)
        if self.activation == "rectangular":
            barriers = [Barrier(V0=1.0 / a, g=self.g) for a in np.atleast_1d(alpha)]
            return barriers[0] if alpha.ndim == 0 else barriers
        return {"V0": beta, "hbar_omega": 2 * np.pi / alpha}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        return tags
