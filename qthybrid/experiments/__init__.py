"""Experiments from TOML files: validation, resumable runs, backend comparisons."""

from .compare import compare
from .config import ConfigError, load, validate
from .runner import run

__all__ = ["ConfigError", "load", "validate", "run", "compare"]
