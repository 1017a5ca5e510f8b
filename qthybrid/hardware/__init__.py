"""Quantum hardware: cost-checked submission to providers and the SQLite job journal."""

from .journal import JobJournal, JobRecord, JournalError, UnknownJobError, default_journal_path
from .providers import CredentialsError, SubmissionCost, fetch, prepare, submit

__all__ = ["JobJournal", "JobRecord", "JournalError", "UnknownJobError", "default_journal_path", "CredentialsError",
           "SubmissionCost", "prepare", "submit", "fetch"]
