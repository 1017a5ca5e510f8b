"""torch layers built on the tunnelling activation (imports torch)."""

from .activation import QTActivation
from .functional import AnalyticQT, qt_activation

__all__ = ["QTActivation", "AnalyticQT", "qt_activation"]
