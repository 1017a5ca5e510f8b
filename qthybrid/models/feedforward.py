"""Feedforward classifier (the paper's QT-FNN: 784-512-10, SGD lr 0.01, batch 64, clip-norm 5)."""

from __future__ import annotations

import time

import numpy as np
import torch
from torch import nn

from .activations import make_activation


class FeedForward(nn.Module):
    """in -> hidden (activation) -> out logits. The paper initialises W ~ N(0, 0.01^2), b = 0."""

    def __init__(self, n_in: int, n_hidden: int, n_out: int, activation: str = "qt", init_std: float | None = 0.01,
                 **qt_options):
        super().__init__()
        self.hidden = nn.Linear(n_in, n_hidden)
        self.activation = make_activation(activation, **qt_options)
        self.out = nn.Linear(n_hidden, n_out)
        if init_std is not None:
            for layer in (self.hidden, self.out):
                nn.init.normal_(layer.weight, std=init_std)
                nn.init.zeros_(layer.bias)

    def forward(self, x):
        return self.out(self.activation(self.hidden(x)))


def train_epoch(model: nn.Module, optimiser, X_train, y_train, *, batch_size: int = 64,
                clip_norm: float | None = 5.0, generator: torch.Generator | None = None) -> float:
    """One epoch of mini-batch training in an order drawn from ``generator``; returns the mean loss."""
    model.train()
    order = torch.randperm(len(X_train), generator=generator)
    total = 0.0
    for batch in order.split(batch_size):
        optimiser.zero_grad()
        loss = nn.functional.cross_entropy(model(X_train[batch]), y_train[batch])
        loss.backward()
        if clip_norm is not None:
            nn.utils.clip_grad_norm_(model.parameters(), clip_norm)
        optimiser.step()
        total += loss.item() * len(batch)
    return total / len(X_train)


def train_classifier(model: nn.Module, X_train, y_train, X_test=None, y_test=None, *, epochs: int = 10,
                     lr: float = 0.01, batch_size: int = 64, clip_norm: float | None = 5.0, seed: int = 0,
                     target_accuracy: float | None = None, progress=None) -> list[dict]:
    """Mini-batch SGD on cross-entropy; returns one record per epoch (loss, accuracies, seconds).

    Stops early once test accuracy reaches ``target_accuracy`` (when given).
    """
    generator = torch.Generator().manual_seed(seed)
    X_train, y_train = torch.as_tensor(X_train), torch.as_tensor(y_train)
    optimiser = torch.optim.SGD(model.parameters(), lr=lr)
    history = []
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        loss = train_epoch(model, optimiser, X_train, y_train, batch_size=batch_size, clip_norm=clip_norm,
                           generator=generator)
        record = {"epoch": epoch, "loss": loss, "seconds": time.perf_counter() - start,
                  "train_accuracy": accuracy(model, X_train, y_train)}
        if X_test is not None:
            record["test_accuracy"] = accuracy(model, X_test, y_test)
        history.append(record)
        if progress is not None:
            progress(record)
        if target_accuracy is not None and record.get("test_accuracy", 0.0) >= target_accuracy:
            break
    return history


@torch.no_grad()
def accuracy(model: nn.Module, X, y) -> float:
    model.eval()
    X, y = torch.as_tensor(X), torch.as_tensor(y)
    return float((model(X).argmax(1) == y).float().mean())


def epochs_to(history: list[dict], key: str, target: float):
    """First epoch whose ``key`` reached ``target`` (None if never)."""
    return next((r["epoch"] for r in history if r.get(key, -np.inf) >= target), None)
