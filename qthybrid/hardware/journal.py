"""The job journal: every job sent to a provider, recorded in SQLite before anything waits on it.

A row is written (and committed) the moment a provider returns a job id, so a
crash, a kill or a lost network after submission never loses the job: it can
be listed and fetched later from another process. Results are stored when
they arrive. Credentials never reach the journal: only the provider name, the
backend name, the job id, the program fingerprint and the swept parameters.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    job_id        TEXT PRIMARY KEY,
    provider      TEXT NOT NULL,
    backend       TEXT NOT NULL,
    program       TEXT NOT NULL,
    parameters    TEXT NOT NULL,
    submitted_at  REAL NOT NULL,
    status        TEXT NOT NULL,
    result        TEXT,
    updated_at    REAL NOT NULL
)
"""


def default_journal_path() -> Path:
    """$QTHYBRID_JOURNAL, else ~/.local/share/qthybrid/jobs.sqlite."""
    return Path(os.environ.get("QTHYBRID_JOURNAL", Path.home() / ".local" / "share" / "qthybrid" / "jobs.sqlite"))


@dataclass(frozen=True)
class JobRecord:
    """One journaled job."""

    job_id: str
    provider: str
    backend: str
    program: str
    parameters: dict
    submitted_at: float
    status: str
    result: dict | None
    updated_at: float


class JobJournal:
    """SQLite-backed record of submitted jobs (safe to open from several processes)."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path is not None else default_journal_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as connection:
            connection.execute(_SCHEMA)

    def _connect(self):
        connection = sqlite3.connect(self.path, timeout=30)
        connection.execute("PRAGMA journal_mode=WAL")
        return connection

    def record_submission(self, job_id: str, provider: str, backend: str, program: str,
                          parameters: dict) -> None:
        """Write the job before anything can wait on it (committed on return)."""
        now = time.time()
        with self._connect() as connection:
            connection.execute(
                "INSERT INTO jobs VALUES (?, ?, ?, ?, ?, ?, 'submitted', NULL, ?)",
                (job_id, provider, backend, program, json.dumps(parameters, sort_keys=True), now, now))

    def record_result(self, job_id: str, status: str, result: dict | None = None) -> None:
        with self._connect() as connection:
            updated = connection.execute(
                "UPDATE jobs SET status = ?, result = ?, updated_at = ? WHERE job_id = ?",
                (status, None if result is None else json.dumps(result), time.time(), job_id)).rowcount
        if not updated:
            raise KeyError(f"job {job_id!r} is not in the journal {self.path}")

    def get(self, job_id: str) -> JobRecord:
        with self._connect() as connection:
            row = connection.execute("SELECT * FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
        if row is None:
            raise KeyError(f"job {job_id!r} is not in the journal {self.path}")
        return _record(row)

    def list(self, provider: str | None = None) -> list[JobRecord]:
        query, arguments = "SELECT * FROM jobs", ()
        if provider is not None:
            query, arguments = query + " WHERE provider = ?", (provider,)
        with self._connect() as connection:
            rows = connection.execute(query + " ORDER BY submitted_at", arguments).fetchall()
        return [_record(row) for row in rows]


def _record(row) -> JobRecord:
    job_id, provider, backend, program, parameters, submitted_at, status, result, updated_at = row
    return JobRecord(job_id=job_id, provider=provider, backend=backend, program=program,
                     parameters=json.loads(parameters), submitted_at=submitted_at, status=status,
                     result=None if result is None else json.loads(result), updated_at=updated_at)
