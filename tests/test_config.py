"""Experiment configs through the pydantic models: one-line errors naming the key, and the JSON schema."""

import json
import math
import tomllib
from pathlib import Path

import pytest

from qthybrid.cli import main
from qthybrid.experiments.config import ConfigError, defaults, json_schema, load, validate

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.mark.parametrize("config, message", [
    ({"model": {"lr": math.inf}}, "model.lr: must be a finite number > 0, got inf"),
    ({"model": {"lr": math.nan}}, "model.lr: must be a finite number > 0, got nan"),
    ({"model": {"lr": 0.0}}, "model.lr: must be a finite number > 0, got 0.0"),
    ({"activation": {"ampl": -math.inf}}, "activation.ampl: must be a finite number > 0, got -inf"),
    ({"model": {"leak": 1.5}}, "model.leak: must be a finite number > 0 and <= 1, got 1.5"),
    ({"model": {"ridge": -1e-3}}, "model.ridge: must be a finite number >= 0, got -0.001"),
    ({"experiment": {"epochs": "3"}}, "experiment.epochs: must be an integer >= 1, got '3'"),
    ({"experiment": {"epochs": 2.5}}, "experiment.epochs: must be an integer >= 1, got 2.5"),
    ({"model": {"hidden": True}}, "model.hidden: must be an integer >= 1, got True"),
    ({"experiment": {"seeds": [0, -1]}}, "experiment.seeds: must be a non-empty list of integers >= 0"),
    ({"experiment": {"seeds": []}}, "experiment.seeds: must be a non-empty list of integers >= 0, got []"),
    ({"activation": {"backend": "quantum"}},
     "activation.backend: must be one of 'aer', 'analytic', 'pennylane', 'statevector', got 'quantum'"),
    ({"experiment": {"lr": 0.1}}, "unknown key experiment.lr; allowed: data, data_dir, epochs, model, name, seeds"),
    ({"trainer": {}}, "unknown section [trainer]; allowed: [experiment], [model], [activation]"),
    ({"model": 3}, "[model] must be a table, got 3"),
    ({"experiment": {"model": "esn", "data": "digits"}},
     "experiment.data: must be one of 'mackey-glass' for experiment.model = 'esn', got 'digits'"),
])
def test_errors_are_one_line_and_name_the_key(config, message):
    with pytest.raises(ConfigError) as error:
        validate(config)
    assert str(error.value).startswith(message)
    assert "\n" not in str(error.value)


def test_several_problems_are_counted_and_the_first_is_named():
    with pytest.raises(ConfigError, match=r"^experiment\.epochs: .* \(and 1 more problem\)$"):
        validate({"experiment": {"epochs": 0}, "model": {"lr": -1.0}})


def test_defaults_fill_every_key_and_ints_become_floats_where_a_number_is_meant():
    resolved = validate({"model": {"lr": 1}})
    assert resolved["model"]["lr"] == 1.0 and isinstance(resolved["model"]["lr"], float)
    assert resolved["experiment"] == defaults()["experiment"]
    assert set(resolved) == {"experiment", "model", "activation"}


def test_a_toml_inf_is_refused(tmp_path):
    path = tmp_path / "inf.toml"
    path.write_text("[model]\nlr = inf\n")
    with pytest.raises(ConfigError, match=r"^model\.lr: must be a finite number > 0, got inf$"):
        load(path)


def test_json_schema_is_a_valid_schema_that_accepts_every_example_and_refuses_bad_files():
    jsonschema = pytest.importorskip("jsonschema")
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    examples = sorted(EXAMPLES.glob("*.toml"))
    assert len(examples) >= 5
    for example in examples:
        assert not list(validator.iter_errors(tomllib.loads(example.read_text()))), example.name
    # The schema and the validator refuse the same things (independent implementations of one schema).
    for bad in ({"trainer": {}}, {"experiment": {"epoch": 3}}, {"experiment": {"epochs": 0}},
                {"model": {"lr": -1.0}}, {"activation": {"backend": "quantum"}}, {"experiment": {"seeds": []}},
                {"model": {"leak": 2.0}}):
        assert list(validator.iter_errors(bad)), bad
        with pytest.raises(ConfigError):
            validate(bad)


def test_schema_documents_every_key():
    tables = json_schema()["$defs"]
    for section, keys in defaults().items():
        table = next(t for t in tables.values() if set(t["properties"]) == set(keys))
        assert table["additionalProperties"] is False, section
        for key, value in keys.items():
            assert table["properties"][key]["description"], f"{section}.{key} has no description"
            assert table["properties"][key]["default"] == value, f"{section}.{key}"


def test_cli_config_schema_and_check(capsys):
    assert main(["config", "schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["properties"].keys() == {"experiment", "model", "activation"}
    assert main(["--json", "config", "check", str(EXAMPLES / "demo.toml")]) == 0
    resolved = json.loads(capsys.readouterr().out)
    assert resolved["experiment"]["epochs"] == 15 and resolved["model"]["optimizer"] == "sgd"
