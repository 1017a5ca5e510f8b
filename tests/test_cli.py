"""The qthybrid command through its real entry point."""

import json
import subprocess
import sys

import pytest


def qthybrid(*args, env=None, timeout=300):
    return subprocess.run([sys.executable, "-m", "qthybrid.cli", *args], capture_output=True, text=True,
                          env=env, timeout=timeout)


def test_help_imports_no_heavy_library():
    # What makes --help fast on any machine (no wall-clock bound: timings depend on the machine).
    code = ("import sys\nfrom qthybrid.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit as exit:\n"
            "    print(exit.code, sorted(m for m in ('torch', 'qiskit', 'pennylane', 'sklearn') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines()[-1] == "0 []"
    assert qthybrid("--help").returncode == 0


def test_curve_prints_the_backends_side_by_side():
    result = qthybrid("--json", "curve", "--backends", "analytic,aer", "--preset", "nisq", "--energies", "0.5,2")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["eps"] == [0.5, 2.0] and len(payload["aer"]) == 2
    assert payload["analytic"][1] == pytest.approx(0.97207, abs=1e-5)


def test_circuits_export_writes_the_files(tmp_path):
    result = qthybrid("circuits", "export", "--dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert len(list(tmp_path.glob("*.qasm"))) == len(manifest["circuits"]) >= 7


def test_submit_and_jobs_round_trip(tmp_path):
    import os

    env = {**os.environ, "QTHYBRID_JOURNAL": str(tmp_path / "jobs.sqlite")}
    declined = subprocess.run([sys.executable, "-m", "qthybrid.cli", "submit", "ibm:fake_lagos", "--preset", "nisq",
                               "--shots", "200"],
                              capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL)
    assert declined.returncode == 3 and "cost:" in declined.stderr
    sent = qthybrid("--json", "submit", "ibm:fake_lagos", "--preset", "nisq", "--shots", "200", "--yes", "--wait",
                    env=env)
    assert sent.returncode == 0, sent.stderr
    job_id = json.loads(sent.stdout)["job_id"]
    listed = qthybrid("jobs", "list", env=env)
    assert job_id in listed.stdout and "done" in listed.stdout
    fetched = qthybrid("--json", "jobs", "fetch", job_id, env=env)
    assert len(json.loads(fetched.stdout)["result"]["transmission"]) == 3


def test_bad_arguments_have_meaningful_exit_codes():
    assert qthybrid("curve", "--preset", "huge").returncode == 2
    bad_target = qthybrid("submit", "rigetti:aspen", "--yes")
    assert bad_target.returncode == 2 and "target must be" in bad_target.stderr
    assert qthybrid("curve", "--energies", "0.001", "--backends", "statevector").returncode == 2


def test_anneal_named_and_user_functions(tmp_path):
    result = qthybrid("--json", "anneal", "rastrigin")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["fun"] <= 1e-6
    (tmp_path / "my_objective.py").write_text("def bowl(x):\n    return ((x - 0.3) ** 2).sum(-1)\n")
    import os

    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    result = qthybrid("--json", "anneal", "my_objective:bowl", "--bounds=-1:1,-1:1", "--backend", "statevector",
                      env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["x"] == pytest.approx([0.3, 0.3], abs=1e-6)
    assert qthybrid("anneal", "nonesuch").returncode == 2
    assert qthybrid("anneal", "rastrigin", "--bounds=1:-1").returncode == 2


def test_circuits_show_and_bench_arguments():
    result = qthybrid("--json", "circuits", "show", "nisq", "--eps", "1.0")
    assert result.returncode == 0, result.stderr
    costs = json.loads(result.stdout)
    assert costs["qubits"] == 6 and costs["steps"] == 10 and costs["two_qubit_gates"] > 0
    unknown = qthybrid("bench", "no_such_benchmark")
    assert unknown.returncode == 2 and "unknown benchmark" in unknown.stderr


def test_bench_runs_a_benchmark_and_prints_its_table(tmp_path):
    import os

    env = {**os.environ, "QTHYBRID_BENCH_RESULTS": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "qthybrid.cli", "bench", "classifier"], capture_output=True,
                            text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "| TunnelingClassifier (learned, BFGS) |" in result.stdout
    payload = json.loads((tmp_path / "classifier.json").read_text())
    assert {row["model"] for row in payload["rows"]} >= {"LogisticRegression (lbfgs, no penalty)"}
