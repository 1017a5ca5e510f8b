"""Ray: sweeps (one task per variant and seed) and backend calls spread over tasks, on a real local Ray
instance with two worker CPUs, checked against the local executor's files and numbers.

The instance is started once for the module, its temporary files and logs in a temporary folder;
the tests needing it are skipped when Ray is not installed.
"""

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")

TINY = """
[experiment]
name = "tiny"
seeds = [0, 1]
epochs = 2
[model]
hidden = 32
train_limit = 300
[activation]
name = "qt"
"""


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def short_tempdir() -> Path:
    """A new temporary folder with a short path: Ray's socket paths under it must stay under 108 bytes."""
    return Path(tempfile.mkdtemp(prefix="qtray-", dir="/tmp" if os.path.isdir("/tmp") else None))


def qthybrid(*args, env=None, timeout=600):
    return subprocess.run([sys.executable, "-m", "qthybrid.cli", *args], capture_output=True, text=True,
                          env=env, timeout=timeout)


@pytest.fixture(scope="module")
def ray_address():
    """A local Ray head with 2 CPUs (two worker processes), its files under a temporary folder; its address."""
    ray = pytest.importorskip("ray")
    temp = short_tempdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RAY_AUTH_MODE", "disabled")      # no token file written to HOME; CLI subprocesses join freely
        patch.setenv("RAY_USAGE_STATS_ENABLED", "0")
        ray.init(num_cpus=2, _temp_dir=str(temp), include_dashboard=False, object_store_memory=80 * 2**20,
                 logging_level="ERROR")
        try:
            yield ray.get_runtime_context().gcs_address
        finally:
            ray.shutdown()
            shutil.rmtree(temp, ignore_errors=True)


def _without_timings(value):
    """A result file's content without wall-clock times and folder names (which differ between runs)."""
    if isinstance(value, dict):
        return {k: _without_timings(v) for k, v in value.items() if "seconds" not in k and k != "run_dir"}
    if isinstance(value, list):
        return [_without_timings(v) for v in value]
    return value


def _same_run_directories(local: Path, swept: Path) -> None:
    """The same files; equal metrics, histories and final model, optimiser and random states."""
    import torch

    assert sorted(p.name for p in local.iterdir()) == sorted(p.name for p in swept.iterdir())
    for name in ("final.json", "metrics.json", "config.json"):
        assert _without_timings(json.loads((local / name).read_text())) == \
            _without_timings(json.loads((swept / name).read_text())), name
    assert (local / "activation.csv").read_bytes() == (swept / "activation.csv").read_bytes()
    if (local / "checkpoint.pt").exists():
        a, b = (torch.load(d / "checkpoint.pt", weights_only=True) for d in (local, swept))
        assert list(a) == list(b) and a["seed"] == b["seed"]
        assert _without_timings(a["history"]) == _without_timings(b["history"])
        for key in ("generator", "torch_rng"):
            assert torch.equal(a[key], b[key])
        assert all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"])


# --- without a Ray instance ------------------------------------------------------------------------

def test_nothing_imports_ray_unless_asked():
    code = ("import sys, qthybrid\nfrom qthybrid.cli import main\nqthybrid.get_backend('statevector')\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\nprint('ray' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.splitlines()[-1] == "False"


def test_executor_arguments_are_checked(tmp_path, capsys):
    from qthybrid import get_backend
    from qthybrid.cli import main

    config = tmp_path / "tiny.toml"
    config.write_text(TINY)
    for args, match in [(["--ray-address", "auto"], "--ray-address needs --executor ray"),
                        (["--cpus-per-task", "2"], "--cpus-per-task needs --executor ray"),
                        (["--executor", "ray", "--cpus-per-task", "0"], "expected an integer >= 1")]:
        try:
            code = main(["compare", str(config), "--out", str(tmp_path / "out"), *args])
        except SystemExit as exit:             # argparse's own errors
            code = exit.code
        error = capsys.readouterr().err
        assert code == 2 and match in error and len(error.splitlines()) == 1, error
        assert not (tmp_path / "out").exists()
    with pytest.raises(ValueError, match="option 'executor' must be 'local' or 'ray', got 'dask'"):
        get_backend("statevector", executor="dask")


def test_a_missing_ray_is_one_clear_line(tmp_path):
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    (blocker / "ray.py").write_text("raise ImportError('No module named ray')\n")
    config = tmp_path / "tiny.toml"
    config.write_text(TINY)
    env = {**os.environ, "PYTHONPATH": str(blocker)}
    result = qthybrid("run", str(config), "--out", str(tmp_path / "out"), "--executor", "ray", env=env)
    assert result.returncode == 1, result
    assert result.stderr.strip() == ("qthybrid: error: ImportError: the ray executor needs Ray: pip install "
                                     "'qthybrid[distributed]' (or pip install ray)")


def test_a_run_directory_is_resumed_by_the_executor_that_started_it(tmp_path):
    from qthybrid.experiments import run

    config = load_tiny(tmp_path)
    started_on_ray = tmp_path / "ray-run"
    (started_on_ray / "seeds" / "0").mkdir(parents=True)
    (started_on_ray / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="was started with --executor ray .*: resume it with --executor ray"):
        run(config, started_on_ray, resume=True, progress=False)
    pytest.importorskip("ray")
    from qthybrid.experiments.sweep import run_on_ray

    started_locally = tmp_path / "local-run"
    started_locally.mkdir()
    (started_locally / "config.json").write_text(json.dumps(config))
    (started_locally / "checkpoint.pt").write_bytes(b"")
    with pytest.raises(ValueError, match="was started by the local executor .*: resume it without --executor ray"):
        run_on_ray(config, started_locally, resume=True, progress=False)


def load_tiny(folder: Path) -> dict:
    from qthybrid.experiments import load

    (folder / "tiny.toml").write_text(TINY)
    return load(folder / "tiny.toml")


def test_split_deals_every_row_once_in_order():
    from qthybrid.backends.distributed import split
    from qthybrid.programs import scattering_preset

    programs = scattering_preset("nisq").programs(np.linspace(0.3, 9.0, 40))
    for tasks in (1, 2, 3, 7, 200):
        groups = split(programs, tasks)
        assert 1 <= len(groups) <= tasks
        pieces = [piece for group in groups for piece in group]
        for index, program in enumerate(programs):
            rows = [(a, b) for i, a, b in pieces if i == index]
            assert rows[0][0] == 0 and rows[-1][1] == program.batch_size
            assert all(b == a2 for (_, b), (a2, _) in zip(rows, rows[1:]))
        assert pieces == sorted(pieces)


def test_tasks_ask_for_a_gpu_where_their_backend_runs_on_one():
    from qthybrid.backends import backend_class
    from qthybrid.backends.distributed import runs_on_gpu
    from qthybrid.experiments import validate
    from qthybrid.experiments.sweep import needs_gpu

    statevector, aer, pennylane = (backend_class(n).capabilities for n in ("statevector", "aer", "pennylane"))
    assert [runs_on_gpu(statevector, device, 0) for device in ("auto", "cpu", "cuda", "cuda:1")] == \
        [False, False, True, True]
    assert runs_on_gpu(statevector, "auto", 4) and runs_on_gpu(aer, "GPU", 0) and not runs_on_gpu(aer, "CPU", 4)
    assert runs_on_gpu(pennylane, "lightning.gpu", 0) and not runs_on_gpu(pennylane, "default.qubit", 4)
    assert not runs_on_gpu(backend_class("analytic").capabilities, "auto", 4)

    def config(**activation):
        return validate({"activation": activation})

    assert needs_gpu(config(backend="statevector"), 1) and not needs_gpu(config(backend="statevector"), 0)
    assert not needs_gpu(config(backend="analytic"), 1) and not needs_gpu(config(name="relu"), 1)
    assert needs_gpu(config(backend="pennylane", device="lightning.gpu"), 0)
    assert not needs_gpu(config(backend="pennylane", device="lightning.qubit"), 1)


# --- on the Ray instance -------------------------------------------------------------------------

def test_backend_sweeps_spread_over_tasks_equal_the_local_run(ray_address):
    from qthybrid import Barrier, get_backend
    from qthybrid.programs import CurveScattering, annealing_program, grid_points

    E = np.linspace(10.0, 270.0, 40)
    curve = CurveScattering(num_qubits=9, barrier_points=4, g=0.5, dt=0.2, name="small-curve")
    for name, options, energies in [("statevector", {"preset": "nisq"}, E),
                                    ("statevector", {"scattering": curve}, np.linspace(180.0, 3000.0, 12)),
                                    ("aer", {"preset": "nisq"}, E)]:
        local = get_backend(name, **options).run_transmission(energies, Barrier())
        spread = get_backend(name, executor="ray", ray_address=ray_address, ray_tasks=3,
                                      **options).run_transmission(energies, Barrier())
        np.testing.assert_allclose(spread.transmission, local.transmission, rtol=0, atol=1e-12)
        assert spread.metadata["executor"] == "ray" and spread.metadata["ray_tasks"] >= 2, spread.metadata
    x = grid_points([(-2.0, 2.0), (-1.0, 3.0)], 3)
    programs = [annealing_program(x[:, 0] ** 4 - 2 * x[:, 0] ** 2 + (x[:, 1] - 1) ** 2, 3, 2, 1e-2, 1e-5, 25, 0.5)]
    local = get_backend("statevector").execute(programs)
    spread = get_backend("statevector", executor="ray").execute(programs)
    np.testing.assert_allclose(spread[0].probabilities, local[0].probabilities, rtol=0, atol=1e-12)


@pytest.fixture(scope="module")
def local_compare(tmp_path_factory):
    """The reference: TINY compared (qt/analytic against relu) by the local executor; (config path, folder, rows)."""
    from qthybrid.experiments import compare, load

    folder = tmp_path_factory.mktemp("local")
    config = folder / "tiny.toml"
    config.write_text(TINY)
    rows = compare(load(config), ["analytic"], ["relu"], folder / "compare", progress=False)
    return config, folder / "compare", rows


def test_compare_on_ray_writes_the_local_run(ray_address, local_compare, tmp_path):
    """compare.json and every run directory as the local executor writes them (same files, same numbers)."""
    from qthybrid.experiments import compare, load
    from qthybrid.experiments.progress import Progress

    config, local, local_rows = local_compare
    swept = tmp_path / "ray"
    log = io.StringIO()
    rows = compare(load(config), ["analytic"], ["relu"], swept, progress=Progress(log, mode="plain"),
                   executor="ray", ray_address=ray_address)
    assert _without_timings(rows) == _without_timings(local_rows)
    assert _without_timings(json.loads((swept / "compare.json").read_text())) == _without_timings(local_rows)
    assert sorted(p.name for p in swept.iterdir()) == sorted(p.name for p in local.iterdir())
    for variant in ("qt_analytic", "relu"):
        _same_run_directories(local / variant, swept / variant)
    # progress for the whole sweep: one line per event in a log, each with the counts
    text = log.getvalue()
    assert "[tiny] ray: 4 tasks (one per variant and seed) on 1 node(s) with 2 CPUs" in text
    assert "qt/analytic seed 1 epoch 2/2: test acc" in text and "relu seed 0 done: test acc" in text
    assert text.rstrip().endswith("tasks: 4/4 done, 0 running, 0 failed, 0 waiting")
    # --resume on a finished comparison: nothing trained again, the same table (either executor)
    log = io.StringIO()
    again = compare(load(config), ["analytic"], ["relu"], swept, progress=Progress(log, mode="plain"), resume=True,
                    executor="ray", ray_address=ray_address)
    assert _without_timings(again) == _without_timings(local_rows) and "ray:" not in log.getvalue()
    again = compare(load(config), ["analytic"], ["relu"], local, progress=False, resume=True)
    assert _without_timings(again) == _without_timings(local_rows)


@pytest.mark.slow
def test_the_cli_compares_on_its_own_ray_instance_as_locally(local_compare, tmp_path):
    """The command as users type it: no address, so the CLI starts (and stops) its own local Ray instance."""
    pytest.importorskip("ray")
    config, _, local_rows = local_compare
    ray_tmp = short_tempdir()
    env = {**os.environ, "RAY_TMPDIR": str(ray_tmp), "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}
    try:
        result = qthybrid("--json", "compare", str(config), "--backends", "analytic", "--baselines", "relu",
                          "--executor", "ray", "--out", str(tmp_path / "ray"), env=env)
    finally:
        shutil.rmtree(ray_tmp, ignore_errors=True)
    assert result.returncode == 0, result.stderr
    assert _without_timings(json.loads(result.stdout)["rows"]) == _without_timings(local_rows)
    assert _without_timings(json.loads((tmp_path / "ray" / "compare.json").read_text())) == \
        _without_timings(local_rows)


def test_a_failed_task_is_reported_and_the_others_kept(ray_address, local_compare, tmp_path, monkeypatch):
    from qthybrid.experiments import load
    from qthybrid.experiments.progress import Progress
    from qthybrid.experiments.sweep import STAGING, SweepError, run_on_ray

    config = load(local_compare[0])
    out = tmp_path / "run"
    out.mkdir()
    (out / "config.json").write_text(json.dumps(config))
    (out / STAGING).mkdir()
    (out / STAGING / "1").write_text("in the way")       # seed 1's run directory cannot be made
    log = io.StringIO()
    with pytest.raises(SweepError, match=r"^1 of 2 tasks failed: qt/analytic seed 1 \(FileExistsError: the run "
                                         r"directory .*/seeds/1 is a file"):
        run_on_ray(config, out, resume=True, progress=Progress(log, mode="plain"), address=ray_address)
    assert "qt/analytic seed 1 failed: FileExistsError:" in log.getvalue()
    assert "qt/analytic seed 0 done" in log.getvalue()
    assert (out / STAGING / "0" / "final.json").is_file() and not (out / "final.json").exists()
    (out / STAGING / "1").unlink()
    monkeypatch.delenv("COLUMNS", raising=False)
    screen = FakeTerminal()                               # live: the sweep's line redrawn in place
    run_on_ray(config, out, resume=True, progress=Progress(screen, mode="live"), address=ray_address)
    text = screen.getvalue()
    assert "1 tasks (one per variant and seed; 1 seeds already done)" in text and "seed 0" not in text
    assert "[tiny] tasks: 0/1 done, 1 running, 0 failed, 0 waiting (" in text
    drawn = [line for line in text.replace("\x1b[K", "").replace("\r", "\n").split("\n") if "tasks:" in line]
    assert drawn and all(len(line) < 80 for line in drawn), drawn        # the sweep's line fits the terminal
    kept = [line.split("\r")[-1].replace("\x1b[K", "") for line in text.split("\n")]
    assert any(line.startswith("[tiny] qt/analytic seed 1 done: test acc") for line in kept)
    _same_run_directories(local_compare[1] / "qt_analytic", out)
    # run directory checks happen before Ray is asked: a finished run is not overwritten
    with pytest.raises(FileExistsError, match="already holds a run"):
        run_on_ray(config, out, address=ray_address)
    with pytest.raises(ValueError, match="--cpus-per-task 64: each task needs 64 CPUs but the largest Ray node has 2"):
        run_on_ray(config, tmp_path / "too-big", cpus_per_task=64, address=ray_address)


def _processes_of(ray_tmp: Path) -> dict:
    """pid -> command of the processes started with RAY_TMPDIR=ray_tmp (the CLI's Ray instance and workers)."""
    mark, found = f"RAY_TMPDIR={ray_tmp}".encode(), {}
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and mark in (proc / "environ").read_bytes().split(b"\0"):
                found[int(proc.name)] = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()[:60]
        except OSError:
            pass
    return found


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="finds Ray's processes through /proc")
def test_a_killed_driver_resumes_to_the_local_metrics(tmp_path):
    """The CLI's own local Ray instance: the driver is SIGKILLed mid-sweep, its tasks go with it, --resume finishes."""
    pytest.importorskip("ray")
    config = tmp_path / "config.toml"
    config.write_text(TINY.replace("epochs = 2", "epochs = 8").replace("train_limit = 300", "train_limit = 0"))
    ray_tmp = short_tempdir()
    env = {**os.environ, "RAY_TMPDIR": str(ray_tmp), "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}
    out = tmp_path / "run"
    try:
        process = subprocess.Popen([sys.executable, "-m", "qthybrid.cli", "run", str(config), "--out", str(out),
                                    "--executor", "ray"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   env=env)
        deadline = time.time() + 300
        while not list(out.glob("seeds/*/checkpoint.pt")) and time.time() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert not (out / "final.json").exists(), "the run finished before it could be killed"
        deadline = time.time() + 60
        while time.time() < deadline:
            # Ray's two node agents poll for their raylet and exit on their own within about two minutes
            left = {pid: c for pid, c in _processes_of(ray_tmp).items() if "Agent" not in c}
            if not left:
                break
            time.sleep(1)
        assert not left, f"Ray processes outlived the killed driver: {left}"
        resumed = qthybrid("run", str(config), "--out", str(out), "--resume", "--executor", "ray", env=env)
        assert resumed.returncode == 0, resumed.stderr
    finally:
        for pid in _processes_of(ray_tmp):
            os.kill(pid, signal.SIGKILL)
        shutil.rmtree(ray_tmp, ignore_errors=True)
    reference = tmp_path / "reference"
    assert qthybrid("run", str(config), "--out", str(reference)).returncode == 0
    _same_run_directories(reference, out)
