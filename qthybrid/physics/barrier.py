"""The rectangular potential barrier and its unit conversions.

Only two numbers matter for the transmission coefficient of a rectangular
barrier: its height ``V0`` (eV) and the dimensionless strength

    g = sqrt(2 m V0) L / hbar,

where ``L`` is the width and ``m`` the particle mass. The transmission is a
function of ``eps = E / V0`` and ``g`` alone (the SI constants cancel).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: CODATA 2018 constants, SI units.
HBAR_J_S = 1.054571817e-34
ELECTRON_MASS_KG = 9.1093837015e-31
ELEMENTARY_CHARGE_C = 1.602176634e-19


#: Largest barrier strength accepted: beyond it T is 0 below the barrier (T < exp(-2e4)) and the
#: phase g sqrt(eps - 1) above it is finer than float32 resolves (and g^2 overflows float64 near 1e154).
G_MAX = 1e4


def _check_positive_finite(name: str, value: float, maximum: float = math.inf) -> float:
    # float() would accept True, "30" and the real part of a complex number: all refused here.
    kind = str(getattr(value, "dtype", ""))
    if isinstance(value, (bool, str, bytes, complex)) or "bool" in kind or "complex" in kind:
        raise TypeError(f"{name} must be a real number, got {value!r}")
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a real number, got {value!r}") from None
    if not math.isfinite(value) or value <= 0.0:
        raise ValueError(f"{name} must be finite and > 0, got {value!r}")
    if value > maximum:
        raise ValueError(f"{name} must be <= {maximum:g}, got {value!r}")
    return value


@dataclass(frozen=True)
class Barrier:
    """A rectangular barrier of height ``V0`` (eV) and strength ``g`` (dimensionless).

    The defaults are the tunnelling-activation paper's: V0 = 30 eV and
    g = 0.5, which for an electron is a width of 1.78e-11 m (0.0178 nm).
    """

    V0: float = 30.0
    g: float = 0.5

    def __post_init__(self):
        object.__setattr__(self, "V0", _check_positive_finite("V0", self.V0))
        object.__setattr__(self, "g", _check_positive_finite("g", self.g, G_MAX))

    @classmethod
    def from_width(cls, V0: float = 30.0, width_nm: float = 0.0178,
                   mass_kg: float = ELECTRON_MASS_KG) -> "Barrier":
        """Build a barrier from its height (eV), width (nm) and particle mass (kg).

        g = sqrt(2 m V0 q_e) (width_nm * 1e-9) / hbar, with V0 converted from eV
        to J by the elementary charge q_e.
        """
        V0 = _check_positive_finite("V0", V0)
        width_nm = _check_positive_finite("width_nm", width_nm)
        mass_kg = _check_positive_finite("mass_kg", mass_kg)
        g = math.sqrt(2.0 * mass_kg * V0 * ELEMENTARY_CHARGE_C) * width_nm * 1e-9 / HBAR_J_S
        return cls(V0=V0, g=g)

    def width_nm(self, mass_kg: float = ELECTRON_MASS_KG) -> float:
        """Barrier width in nm for a particle of mass ``mass_kg`` (electron by default)."""
        mass_kg = _check_positive_finite("mass_kg", mass_kg)
        return self.g * HBAR_J_S / math.sqrt(2.0 * mass_kg * self.V0 * ELEMENTARY_CHARGE_C) * 1e9
