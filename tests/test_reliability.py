"""Reliability: a fresh HOME stays clean, checkpoints cannot run code, caches are validated, NaN
propagates, blocked evaluation changes nothing, extreme energies give limits. (Memory bounds and
diverged runs are cases of the bad-input table in test_bad_inputs.py.)"""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from qthybrid import Barrier, dtransmission_dE, packet_transmission, transmission

TINY_RUN = """
[experiment]
name = "tiny"
data = "digits"
seeds = [0]
epochs = 1

[model]
hidden = 8
lr = {lr}
train_limit = 120
clip_norm = 0

[activation]
name = "{activation}"
"""


def tiny_config(tmp_path, lr=0.1, activation="qt"):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY_RUN.format(lr=lr, activation=activation))
    return path


def _files_in(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


# A fresh HOME ---------------------------------------------------------------------------------------------
TYPICAL_USE = textwrap.dedent("""
    import sys
    import numpy as np
    import qthybrid
    from qthybrid.cli import main
    from qthybrid.hardware import JobJournal

    assert main(["curve", "--backends", "analytic", "--energies", "0.5,2"]) == 0
    assert main(["jobs", "list"]) == 0
    assert main(["run", sys.argv[1], "--quiet"]) == 0          # default run directory: runs/ in the working dir
    qthybrid.transmission(np.linspace(0, 90, 10))
    JobJournal().list()
""")


def _typical_use(tmp_path, env):
    home = tmp_path / "home"
    home.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    config = tiny_config(tmp_path)
    result = subprocess.run([sys.executable, "-c", TYPICAL_USE, str(config)], cwd=work, capture_output=True,
                            text=True, env={**env, "HOME": str(home)}, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return home, work


def test_a_fresh_home_is_left_without_qthybrid_files(tmp_path):
    """Typical CLI and API use under the test sandbox's environment writes nothing into HOME."""
    home, work = _typical_use(tmp_path, dict(os.environ))
    assert _files_in(home) == []
    assert any(p.name == "final.json" for p in (work / "runs").rglob("*"))   # the run went to the working dir


def test_without_the_sandbox_the_journal_would_land_in_home(tmp_path):
    """The check above can fail: with qthybrid's variables unset, the default journal goes under HOME."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QTHYBRID_")}
    home = tmp_path / "home"
    home.mkdir()
    code = "from qthybrid.hardware import JobJournal; JobJournal().list()"
    subprocess.run([sys.executable, "-c", code], env={**env, "HOME": str(home)}, check=True, timeout=300)
    assert ".local/share/qthybrid/jobs.sqlite" in _files_in(home)


# Checkpoints and runs -------------------------------------------------------------------------------------
class _Exploit:
    """Unpickling this calls open(marker, "w"): a file appears if the checkpoint's code runs."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.fixture(scope="module")
def _finished_run_template(tmp_path_factory):
    from qthybrid.experiments import load, run

    folder = tmp_path_factory.mktemp("finished")
    config = load(tiny_config(folder))
    run(config, folder / "run", progress=False)
    return config, folder / "run"


@pytest.fixture
def finished_run(_finished_run_template, tmp_path):
    """A finished one-epoch run directory of this test's own (a copy of one run made per module)."""
    import copy
    import shutil

    config, template = _finished_run_template
    out = tmp_path / "run"
    shutil.copytree(template, out)
    return copy.deepcopy(config), out


def test_a_crafted_checkpoint_cannot_run_code(finished_run, tmp_path):
    import torch

    from qthybrid.experiments import run
    from qthybrid.experiments.runner import CheckpointError

    config, out = finished_run
    marker = tmp_path / "code-ran"
    state = torch.load(out / "checkpoint.pt", weights_only=True)
    state["history"] = _Exploit(str(marker))
    torch.save(state, out / "checkpoint.pt")
    torch.load(out / "checkpoint.pt", weights_only=False)          # the file really is an exploit ...
    assert marker.exists()
    marker.unlink()
    with pytest.raises(CheckpointError, match="refers to io.open, not only tensors and plain data: loading it "
                                              "could run code, so it is refused"):
        run(config, out, resume=True, progress=False)               # ... and resuming refuses it
    assert not marker.exists()


@pytest.mark.parametrize("damage", ["truncated", "garbage", "not a checkpoint"])
def test_a_damaged_checkpoint_is_a_clear_error(finished_run, damage):
    import torch

    from qthybrid.experiments import run
    from qthybrid.experiments.runner import CheckpointError

    config, out = finished_run
    path = out / "checkpoint.pt"
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif damage == "garbage":
        path.write_bytes(os.urandom(4096))
    else:
        torch.save({"weights": torch.zeros(3)}, path)
    match = "is not a qthybrid checkpoint" if damage == "not a checkpoint" else "is corrupt or truncated"
    with pytest.raises(CheckpointError, match=match):
        run(config, out, resume=True, progress=False)


def test_a_resumed_run_reads_its_checkpoint_back(finished_run):
    """weights_only loading keeps what resume needs: the finished run resumes to the same final metrics."""
    from qthybrid.experiments import run

    config, out = finished_run
    before = json.loads((out / "final.json").read_text())["per_seed"]
    after = run(config, out, resume=True, progress=False)["per_seed"]
    assert after == before


def test_resume_on_a_missing_directory_is_an_error_not_a_fresh_start(tmp_path):
    from qthybrid.experiments import load, run

    with pytest.raises(FileNotFoundError, match="holds no run to continue"):
        run(load(tiny_config(tmp_path)), tmp_path / "runz", resume=True, progress=False)
    assert not (tmp_path / "runz").exists()


def test_duplicate_seeds_are_refused_before_any_work(tmp_path):
    from qthybrid.experiments import ConfigError, load, run

    config = load(tiny_config(tmp_path))
    config["experiment"]["seeds"] = [0, 1, 0]
    with pytest.raises(ConfigError, match=r"experiment.seeds repeats \[0\]"):
        run(config, tmp_path / "run", progress=False)
    assert not (tmp_path / "run").exists()


# The curve cache and NaN ----------------------------------------------------------------------------------
@pytest.fixture
def counting_backend(tmp_path, monkeypatch):
    """A statevector backend whose sweeps are counted (and given by the closed form, for speed)."""
    import qthybrid

    monkeypatch.setenv("QTHYBRID_CACHE_DIR", str(tmp_path / "cache"))
    backend = qthybrid.get_backend("statevector", preset="nisq")
    calls = []

    def sweep(E, barrier):
        calls.append(len(E))
        return transmission(np.asarray(E), barrier)

    monkeypatch.setattr(backend, "transmission", sweep)
    return backend, calls


@pytest.mark.parametrize("damage", ["truncated", "values above 1", "NaN values"])
def test_a_bad_cache_entry_is_recomputed(counting_backend, tmp_path, damage):
    from qthybrid.nn.tabulated import simulated_curve

    backend, calls = counting_backend
    eps = np.geomspace(0.1, 10, 16)
    expected = simulated_curve(backend, Barrier(), eps)
    (entry,) = (tmp_path / "cache").glob("*.npz")
    if damage == "truncated":
        entry.write_bytes(entry.read_bytes()[:200])
    else:
        with np.load(entry) as stored:
            fields = dict(stored)
        fields["T"] = fields["T"] + 7.0 if damage == "values above 1" else np.full_like(fields["T"], np.nan)
        np.savez(entry, **fields)
    again = simulated_curve(backend, Barrier(), eps)
    assert calls == [16, 16]                    # simulated again ...
    np.testing.assert_array_equal(again, expected)
    simulated_curve(backend, Barrier(), eps)
    assert calls == [16, 16]                    # ... and the repaired entry is served next time


def test_circuit_backed_activation_propagates_nan_like_the_analytic_one(counting_backend):
    import torch

    from qthybrid.nn import QTActivation

    backend, _ = counting_backend
    for mode in ("table", "exact"):
        circuit = QTActivation(backend=backend, mode=mode)
        low, high = circuit._curve.eps_range                  # exact mode simulates this range (or eps <= 0)
        inside = float(np.sqrt(low * high)) * 30.0 / 10.0       # a pre-activation z with eps = 10 z / 30 inside
        z = torch.tensor([float("nan"), -1.0, 0.0, inside, float("nan")], dtype=torch.float64)
        expected = QTActivation()(z)
        got = circuit(z)
        assert torch.equal(torch.isnan(got), torch.isnan(expected)) and torch.isnan(got[[0, 4]]).all()
        assert got[1] == 0 and got[2] == 0 and 0 < got[3] < 1


# Memory and extreme values ----------------------------------------------------------------------------------
def test_blocked_evaluation_matches_the_single_pass():
    E = np.linspace(-5.0, 150.0, 3 * 65536 + 18).reshape(3, -1)
    from qthybrid.physics.transmission import transmission_kernel
    from qthybrid._arrays import numpy_namespace

    with np.errstate(all="ignore"):
        T, dT = transmission_kernel(numpy_namespace(), E / 30.0, np.asarray(0.5), True)
    # Elementwise, so equal up to the last-bit differences of vectorised vs scalar exp/log loops.
    np.testing.assert_allclose(transmission(E, Barrier()), T, rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(dtransmission_dE(E, Barrier()), dT / 30.0, rtol=1e-13, atol=1e-300)


def test_energies_far_above_the_barrier_give_the_limit_not_nan():
    import torch

    # E / V0 overflows to inf: T -> 1 (1 - T <= 1 / (4 eps (eps - 1)) for every g) and dT/dE -> 0.
    assert transmission(1e10, Barrier(V0=1e-300, g=0.5)) == 1.0
    assert dtransmission_dE(1e10, Barrier(V0=1e-300, g=0.5)) == 0.0
    assert transmission(torch.tensor([3e38]), Barrier(V0=0.5, g=100.0)).item() == 1.0
    assert packet_transmission(1e300, Barrier()) == pytest.approx(1.0, abs=1e-15)
