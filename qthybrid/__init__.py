"""qthybrid: quantum-tunnelling activations and the QDE annealer, classical or on quantum simulators.

Importing ``qthybrid`` loads numpy only. torch is imported with
:mod:`qthybrid.nn`, Qiskit with the ``aer`` backend, PennyLane with the
``pennylane`` backend.
"""

from .backends import available_backends, get_backend
from .physics import (Barrier, dtransmission_dE, hill_wheeler_transmission, logistic_transmission,
                      packet_transmission, transmission)

from ._version import __version__


def __getattr__(name):
    # scikit-learn is imported only when the classifier is asked for.
    if name == "TunnelingClassifier":
        from .classifier import TunnelingClassifier

        return TunnelingClassifier
    if name == "QDEAnnealer":
        from .annealer import QDEAnnealer

        return QDEAnnealer
    raise AttributeError(f"module 'qthybrid' has no attribute {name!r}")

__all__ = [
    "Barrier", "transmission", "dtransmission_dE", "packet_transmission",
    "logistic_transmission", "hill_wheeler_transmission", "get_backend", "available_backends",
    "TunnelingClassifier", "QDEAnnealer",
    "__version__",
]
