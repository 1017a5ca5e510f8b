"""Experiment configuration files (TOML): schema, defaults and validation before any work starts.

    [experiment]
    name = "demo"                      # run directory name prefix
    model = "feedforward"              # feedforward | bayesian | recurrent | esn
    data = "digits"                    # digits | fashion-mnist | mnist (feedforward, bayesian);
                                       # sentiment (recurrent); mackey-glass (esn)
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
    backend = "analytic"               # analytic | statevector | aer | pennylane
    preset = "accurate"                # circuit backends: accurate | nisq
    device = "default.qubit"           # pennylane backend
    data_dir = ""                      # [experiment] key: IDX directory (optional)

Every key is checked (unknown keys, wrong types, values outside the allowed set)
and errors name the key and what is allowed.
"""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path

_SCHEMA = {
    "experiment": {
        "name": (str, "demo", None),
        "model": (str, "feedforward", ("feedforward", "bayesian", "recurrent", "esn")),
        "data": (str, "digits", ("digits", "fashion-mnist", "mnist", "sentiment", "mackey-glass")),
        "data_dir": (str, "", None),
        "seeds": (list, [0], None),
        "epochs": (int, 10, None),
    },
    "model": {
        "hidden": (int, 128, None),
        "lr": (float, 0.1, None),
        "batch_size": (int, 64, None),
        "clip_norm": (float, 5.0, None),
        "train_limit": (int, 0, None),
        "optimizer": (str, "sgd", ("sgd", "adam")),
        "samples": (int, 20, None),
        "leak": (float, 0.3, None),
        "spectral_radius": (float, 1.25, None),
        "ridge": (float, 1e-8, None),
    },
    "activation": {
        "name": (str, "qt", ("qt", "relu", "tanh", "sigmoid")),
        "ampl": (float, 10.0, None),
        "V0": (float, 30.0, None),
        "g": (float, 0.5, None),
        "backend": (str, "analytic", ("analytic", "statevector", "aer", "pennylane")),
        "preset": (str, "accurate", ("accurate", "nisq")),
        "device": (str, "default.qubit", None),
    },
}


class ConfigError(ValueError):
    """A configuration file is malformed; the message names the key."""


def defaults() -> dict:
    return {section: {key: copy.deepcopy(spec[1]) for key, spec in keys.items()} for section, keys in _SCHEMA.items()}


def validate(config: dict) -> dict:
    """The config with defaults filled in; ConfigError names any bad key."""
    resolved = defaults()
    for section, values in config.items():
        if section not in _SCHEMA:
            raise ConfigError(f"unknown section [{section}]; allowed: {', '.join(f'[{s}]' for s in _SCHEMA)}")
        if not isinstance(values, dict):
            raise ConfigError(f"[{section}] must be a table")
        for key, value in values.items():
            if key not in _SCHEMA[section]:
                raise ConfigError(f"unknown key {section}.{key}; allowed: {', '.join(sorted(_SCHEMA[section]))}")
            kind, _, allowed = _SCHEMA[section][key]
            if kind is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if not isinstance(value, kind) or isinstance(value, bool):
                raise ConfigError(f"{section}.{key} must be a {kind.__name__}, got {value!r}")
            if allowed is not None and value not in allowed:
                raise ConfigError(f"{section}.{key} must be one of {', '.join(map(repr, allowed))}, got {value!r}")
            resolved[section][key] = value
    experiment, model, activation = resolved["experiment"], resolved["model"], resolved["activation"]
    if not experiment["seeds"] or not all(isinstance(s, int) and s >= 0 for s in experiment["seeds"]):
        raise ConfigError("experiment.seeds must be a non-empty list of ints >= 0")
    for section, key in (("experiment", "epochs"), ("model", "hidden"), ("model", "batch_size")):
        if resolved[section][key] < 1:
            raise ConfigError(f"{section}.{key} must be >= 1, got {resolved[section][key]}")
    for key in ("lr", "ampl", "V0", "g"):
        table = model if key == "lr" else activation
        if not table[key] > 0:
            raise ConfigError(f"{'model' if key == 'lr' else 'activation'}.{key} must be > 0, got {table[key]}")
    if model["clip_norm"] < 0 or model["train_limit"] < 0:
        raise ConfigError("model.clip_norm and model.train_limit must be >= 0")
    allowed_data = {"feedforward": ("digits", "fashion-mnist", "mnist"), "bayesian": ("digits", "fashion-mnist", "mnist"),
                    "recurrent": ("sentiment",), "esn": ("mackey-glass",)}[experiment["model"]]
    if experiment["data"] not in allowed_data:
        raise ConfigError(f"experiment.data must be one of {', '.join(map(repr, allowed_data))} for "
                          f"experiment.model = {experiment['model']!r}, got {experiment['data']!r}")
    if experiment["model"] == "esn" and activation["name"] not in ("qt", "tanh"):
        raise ConfigError("activation.name must be 'qt' or 'tanh' for experiment.model = 'esn'")
    if not (0 < model["leak"] <= 1) or model["samples"] < 1 or model["ridge"] < 0:
        raise ConfigError("model.leak must be in (0, 1], model.samples >= 1 and model.ridge >= 0")
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
