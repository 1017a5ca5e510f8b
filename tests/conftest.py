"""Shared fixtures, and a sandbox that keeps every test away from the user's files.

Before any test module is imported, ``HOME``, the XDG directories, matplotlib's
config directory and qthybrid's curve cache are pointed at one temporary
directory for the session (removed at the end), so nothing a test or an import
does can reach the real home directory. Each test then runs in its own
temporary working directory (default run directories ``runs/`` land there) with
its own ``HOME``, job journal and benchmark-results folder, and without the
user's provider credentials or data directory.
"""

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest

#: Environment variables that would let a test reach the user's data or accounts.
_UNSET = ("QTHYBRID_DATA", "QISKIT_IBM_TOKEN", "QISKIT_IBM_INSTANCE", "QISKIT_IBM_CHANNEL", "AWS_ACCESS_KEY_ID",
          "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "IONQ_API_KEY")

_SESSION = Path(tempfile.mkdtemp(prefix="qthybrid-tests-"))


def _sandbox_session() -> None:
    home = _SESSION / "home"
    for name, path in {"HOME": home, "XDG_CACHE_HOME": home / ".cache", "XDG_CONFIG_HOME": home / ".config",
                       "XDG_DATA_HOME": home / ".local" / "share", "XDG_STATE_HOME": home / ".local" / "state",
                       "MPLCONFIGDIR": _SESSION / "matplotlib",
                       # Shared by the whole session: simulated curves are costly and identical across tests.
                       "QTHYBRID_CACHE_DIR": _SESSION / "curve-cache",
                       "QTHYBRID_JOURNAL": _SESSION / "journal" / "jobs.sqlite",
                       "QTHYBRID_BENCH_RESULTS": _SESSION / "bench-results"}.items():
        (path.parent if name == "QTHYBRID_JOURNAL" else path).mkdir(parents=True, exist_ok=True)
        os.environ[name] = str(path)
    for name in _UNSET:
        os.environ.pop(name, None)


_sandbox_session()   # at import of this file, i.e. before test modules (and their imports) are collected


def pytest_unconfigure(config):
    shutil.rmtree(_SESSION, ignore_errors=True)


@pytest.fixture(autouse=True)
def sandbox(tmp_path_factory, monkeypatch):
    """A fresh HOME, working directory (so ``runs/``), job journal and benchmark folder for each test."""
    root = tmp_path_factory.mktemp("sandbox")
    for name in ("home", "cwd", "journal", "bench-results"):
        (root / name).mkdir()
    monkeypatch.setenv("HOME", str(root / "home"))
    monkeypatch.setenv("QTHYBRID_JOURNAL", str(root / "journal" / "jobs.sqlite"))
    monkeypatch.setenv("QTHYBRID_BENCH_RESULTS", str(root / "bench-results"))
    for name in _UNSET:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(root / "cwd")
    return root


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture
def paper_barrier():
    from qthybrid import Barrier

    return Barrier(V0=30.0, g=0.5)
