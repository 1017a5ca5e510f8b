"""The job journal: every job sent to a provider, recorded in SQLite before the provider is called.

A job's row goes through these states:

``sending``
    written and committed *before* the provider is called, under a provisional
    id ``sending:<uuid>``. If the journal cannot be written, nothing is sent. A
    row left in this state means the submitting process stopped during the
    provider call: the job may exist at the provider without its id.
``submitted``
    the provider returned the job's id, which replaced the provisional one.
``done`` / ``failed``
    the result (or the error) is stored.

Jobs on local stand-ins (fake IBM backends, Braket's local simulator) run
inside the submitting process and cannot outlive it: their rows have
``durable = 0`` and their results can only be stored by that process.

Credentials never reach the journal: only the provider name, the backend name,
the job id, the program fingerprint and the swept parameters. Every SQLite
failure (locked for longer than the timeout, read-only, corrupt, not a
database) is raised as :class:`JournalError`, naming the file and the cause.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
import uuid
from contextlib import contextmanager
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
    updated_at    REAL NOT NULL,
    durable       INTEGER NOT NULL DEFAULT 1
)
"""

#: Seconds to wait for another process's write lock before giving up.
LOCK_TIMEOUT_S = 30.0


class JournalError(RuntimeError):
    """The job journal cannot be opened, read or written (the message names the file and why)."""


class UnknownJobError(KeyError, ValueError):
    """No job with this id is in the journal (a KeyError, and a ValueError: a bad argument)."""

    def __str__(self):
        return str(self.args[0])


def default_journal_path() -> Path:
    """$QTHYBRID_JOURNAL, else ~/.local/share/qthybrid/jobs.sqlite."""
    return Path(os.environ.get("QTHYBRID_JOURNAL", Path.home() / ".local" / "share" / "qthybrid" / "jobs.sqlite"))


@dataclass(frozen=True)
class JobRecord:
    """One journaled job (``durable`` is False for jobs that end with their process)."""

    job_id: str
    provider: str
    backend: str
    program: str
    parameters: dict
    submitted_at: float
    status: str
    result: dict | None
    updated_at: float
    durable: bool = True


def _cause(exc: BaseException, timeout: float) -> str:
    text = str(exc)
    if "locked" in text or "busy" in text:
        return f"{text} (another process has held its write lock for more than {timeout:g} s)"
    if "not a database" in text or "malformed" in text:
        return f"{text} (the file is corrupt or is not a qthybrid job journal)"
    if "readonly" in text or "read-only" in text:
        return f"{text} (the file or its folder is read-only)"
    if "unable to open" in text:
        return f"{text} (missing folder or no permission)"
    return text


class JobJournal:
    """SQLite-backed record of submitted jobs (safe to open from several processes).

    Args:
        path: the SQLite file (default :func:`default_journal_path`).
        timeout: seconds to wait for another process's write lock.
    """

    def __init__(self, path: str | Path | None = None, timeout: float = LOCK_TIMEOUT_S):
        self.path = Path(path) if path is not None else default_journal_path()
        self.timeout = float(timeout)
        if self.path.is_dir():
            raise JournalError(f"the job journal {self.path} is a directory, not an SQLite file")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise JournalError(f"cannot create the job journal's folder {self.path.parent}: "
                               f"{exc.strerror or exc}") from exc
        with self._transaction("opened") as connection:
            connection.execute(_SCHEMA)
            columns = {row[1] for row in connection.execute("PRAGMA table_info(jobs)")}
            missing = {"job_id", "provider", "backend", "program", "parameters", "submitted_at", "status",
                       "result", "updated_at"} - columns
            if missing:
                raise sqlite3.DatabaseError(f"its jobs table lacks the columns {', '.join(sorted(missing))}")
            if "durable" not in columns:    # journals written before jobs were marked durable or not
                connection.execute("ALTER TABLE jobs ADD COLUMN durable INTEGER NOT NULL DEFAULT 1")
        try:
            with self._transaction("opened") as connection:
                connection.execute("PRAGMA journal_mode=WAL")   # readers never wait for a writer
        except JournalError:
            pass   # e.g. a read-only folder: the default rollback journal still works

    @contextmanager
    def _transaction(self, action: str):
        """One connection, committed on success, closed always; SQLite errors become JournalError."""
        try:
            connection = sqlite3.connect(self.path, timeout=self.timeout)
        except sqlite3.Error as exc:
            raise JournalError(f"the job journal {self.path} could not be {action}: "
                               f"{_cause(exc, self.timeout)}") from exc
        connection.row_factory = sqlite3.Row
        try:
            with connection:
                yield connection
        except sqlite3.Error as exc:
            raise JournalError(f"the job journal {self.path} could not be {action}: "
                               f"{_cause(exc, self.timeout)}") from exc
        finally:
            connection.close()

    def record_sending(self, provider: str, backend: str, program: str, parameters: dict,
                       durable: bool = True) -> str:
        """Write a job about to be sent (state ``sending``); returns its provisional id.

        Raises JournalError when the row cannot be committed: then nothing may be sent.
        """
        provisional = f"sending:{uuid.uuid4()}"
        now = time.time()
        with self._transaction("written (nothing was sent)") as connection:
            connection.execute(
                "INSERT INTO jobs (job_id, provider, backend, program, parameters, submitted_at, status, result, "
                "updated_at, durable) VALUES (?, ?, ?, ?, ?, ?, 'sending', NULL, ?, ?)",
                (provisional, provider, backend, program, json.dumps(parameters, sort_keys=True), now, now,
                 int(bool(durable))))
        return provisional

    def record_sent(self, provisional: str, job_id: str) -> None:
        """The provider accepted the job: its id replaces the provisional one (state ``submitted``)."""
        with self._transaction(f"updated with the id of job {job_id}, which WAS sent") as connection:
            updated = connection.execute(
                "UPDATE jobs SET job_id = ?, status = 'submitted', updated_at = ? WHERE job_id = ?",
                (job_id, time.time(), provisional)).rowcount
        if not updated:
            raise UnknownJobError(f"job {provisional!r} is not in the journal {self.path}")

    def record_result(self, job_id: str, status: str, result: dict | None = None) -> None:
        """Store a job's outcome (``done`` with its result, or ``failed`` with the error)."""
        with self._transaction(f"updated with the outcome of job {job_id}") as connection:
            updated = connection.execute(
                "UPDATE jobs SET status = ?, result = ?, updated_at = ? WHERE job_id = ?",
                (status, None if result is None else json.dumps(result), time.time(), job_id)).rowcount
        if not updated:
            raise UnknownJobError(f"job {job_id!r} is not in the journal {self.path}")

    def get(self, job_id: str) -> JobRecord:
        """The job with this id; UnknownJobError if there is none."""
        with self._transaction("read") as connection:
            row = connection.execute("SELECT * FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
        if row is None:
            raise UnknownJobError(f"job {job_id!r} is not in the journal {self.path} "
                                  f"('qthybrid jobs list' shows the journaled ids)")
        return _record(row)

    def list(self, provider: str | None = None) -> list[JobRecord]:
        """Every journaled job (of one provider), oldest first."""
        query, arguments = "SELECT * FROM jobs", ()
        if provider is not None:
            query, arguments = query + " WHERE provider = ?", (provider,)
        with self._transaction("read") as connection:
            rows = connection.execute(query + " ORDER BY submitted_at", arguments).fetchall()
        return [_record(row) for row in rows]


def _record(row: sqlite3.Row) -> JobRecord:
    try:
        parameters = json.loads(row["parameters"])
        result = None if row["result"] is None else json.loads(row["result"])
    except json.JSONDecodeError as exc:
        raise JournalError(f"job {row['job_id']!r} has a corrupt journal entry: {exc}") from None
    return JobRecord(job_id=row["job_id"], provider=row["provider"], backend=row["backend"], program=row["program"],
                     parameters=parameters, submitted_at=row["submitted_at"], status=row["status"], result=result,
                     updated_at=row["updated_at"], durable=bool(row["durable"]))
