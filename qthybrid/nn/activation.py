"""``QTActivation``: the quantum-tunnelling activation as a torch module."""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from ..physics import Barrier
from .functional import qt_activation


def _inverse_softplus(value: float) -> float:
    return value + math.log(-math.expm1(-value))


class QTActivation(nn.Module):
    """h = T(ampl * z): transmission of a particle of energy E = ampl * z (eV) through ``barrier``.

    Args:
        ampl: eV per unit of pre-activation (10 in the paper's FNN/RNN/BNN, 3 in its ESN).
        barrier: the rectangular barrier (height V0 in eV, strength g).
        backend: ``"analytic"`` (closed form, exact gradients) or the name of a
            circuit backend (``"statevector"``, ``"aer"``, ``"pennylane"``) or a
            backend instance; circuit backends serve a tabulated curve (see
            :class:`qthybrid.nn.TabulatedQT`).
        learnable: make V0 and g trainable (kept positive through softplus);
            analytic backend only.
        paper_gradient: reproduce the paper's backward pass, which omits the
            chain factor ampl (dh/dz = T'(E) instead of ampl * T'(E)).
        backend_options: options for a circuit backend (e.g. ``{"preset": "nisq"}``).
        mode: for circuit backends, ``"table"`` (one sweep, interpolated) or
            ``"exact"`` (each distinct input value simulated; small tensors only).
        table_points: energies in the tabulating sweep (circuit backends, ``"table"`` mode).
    """

    def __init__(self, ampl: float = 10.0, barrier: Barrier = Barrier(), backend="analytic",
                 learnable: bool = False, paper_gradient: bool = False,
                 backend_options: dict | None = None, mode: str = "table", table_points: int = 48):
        super().__init__()
        if not (isinstance(ampl, (int, float)) and math.isfinite(ampl) and ampl > 0):
            raise ValueError(f"ampl must be a finite number > 0, got {ampl!r}")
        if not isinstance(barrier, Barrier):
            raise TypeError(f"barrier must be a qthybrid.Barrier, got {type(barrier).__name__}")
        self.ampl = float(ampl)
        self.paper_gradient = bool(paper_gradient)
        self.learnable = bool(learnable)
        self.backend_name = backend if isinstance(backend, str) else getattr(backend, "name", "custom")
        if self.backend_name == "analytic":
            self._curve = None
        else:
            if learnable:
                raise ValueError("learnable=True needs backend='analytic': a circuit backend's "
                                 "tabulated curve is fixed for one barrier")
            from .tabulated import TabulatedQT

            self._curve = TabulatedQT(backend, barrier, ampl=self.ampl, mode=mode,
                                      paper_gradient=self.paper_gradient,
                                      backend_options=backend_options or {}, num_points=table_points)
        if learnable:
            self.raw_V0 = nn.Parameter(torch.tensor(_inverse_softplus(barrier.V0), dtype=torch.float64))
            self.raw_g = nn.Parameter(torch.tensor(_inverse_softplus(barrier.g), dtype=torch.float64))
        else:
            self.register_buffer("V0", torch.tensor(barrier.V0, dtype=torch.float64), persistent=False)
            self.register_buffer("g", torch.tensor(barrier.g, dtype=torch.float64), persistent=False)

    def barrier_tensors(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The current (V0, g) as 0-d float64 tensors (differentiable when learnable)."""
        if self.learnable:
            return F.softplus(self.raw_V0), F.softplus(self.raw_g)
        return self.V0, self.g

    @property
    def barrier(self) -> Barrier:
        """The current barrier as a plain :class:`qthybrid.Barrier`."""
        V0, g = self.barrier_tensors()
        return Barrier(V0=float(V0.detach()), g=float(g.detach()))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if self._curve is not None:
            return self._curve(z)
        V0, g = self.barrier_tensors()
        return qt_activation(z, self.ampl, V0, g, self.paper_gradient)

    def extra_repr(self) -> str:
        b = self.barrier
        return (f"ampl={self.ampl}, V0={b.V0:.6g}, g={b.g:.6g}, backend={self.backend_name!r}, "
                f"learnable={self.learnable}, paper_gradient={self.paper_gradient}")
