"""torch layers built on the tunnelling activation (imports torch)."""

from .activation import QTActivation
from .functional import AnalyticQT, qt_activation
from .tabulated import TabulatedQT

__all__ = ["QTActivation", "AnalyticQT", "TabulatedQT", "qt_activation"]
