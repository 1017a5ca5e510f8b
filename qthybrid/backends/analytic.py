"""The analytic backend: the closed-form transmission coefficient (no programs to execute)."""

from __future__ import annotations

import time

import numpy as np

from ..physics import Barrier, packet_transmission, transmission
from .base import Backend, Capabilities, TransmissionResult, checked_energies
from .options import Option


def _optional_positive_float(value) -> bool:
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)
                             and np.isfinite(value) and value > 0)


class AnalyticBackend(Backend):
    """Closed-form T(E) (plane wave), or its wave-packet average when ``sigma_k`` is set.

    It evaluates formulas, so :meth:`execute` refuses programs (use ``statevector``
    for the exact simulation of a program).
    """

    name = "analytic"
    capabilities = Capabilities(exact=True, differentiable=True)

    @classmethod
    def _default_options(cls):
        return {
            "sigma_k": Option(None, _optional_positive_float,
                              "None (plane wave) or a momentum spread > 0 in units of sqrt(2 m V0)/hbar"),
        }

    def execute(self, programs, **overrides) -> list:
        raise NotImplementedError("the analytic backend evaluates closed forms and executes no programs; "
                                  "use get_backend('statevector') to simulate a program exactly")

    def run_transmission(self, energies, barrier: Barrier = Barrier(), **overrides) -> TransmissionResult:
        options = self._options.replace(**overrides)
        energies = checked_energies(energies)
        started = time.perf_counter()
        if options.sigma_k is None:
            values = transmission(energies, barrier)
        else:
            values = packet_transmission(energies, barrier, options.sigma_k)
        return TransmissionResult(energies=energies, transmission=np.asarray(values, dtype=np.float64),
                                  metadata={"backend": self.name, "sigma_k": options.sigma_k,
                                            "seconds": time.perf_counter() - started})
