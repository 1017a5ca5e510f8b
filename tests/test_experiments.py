"""Experiments from config files: validation, runs, resume after a kill, backend comparison."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

pytest.importorskip("torch")

from qthybrid.experiments import ConfigError, validate  # noqa: E402

SMALL = """
[experiment]
name = "small"
data = "digits"
seeds = [0, 1]
epochs = {epochs}

[model]
hidden = {hidden}
lr = 0.3
train_limit = {limit}

[activation]
name = "qt"
backend = "{backend}"
preset = "nisq"
"""


def write_config(tmp_path, epochs=3, hidden=64, limit=0, backend="analytic", name="config.toml"):
    path = tmp_path / name
    path.write_text(SMALL.format(epochs=epochs, hidden=hidden, limit=limit, backend=backend))
    return path


def _textbook_T(E, V0, g):
    """Rectangular-barrier transmission from the textbook formula in 50-digit arithmetic (package-independent)."""
    import mpmath

    with mpmath.workdps(50):
        eps, g = mpmath.mpf(E) / V0, mpmath.mpf(g)
        if eps <= 0:
            return mpmath.mpf(0)
        if eps == 1:
            return 1 / (1 + g**2 / 4)
        if eps < 1:
            return 1 / (1 + mpmath.sinh(g * mpmath.sqrt(1 - eps)) ** 2 / (4 * eps * (1 - eps)))
        return 1 / (1 + mpmath.sin(g * mpmath.sqrt(eps - 1)) ** 2 / (4 * eps * (eps - 1)))


def qthybrid(*args, env=None, timeout=600):
    return subprocess.run([sys.executable, "-m", "qthybrid.cli", *args], capture_output=True, text=True,
                          env=env, timeout=timeout)


@pytest.mark.parametrize("config, match", [
    ({"experiment": {"epoch": 3}}, "unknown key experiment.epoch; allowed: data, data_dir, epochs"),
    ({"trainer": {}}, r"unknown section \[trainer\]"),
    ({"experiment": {"epochs": "3"}}, "experiment.epochs: must be an integer"),
    ({"activation": {"backend": "quantum"}}, "activation.backend: must be one of 'aer', 'analytic', 'pennylane'"),
    ({"activation": {"name": "gelu"}}, "activation.name: must be one of"),
    ({"experiment": {"seeds": []}}, "experiment.seeds: must be a non-empty list"),
    ({"model": {"lr": -1.0}}, "model.lr: must be a finite number > 0"),
    ({"experiment": {"data": "mnist", "data_dir": "/nowhere"}}, "experiment.data = 'mnist': no mnist IDX files"),
])
def test_bad_configs_name_the_key(config, match):
    with pytest.raises(ConfigError, match=match):
        validate(config)


def test_bad_config_is_refused_before_any_work(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[experiment]\nname = "x"\nepochz = 3\n')
    result = qthybrid("run", str(path), "--out", str(tmp_path / "run"))
    assert result.returncode == 2 and "unknown key experiment.epochz" in result.stderr
    assert not (tmp_path / "run").exists()


def test_run_writes_a_complete_run_directory(tmp_path):
    out = tmp_path / "run"
    result = qthybrid("--json", "run", str(write_config(tmp_path)), "--out", str(out))
    assert result.returncode == 0, result.stderr
    for name in ("config.json", "environment.json", "metrics.csv", "metrics.json", "final.json", "training.png",
                 "activation.png", "checkpoint.pt"):
        assert (out / name).exists(), name
    final = json.loads((out / "final.json").read_text())
    assert final["seeds"] == 2 and final["test_accuracy_mean"] > 0.7
    assert len(json.loads((out / "metrics.json").read_text())) == 6
    assert qthybrid("run", str(write_config(tmp_path)), "--out", str(out)).returncode == 2   # no silent overwrite


@pytest.mark.slow
def test_a_killed_run_resumes_to_the_same_metrics(tmp_path):
    config = write_config(tmp_path, epochs=12, hidden=256, limit=0)
    reference = tmp_path / "reference"
    assert qthybrid("run", str(config), "--out", str(reference)).returncode == 0
    interrupted = tmp_path / "interrupted"
    process = subprocess.Popen([sys.executable, "-m", "qthybrid.cli", "run", str(config), "--out", str(interrupted)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while not (interrupted / "checkpoint.pt").exists() and time.time() < deadline:
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)     # one epoch of 24 done: killed mid-run
    process.wait()
    assert not (interrupted / "final.json").exists(), "the run finished before it could be killed"
    resumed = qthybrid("run", str(config), "--out", str(interrupted), "--resume")
    assert resumed.returncode == 0, resumed.stderr
    expected = json.loads((reference / "final.json").read_text())["per_seed"]
    got = json.loads((interrupted / "final.json").read_text())["per_seed"]
    for seed in expected:
        for key in ("loss", "train_accuracy", "test_accuracy"):
            assert got[seed][key] == expected[seed][key], (seed, key)


def test_compare_runs_backends_and_twins(tmp_path):
    env = {**os.environ, "QTHYBRID_CACHE_DIR": str(tmp_path / "cache")}
    out = tmp_path / "compare"
    result = qthybrid("--json", "compare", str(write_config(tmp_path, epochs=2)), "--backends",
                      "analytic,statevector", "--baselines", "relu", "--out", str(out), env=env)
    assert result.returncode == 0, result.stderr
    rows = {r["variant"]: r for r in json.loads(result.stdout)["rows"]}
    assert set(rows) == {"qt/analytic", "qt/statevector", "relu"}
    # Independent reference: the textbook T(E = ampl z) in 50-digit arithmetic at the saved curves' z.
    z, analytic = np.loadtxt(out / "qt_analytic" / "activation.csv", delimiter=",", unpack=True)
    exact = np.array([float(_textbook_T(10.0 * zi, 30.0, 0.5)) for zi in z])
    np.testing.assert_allclose(analytic, exact, rtol=1e-12, atol=1e-300)
    z_sv, statevector = np.loadtxt(out / "qt_statevector" / "activation.csv", delimiter=",", unpack=True)
    assert np.array_equal(z_sv, z)
    assert rows["qt/analytic"]["max_abs_dT_vs_first"] == pytest.approx(np.max(np.abs(analytic - exact)), abs=1e-12)
    reported = rows["qt/statevector"]["max_abs_dT_vs_first"]
    assert reported == pytest.approx(np.max(np.abs(statevector - exact)), abs=1e-9)
    assert 0.05 < reported < 1.0     # the nisq circuit's curve differs from the exact T, visibly
    for name in ("compare.json", "compare.md", "activations.png", "compare.html"):
        assert (out / name).exists()


@pytest.mark.parametrize("config_text, metric", [
    ('[experiment]\nmodel = "recurrent"\ndata = "sentiment"\nseeds = [0]\nepochs = 3\n'
     '[model]\nhidden = 16\nlr = 0.01\noptimizer = "adam"\nclip_norm = 1.0\n', "test_accuracy"),
    ('[experiment]\nmodel = "bayesian"\ndata = "digits"\nseeds = [0]\nepochs = 3\n'
     '[model]\nhidden = 64\nlr = 0.01\noptimizer = "adam"\nsamples = 5\n', "test_accuracy"),
    # 300 units: every seed 0-15 free-runs stably on the standard file (at 100 units some diverge).
    ('[experiment]\nmodel = "esn"\ndata = "mackey-glass"\nseeds = [1, 2]\n'
     '[model]\nhidden = 300\n[activation]\nname = "tanh"\n', "mse"),
])
def test_every_network_runs_from_a_config(tmp_path, config_text, metric):
    path = tmp_path / "config.toml"
    path.write_text(config_text)
    out = tmp_path / "run"
    result = qthybrid("--json", "run", str(path), "--out", str(out))
    assert result.returncode == 0, result.stderr
    final = json.loads(result.stdout)
    assert f"{metric}_mean" in final and (out / "activation.png").exists() and (out / "metrics.csv").exists()
    if metric == "test_accuracy":
        assert final["test_accuracy_mean"] > 0.5
    else:
        assert final["mse_mean"] < 0.05


def test_model_and_data_must_match():
    with pytest.raises(ConfigError, match="experiment.data: must be one of 'sentiment' for experiment.model"):
        validate({"experiment": {"model": "recurrent", "data": "digits"}})
    with pytest.raises(ConfigError, match="activation.name: must be 'qt' or 'tanh'"):
        validate({"experiment": {"model": "esn", "data": "mackey-glass"}, "activation": {"name": "relu"}})
