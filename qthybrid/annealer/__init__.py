"""The QDE annealer: optimisation as Schrodinger dynamics (paper 2)."""

from .annealer import QDEAnnealer
from .objectives import FUNCTIONS, SUITE_2D, TestFunction

__all__ = ["QDEAnnealer", "FUNCTIONS", "SUITE_2D", "TestFunction"]
