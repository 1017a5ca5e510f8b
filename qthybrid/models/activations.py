"""One switch for every network: the QT activation or its classical twin."""

from __future__ import annotations

from torch import nn

CLASSICAL = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}
ACTIVATIONS = ("qt", *CLASSICAL)


def make_activation(name: str = "qt", **qt_options) -> nn.Module:
    """``"qt"`` (``QTActivation(**qt_options)``: ampl, barrier, backend, ...) or relu / tanh / sigmoid."""
    if name == "qt":
        from ..nn import QTActivation

        return QTActivation(**qt_options)
    if name not in CLASSICAL:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {name!r}")
    if qt_options:
        raise ValueError(f"options {sorted(qt_options)} apply to activation='qt' only")
    return CLASSICAL[name]()
