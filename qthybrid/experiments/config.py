"""Experiment configuration files (TOML): typed models, defaults and validation before any work starts.

    [experiment]
    name = "demo"                      # run directory name prefix
    model = "feedforward"              # feedforward | bayesian | recurrent | esn
    data = "digits"                    # digits | fashion-mnist | mnist (feedforward, bayesian);
                                       # sentiment (recurrent); mackey-glass (esn)
    data_dir = ""                      # IDX directory for mnist / fashion-mnist (optional)
    seeds = [0, 1, 2]
    epochs = 20

    [model]
    hidden = 128
    lr = 0.1
    batch_size = 64
    clip_norm = 5.0                    # 0 switches clipping off (recurrent: element-wise clip)
    train_limit = 0                    # use only the first N training images (0: all)
    optimizer = "sgd"                  # sgd | adam
    samples = 20                       # bayesian: weight samples per prediction
    leak = 0.3                         # esn (hidden = reservoir size)
    spectral_radius = 1.25             # esn
    ridge = 1e-8                       # esn

    [activation]
    name = "qt"                        # qt | relu | tanh | sigmoid
    ampl = 10.0                        # eV per unit of pre-activation
    V0 = 30.0                          # eV
    g = 0.5
    backend = "analytic"               # analytic | statevector | aer | pennylane | a plug-in
    preset = "accurate"                # circuit backends: accurate | nisq
    device = "default.qubit"           # pennylane backend

The three tables are pydantic models (:class:`ExperimentConfig`), so the schema is
declared once: types, defaults, ranges and descriptions. Unknown sections and keys,
wrong types (TOML types are taken as they are: ``epochs = "3"`` is refused),
non-finite numbers and values outside their range or allowed set are refused with a
one-line :class:`ConfigError` naming the key, e.g. ``model.lr: must be a finite
number > 0, got inf``. :func:`json_schema` gives the JSON schema
(``qthybrid config schema``).
"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, ValidationError, field_validator, model_validator

__all__ = ["ConfigError", "ExperimentConfig", "defaults", "validate", "load", "json_schema", "variant_name",
           "describe_variant"]

DATA_FOR_MODEL = {"feedforward": ("digits", "fashion-mnist", "mnist"), "bayesian": ("digits", "fashion-mnist", "mnist"),
                  "recurrent": ("sentiment",), "esn": ("mackey-glass",)}


class ConfigError(ValueError):
    """A configuration file is malformed; the one-line message names the key."""


class _Table(BaseModel):
    # strict: TOML already types its values, so "3" is not an int; finite: inf and nan are refused.
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, validate_default=True)


class ExperimentTable(_Table):
    """[experiment]: which network, on which data, for which seeds and how many epochs."""

    name: str = Field("demo", min_length=1, description="prefix of the run directory name under runs/")
    model: Literal["feedforward", "bayesian", "recurrent", "esn"] = Field(
        "feedforward", description="the network: feedforward (FNN), bayesian (variational BNN), "
                                   "recurrent (many-to-one RNN) or esn (echo state network)")
    data: Literal["digits", "fashion-mnist", "mnist", "sentiment", "mackey-glass"] = Field(
        "digits", description="data set: digits, fashion-mnist or mnist for feedforward and bayesian; "
                              "sentiment for recurrent; mackey-glass for esn")
    data_dir: str = Field("", description="directory of the IDX files for mnist / fashion-mnist "
                                          "(empty: $QTHYBRID_DATA/<data> or the Debian package's folder)")
    seeds: list[NonNegativeInt] = Field([0], min_length=1,
                                        description="random seeds; each seed is one full training run")
    epochs: int = Field(10, ge=1, description="training epochs per seed (the esn is fitted once and ignores it)")


class ModelTable(_Table):
    """[model]: network size and training hyper-parameters."""

    hidden: int = Field(128, ge=1, description="hidden units (esn: reservoir size)")
    lr: float = Field(0.1, gt=0, description="learning rate")
    batch_size: int = Field(64, ge=1, description="mini-batch size (feedforward, bayesian)")
    clip_norm: float = Field(5.0, ge=0, description="gradient clipping: global norm (feedforward), element-wise "
                                                    "bound (recurrent); 0 switches it off")
    train_limit: int = Field(0, ge=0, description="train on the first N training examples only (0: all)")
    optimizer: Literal["sgd", "adam"] = Field("sgd", description="optimiser")
    samples: int = Field(20, ge=1, description="bayesian: weight samples per prediction")
    leak: float = Field(0.3, gt=0, le=1, description="esn: leak rate of the reservoir update")
    spectral_radius: float = Field(1.25, gt=0, description="esn: spectral radius the reservoir matrix is scaled to")
    ridge: float = Field(1e-8, ge=0, description="esn: ridge regularisation of the readout")


def _registered_backends() -> list:
    """The backends of the registry (built-in and the qthybrid.backends entry point)."""
    from ..backends import available_backends

    return available_backends()


def _presets() -> tuple:
    from ..programs import PRESETS

    return PRESETS


class ActivationTable(_Table):
    """[activation]: the QT activation (barrier, backend) or a classical twin."""

    name: Literal["qt", "relu", "tanh", "sigmoid"] = Field(
        "qt", description="qt (quantum-tunnelling transmission T(ampl*z)) or a classical twin")
    ampl: float = Field(10.0, gt=0, description="energy per unit of pre-activation, E = ampl*z (eV)")
    V0: float = Field(30.0, gt=0, description="barrier height (eV)")
    g: float = Field(0.5, gt=0, description="barrier strength g = sqrt(2 m V0) L / hbar (dimensionless)")
    backend: str = Field(
        "analytic", description="how T is computed: analytic (closed form) or a registered program backend "
                                "(statevector, aer, pennylane, or a plug-in of the qthybrid.backends entry point)",
        json_schema_extra=lambda schema: schema.update(enum=_registered_backends()))
    preset: str = Field(
        "accurate", description="circuit backends: accurate (12 qubits, |dT| < 0.01) or nisq (6 qubits, "
                                "not an accurate T); hardware: the 9-qubit chain for devices",
        json_schema_extra=lambda schema: schema.update(enum=list(_presets())))

    @field_validator("backend")
    @classmethod
    def _registered_backend(cls, value: str) -> str:
        known = _registered_backends()
        if value not in known:
            raise ValueError(f"activation.backend: must be one of {', '.join(map(repr, known))}, got {value!r}")
        return value

    @field_validator("preset")
    @classmethod
    def _known_preset(cls, value: str) -> str:
        if value not in _presets():
            raise ValueError(f"activation.preset: must be one of {', '.join(map(repr, _presets()))}, got {value!r}")
        return value
    device: str = Field("default.qubit", min_length=1, description="pennylane backend: the device name")


class ExperimentConfig(_Table):
    """One experiment file: the [experiment], [model] and [activation] tables (every key optional)."""

    experiment: ExperimentTable = Field(default_factory=ExperimentTable)
    model: ModelTable = Field(default_factory=ModelTable)
    activation: ActivationTable = Field(default_factory=ActivationTable)

    @model_validator(mode="after")
    def _consistent(self):
        experiment, activation = self.experiment, self.activation
        allowed = DATA_FOR_MODEL[experiment.model]
        if experiment.data not in allowed:
            raise ValueError(f"experiment.data: must be one of {', '.join(map(repr, allowed))} for "
                             f"experiment.model = {experiment.model!r}, got {experiment.data!r}")
        if experiment.model == "esn" and activation.name not in ("qt", "tanh"):
            raise ValueError(f"activation.name: must be 'qt' or 'tanh' for experiment.model = 'esn', "
                             f"got {activation.name!r}")
        return self


def variant_name(config: dict) -> str:
    """A resolved config's activation as compare names it: "qt/analytic", "qt/pennylane:lightning.qubit", "relu"."""
    activation = config["activation"]
    if activation["name"] != "qt":
        return activation["name"]
    if activation["backend"] == "pennylane":
        return f"qt/pennylane:{activation['device']}"
    return f"qt/{activation['backend']}"


def describe_variant(config: dict, name: str | None = None) -> str:
    """The variant and what shapes its curve, for titles.

    E.g. "qt/statevector (accurate preset), V0=30 eV, g=0.5, ampl=10".
    """
    activation = config["activation"]
    name = name or variant_name(config)
    if activation["name"] != "qt":
        return name
    preset = "" if activation["backend"] == "analytic" else f" ({activation['preset']} preset)"
    return f"{name}{preset}, {barrier_text(config)}"


def barrier_text(config: dict) -> str:
    """ "V0=30 eV, g=0.5, ampl=10" (no-break space inside "30 eV", so a wrapped title keeps it whole)."""
    activation = config["activation"]
    return f"V0={activation['V0']:g}\u00a0eV, g={activation['g']:g}, ampl={activation['ampl']:g}"


def defaults() -> dict:
    """Every key with its default value."""
    return ExperimentConfig().model_dump()


def json_schema() -> dict:
    """The JSON schema of an experiment file (types, defaults, ranges, descriptions)."""
    return ExperimentConfig.model_json_schema()


def _field(loc: tuple):
    """The pydantic FieldInfo at ``loc`` (section, key), or None."""
    if len(loc) < 2 or loc[0] not in ExperimentConfig.model_fields:
        return None
    table = ExperimentConfig.model_fields[loc[0]].annotation
    return table.model_fields.get(loc[1])


def _requirement(field) -> str:
    """What a numeric field accepts, e.g. 'a finite number > 0' or 'an integer >= 1'."""
    kind = "an integer" if field.annotation is int else "a finite number"
    bounds = []
    for constraint in field.metadata:
        for attribute, symbol in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<=")):
            value = getattr(constraint, attribute, None)
            if value is not None:
                bounds.append(f"{symbol} {value}")
    return kind + (" " + " and ".join(bounds) if bounds else "")


def _message(error: dict) -> str:
    """One pydantic error as one line that names the key and what it allows."""
    loc, kind, value = tuple(error["loc"]), error["type"], error.get("input")
    key = ".".join(str(part) for part in loc)
    if kind == "value_error":                       # our cross-field checks: the message names its keys
        return str(error["ctx"]["error"])
    if kind == "extra_forbidden":
        if len(loc) == 1:
            allowed = ", ".join(f"[{s}]" for s in ExperimentConfig.model_fields)
            return f"unknown section [{loc[0]}]; allowed: {allowed}"
        table = ExperimentConfig.model_fields[loc[0]].annotation
        return f"unknown key {key}; allowed: {', '.join(sorted(table.model_fields))}"
    if kind in ("model_type", "model_attributes_type"):
        return f"[{key}] must be a table, got {value!r}"
    if kind == "literal_error":
        return f"{key}: must be one of {error['ctx']['expected'].replace(' or ', ', ')}, got {value!r}"
    field = _field(loc)
    if field is not None and field.annotation in (int, float):
        return f"{key}: must be {_requirement(field)}, got {_show(value)}"
    if field is not None and field.annotation is str:
        return f"{key}: must be a non-empty string, got {value!r}"
    if loc[:2] == ("experiment", "seeds"):
        return f"experiment.seeds: must be a non-empty list of integers >= 0, got {_show(value)}"
    return f"{key}: {error['msg'][0].lower()}{error['msg'][1:]}, got {_show(value)}"


def _show(value) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)                           # inf, -inf, nan: as TOML writes them
    return repr(value)


def validate(config: dict) -> dict:
    """The config with defaults filled in, as plain dicts; ConfigError (one line, naming the key) if bad."""
    if not isinstance(config, dict):
        raise ConfigError(f"a config must be a table of [experiment], [model] and [activation], got {config!r}")
    try:
        model = ExperimentConfig.model_validate(config)
    except ValidationError as exc:
        errors = exc.errors()
        more = f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})" if len(errors) > 1 else ""
        raise ConfigError(_message(errors[0]) + more) from None
    resolved = model.model_dump()
    experiment = resolved["experiment"]
    if experiment["data"] in ("mnist", "fashion-mnist"):
        from ..data import find_directory

        try:
            find_directory(experiment["data"], experiment["data_dir"] or None)
        except FileNotFoundError as exc:
            raise ConfigError(f"experiment.data = {experiment['data']!r}: {exc}") from None
    return resolved


def load(path: str | Path) -> dict:
    """Read and validate a TOML experiment file."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        raw = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    return validate(raw)
