"""Validated backend options in the style of Qiskit Aer's ``_default_options``.

A backend declares each option once (default, check, and the allowed values in
words); instances hold validated values; every call may override some of them
for that call only.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Callable, Mapping


@dataclass(frozen=True)
class Option:
    """One declared option: its default, a predicate, and the allowed values in words."""

    default: Any
    check: Callable[[Any], bool]
    allowed: str


def positive_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def optional_positive_int(value) -> bool:
    return value is None or positive_int(value)


def one_of(*choices) -> Callable[[Any], bool]:
    return lambda value: value in choices


class Options(Mapping):
    """An immutable, validated mapping of option values."""

    def __init__(self, declared: Mapping[str, Option], values: Mapping[str, Any] | None = None):
        self._declared = declared
        merged = {name: option.default for name, option in declared.items()}
        merged.update(self._validated(values or {}))
        self._values = MappingProxyType(merged)

    def _validated(self, values: Mapping[str, Any]) -> dict:
        for name, value in values.items():
            if name not in self._declared:
                known = ", ".join(sorted(self._declared)) or "none"
                raise ValueError(f"unknown option {name!r}; known options: {known}")
            option = self._declared[name]
            if not option.check(value):
                raise ValueError(f"option {name!r} must be {option.allowed}, got {value!r}")
        return dict(values)

    def replace(self, **overrides) -> "Options":
        """A new Options with ``overrides`` applied (validated)."""
        return Options(self._declared, {**self._values, **overrides})

    def __getitem__(self, name):
        return self._values[name]

    def __getattr__(self, name):
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __iter__(self):
        return iter(self._values)

    def __len__(self):
        return len(self._values)

    def __repr__(self):
        body = ", ".join(f"{k}={v!r}" for k, v in self._values.items())
        return f"Options({body})"
