"""The analytic backend: the closed-form transmission coefficient."""

from __future__ import annotations

import numpy as np

from .._arrays import as_float_array
from ..physics import Barrier, packet_transmission, transmission
from .base import Backend, Capabilities, TransmissionResult
from .options import Option


def _optional_positive_float(value) -> bool:
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)
                             and np.isfinite(value) and value > 0)


class AnalyticBackend(Backend):
    """Closed-form T(E) (plane wave), or its wave-packet average when ``sigma_k`` is set."""

    name = "analytic"
    capabilities = Capabilities(exact=True, differentiable=True)

    @classmethod
    def _default_options(cls):
        return {
            "sigma_k": Option(None, _optional_positive_float,
                              "None (plane wave) or a momentum spread > 0 in units of sqrt(2 m V0)/hbar"),
        }

    def _run_transmission(self, energies, barrier: Barrier, options) -> TransmissionResult:
        energies = as_float_array(energies, "energies").astype(np.float64)
        if options.sigma_k is None:
            values = transmission(energies, barrier)
        else:
            values = packet_transmission(energies, barrier, options.sigma_k)
        return TransmissionResult(energies=energies, transmission=np.asarray(values))
