"""Bayesian networks: a real variational one (Bayes by backprop) and the paper's noisy-weight net.

``BayesianLinear`` holds a Gaussian posterior q(w) = N(mu, sigma^2), sigma = softplus(rho),
samples w = mu + sigma * eps (reparameterised, so mu and sigma both get their true
gradients) and knows its closed-form KL(q || N(0, prior_sigma^2)). Training
minimises the negative ELBO: cross-entropy + KL / N. Predictions average the
softmax over weight samples; the predictive entropy is the uncertainty.

``noisy=True`` reproduces the paper's "BNN": one weight sample per step, the
sample's gradient applied unchanged to both mean and standard deviation, no KL.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from .activations import make_activation


class BayesianLinear(nn.Module):
    def __init__(self, n_in: int, n_out: int, prior_sigma: float = 1.0, init_sigma: float = 0.05,
                 noisy: bool = False):
        super().__init__()
        self.noisy, self.prior_sigma = noisy, prior_sigma
        bound = 1 / math.sqrt(n_in)
        self.weight_mu = nn.Parameter(torch.empty(n_out, n_in).uniform_(-bound, bound))
        self.bias_mu = nn.Parameter(torch.zeros(n_out))
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
                 noisy: bool = False, **qt_options):
        super().__init__()
        self.hidden = BayesianLinear(n_in, n_hidden, prior_sigma, noisy=noisy)
        self.activation = make_activation(activation, **qt_options)
        self.out = BayesianLinear(n_hidden, n_out, prior_sigma, noisy=noisy)

    def forward(self, x):
        return self.out(self.activation(self.hidden(x)))

    def kl(self):
        return self.hidden.kl() + self.out.kl()

    @torch.no_grad()
    def predict(self, x, samples: int = 50):
        """(mean class probabilities, predictive entropy in nats) over ``samples`` weight draws."""
        probabilities = torch.stack([F.softmax(self(x), dim=-1) for _ in range(samples)]).mean(0)
        entropy = -(probabilities * probabilities.clamp_min(1e-12).log()).sum(-1)
        return probabilities, entropy


def bayesian_epoch(model: BayesianNet, optimiser, X, y, *, batch_size: int = 128, generator=None) -> float:
    """One epoch on the negative ELBO (cross-entropy + KL / N); returns the mean loss."""
    total = 0.0
    for batch in torch.randperm(len(X), generator=generator).split(batch_size):
        optimiser.zero_grad()
        loss = F.cross_entropy(model(X[batch]), y[batch]) + model.kl() / len(X)
        loss.backward()
        optimiser.step()
        total += loss.item() * len(batch)
    return total / len(X)


def train_bayesian(model: BayesianNet, X, y, *, epochs: int = 20, lr: float = 1e-2, batch_size: int = 128,
                   seed: int = 0, progress=None) -> list[dict]:
    """Adam on the negative ELBO (cross-entropy + KL / N); the noisy variant has KL = 0."""
    import time

    torch.manual_seed(seed)
    X, y = torch.as_tensor(X), torch.as_tensor(y)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    history = []
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        loss = bayesian_epoch(model, optimiser, X, y, batch_size=batch_size)
        history.append({"epoch": epoch, "loss": loss, "seconds": time.perf_counter() - start})
        if progress is not None:
            progress(history[-1])
    return history
