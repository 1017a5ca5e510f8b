"""Many-to-one recurrent classifier (the paper's QT-RNN: 64 hidden units, per-sentence SGD)."""

from __future__ import annotations

import time

import torch
from torch import nn

from .activations import make_activation


class RecurrentClassifier(nn.Module):
    """h_t = act(W_xh x_t + W_hh h_{t-1} + b_h), h_0 = 0; logits = W_hy h_T + b_y.

    The paper initialises every weight as randn / 1000 and biases at 0 (``init_scale=1e-3``);
    ``init_scale=None`` keeps PyTorch's default initialisation.
    """

    def __init__(self, n_in: int, n_hidden: int = 64, n_out: int = 2, activation: str = "qt",
                 init_scale: float | None = 1e-3, **qt_options):
        super().__init__()
        self.input = nn.Linear(n_in, n_hidden)
        self.recurrent = nn.Linear(n_hidden, n_hidden, bias=False)
        self.output = nn.Linear(n_hidden, n_out)
        self.activation = make_activation(activation, **qt_options)
        if init_scale is not None:
            for layer in (self.input, self.recurrent, self.output):
                nn.init.normal_(layer.weight, std=init_scale)
            nn.init.zeros_(self.input.bias)
            nn.init.zeros_(self.output.bias)

    def forward(self, sequence: torch.Tensor) -> torch.Tensor:
        """``sequence``: (steps, n_in) one sentence, or (batch, steps, n_in) same-length sentences."""
        batched = sequence.dim() == 3
        if not batched:
            sequence = sequence.unsqueeze(0)
        h = sequence.new_zeros(sequence.shape[0], self.recurrent.in_features)
        for t in range(sequence.shape[1]):
            h = self.activation(self.input(sequence[:, t]) + self.recurrent(h))
        logits = self.output(h)
        return logits if batched else logits[0]


def train_sequences(model, train, test, *, epochs: int = 1000, lr: float = 0.18, clip: float | None = 1.0,
                    seed: int = 0, stop_at_perfect: bool = True, optimizer: str = "sgd",
                    progress=None) -> list[dict]:
    """Per-sentence updates (batch 1) with element-wise gradient clipping to [-clip, clip] (the paper's),
    by SGD (the paper: lr 0.18 for QT, 0.02 for tanh) or ``optimizer="adam"``.

    ``train`` / ``test`` are lists of (one-hot tensor, label int). Stops once train and
    test accuracy are both 1 (when ``stop_at_perfect``).
    """
    generator = torch.Generator().manual_seed(seed)
    if optimizer not in ("sgd", "adam"):
        raise ValueError(f"optimizer must be 'sgd' or 'adam', got {optimizer!r}")
    optimiser = (torch.optim.SGD if optimizer == "sgd" else torch.optim.Adam)(model.parameters(), lr=lr)
    history = []
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        loss = sequence_epoch(model, optimiser, train, clip=clip, generator=generator)
        record = {"epoch": epoch, "loss": loss, "seconds": time.perf_counter() - start,
                  "train_accuracy": sequence_accuracy(model, train), "test_accuracy": sequence_accuracy(model, test)}
        history.append(record)
        if progress is not None:
            progress(record)
        if stop_at_perfect and record["train_accuracy"] == 1.0 and record["test_accuracy"] == 1.0:
            break
    return history


def sequence_epoch(model, optimiser, train, *, clip: float | None = 1.0, generator=None) -> float:
    """One epoch of per-sentence updates in an order drawn from ``generator``; returns the mean loss."""
    total = 0.0
    for i in torch.randperm(len(train), generator=generator).tolist():
        x, label = train[i]
        optimiser.zero_grad()
        loss = nn.functional.cross_entropy(model(x).unsqueeze(0), torch.tensor([label]))
        loss.backward()
        if clip is not None:
            for parameter in model.parameters():
                parameter.grad.clamp_(-clip, clip)
        optimiser.step()
        total += loss.item()
    return total / len(train)


@torch.no_grad()
def sequence_accuracy(model, data) -> float:
    return sum(int(model(x).argmax().item() == label) for x, label in data) / len(data)
