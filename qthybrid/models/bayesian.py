"""Bayesian networks: a real variational one (Bayes by backprop) and the paper's noisy-weight net.

``BayesianLinear`` holds a Gaussian posterior q(w) = N(mu, sigma^2), sigma = softplus(rho),
samples w = mu + sigma * eps (reparameterised, so mu and sigma both get their true
gradients) and knows its closed-form KL(q || N(0, prior_sigma^2)). Training
minimises the negative ELBO: cross-entropy + KL / N. Predictions average the
softmax over weight samples; the predictive entropy is the uncertainty.

``noisy=True`` reproduces the paper's "BNN": one weight sample per step, the
sample's gradient applied unchanged to both mean and standard deviation, no KL.
The paper's script starts it from means ~ N(0, 1) and standard deviations 0.1
(``init_mu_std=1.0, init_sigma=0.1``) and trains full-batch SGD at lr 0.5
(``train_bayesian(..., optimizer="sgd", batch_size=None)``).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from .activations import make_activation


class BayesianLinear(nn.Module):
    """Gaussian weights and biases. Means start U(-1/sqrt(n_in), 1/sqrt(n_in)) with zero biases, or, with
    ``init_mu_std``, N(0, init_mu_std^2) for both (the paper: 1.0); standard deviations start at ``init_sigma``."""

    def __init__(self, n_in: int, n_out: int, prior_sigma: float = 1.0, init_sigma: float = 0.05,
                 noisy: bool = False, init_mu_std: float | None = None):
        super().__init__()
        if not (prior_sigma > 0 and init_sigma > 0) or (init_mu_std is not None and not init_mu_std > 0):
            raise ValueError(f"prior_sigma, init_sigma and init_mu_std must be > 0, got {prior_sigma}, {init_sigma}, "
                             f"{init_mu_std}")
        self.noisy, self.prior_sigma = noisy, prior_sigma
        if init_mu_std is None:
            bound = 1 / math.sqrt(n_in)
            self.weight_mu = nn.Parameter(torch.empty(n_out, n_in).uniform_(-bound, bound))
            self.bias_mu = nn.Parameter(torch.zeros(n_out))
        else:
            self.weight_mu = nn.Parameter(torch.randn(n_out, n_in) * init_mu_std)
            self.bias_mu = nn.Parameter(torch.randn(n_out) * init_mu_std)
        rho = math.log(math.expm1(init_sigma))
        if noisy:   # the paper keeps sigma itself as the parameter (it can turn negative)
            self.weight_rho = nn.Parameter(torch.full((n_out, n_in), init_sigma))
            self.bias_rho = nn.Parameter(torch.full((n_out,), init_sigma))
        else:
            self.weight_rho = nn.Parameter(torch.full((n_out, n_in), rho))
            self.bias_rho = nn.Parameter(torch.full((n_out,), rho))

    def _sigma(self, rho):
        return rho if self.noisy else F.softplus(rho)

    def _sample(self, mu, rho):
        sigma = self._sigma(rho)
        eps = torch.randn_like(mu)
        if self.noisy:   # value mu + sigma eps; d/dsigma = d/dw, as in the paper's update
            return mu + sigma.detach() * eps + (sigma - sigma.detach())
        return mu + sigma * eps

    def forward(self, x):
        return F.linear(x, self._sample(self.weight_mu, self.weight_rho), self._sample(self.bias_mu, self.bias_rho))

    def kl(self) -> torch.Tensor:
        """KL(q || N(0, prior_sigma^2)) summed over the layer's weights and biases."""
        if self.noisy:
            return self.weight_mu.new_zeros(())
        total = 0.0
        for mu, rho in ((self.weight_mu, self.weight_rho), (self.bias_mu, self.bias_rho)):
            sigma = self._sigma(rho)
            total = total + torch.sum(torch.log(self.prior_sigma / sigma)
                                      + (sigma**2 + mu**2) / (2 * self.prior_sigma**2) - 0.5)
        return total


class BayesianNet(nn.Module):
    """in -> hidden (activation) -> out with Bayesian layers."""

    def __init__(self, n_in: int, n_hidden: int, n_out: int, activation: str = "qt", prior_sigma: float = 1.0,
                 noisy: bool = False, init_sigma: float = 0.05, init_mu_std: float | None = None, **qt_options):
        super().__init__()
        layer = dict(prior_sigma=prior_sigma, init_sigma=init_sigma, noisy=noisy, init_mu_std=init_mu_std)
        self.hidden = BayesianLinear(n_in, n_hidden, **layer)
        self.activation = make_activation(activation, **qt_options)
        self.out = BayesianLinear(n_hidden, n_out, **layer)

    def forward(self, x):
        return self.out(self.activation(self.hidden(x)))

    def kl(self):
        return self.hidden.kl() + self.out.kl()

    @torch.no_grad()
    def predict(self, x, samples: int = 50):
        """(mean class probabilities, predictive entropy in nats) over ``samples`` weight draws."""
        probabilities = self.sample_probabilities(x, samples).mean(0)
        return probabilities, entropy(probabilities)

    @torch.no_grad()
    def sample_probabilities(self, x, samples: int = 50) -> torch.Tensor:
        """Class probabilities under ``samples`` independent weight draws, shape (samples, len(x), classes)."""
        if samples < 1:
            raise ValueError(f"samples must be >= 1, got {samples}")
        return torch.stack([F.softmax(self(x), dim=-1) for _ in range(samples)])


def entropy(probabilities: torch.Tensor) -> torch.Tensor:
    """Shannon entropy in nats over the last axis."""
    return -(probabilities * probabilities.clamp_min(1e-12).log()).sum(-1)


def uncertainty(sample_probabilities: torch.Tensor) -> dict:
    """Split the predictive entropy of weight samples (samples, n, classes) into its parts (nats, per input):
    ``total`` = H[mean p] = ``aleatoric`` (mean of H[p], the data's own ambiguity) + ``epistemic``
    (their difference: the mutual information between prediction and weights, what more data would remove)."""
    total = entropy(sample_probabilities.mean(0))
    aleatoric = entropy(sample_probabilities).mean(0)
    return {"total": total, "aleatoric": aleatoric, "epistemic": total - aleatoric}


def bayesian_epoch(model: BayesianNet, optimiser, X, y, *, batch_size: int | None = 128, generator=None) -> float:
    """One epoch on the negative ELBO (cross-entropy + KL / N); returns the mean loss.
    ``batch_size=None``: one full-batch step (the paper's BNN)."""
    total = 0.0
    for batch in torch.randperm(len(X), generator=generator).split(batch_size or len(X)):
        optimiser.zero_grad()
        loss = F.cross_entropy(model(X[batch]), y[batch]) + model.kl() / len(X)
        loss.backward()
        optimiser.step()
        total += loss.item() * len(batch)
    return total / len(X)


def train_bayesian(model: BayesianNet, X, y, *, epochs: int = 20, lr: float = 1e-2, batch_size: int | None = 128,
                   seed: int = 0, optimizer: str = "adam", progress=None) -> list[dict]:
    """Adam (or ``optimizer="sgd"``) on the negative ELBO (cross-entropy + KL / N); the noisy variant has
    KL = 0. ``batch_size=None`` takes one full-batch step per epoch, as the paper does (SGD, lr 0.5)."""
    import time

    if optimizer not in ("sgd", "adam"):
        raise ValueError(f"optimizer must be 'sgd' or 'adam', got {optimizer!r}")
    torch.manual_seed(seed)
    X, y = torch.as_tensor(X), torch.as_tensor(y)
    optimiser = (torch.optim.Adam if optimizer == "adam" else torch.optim.SGD)(model.parameters(), lr=lr)
    history = []
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        loss = bayesian_epoch(model, optimiser, X, y, batch_size=batch_size)
        history.append({"epoch": epoch, "loss": loss, "seconds": time.perf_counter() - start})
        if progress is not None:
            progress(history[-1])
    return history
