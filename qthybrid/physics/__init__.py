"""Closed-form tunnelling physics: the rectangular barrier and its transmission."""

from .alternatives import hill_wheeler_transmission, logistic_transmission
from .barrier import ELECTRON_MASS_KG, Barrier
from .packet import packet_transmission
from .transmission import (dtransmission_dE, transmission, transmission_and_derivative,
                           transmission_dg_kernel, transmission_kernel)

__all__ = [
    "Barrier", "ELECTRON_MASS_KG", "transmission", "dtransmission_dE",
    "transmission_and_derivative", "transmission_kernel", "transmission_dg_kernel", "packet_transmission",
    "logistic_transmission", "hill_wheeler_transmission",
]
