"""``Journal``: a crash-proof record of every job a run submits or waits on (SQLite, WAL).

A submission is written in two durable transactions: the intent before the POST, the job
id after it. A crash between the two leaves an entry in state ``intent``: "submitted, id
unknown", reported on resume and never silently re-sent. Each write is committed with
``synchronous=FULL``, so ``kill -9`` at any moment loses nothing already recorded.

Only one process writes a journal at a time: the writer holds an advisory lock on
``<journal>.lock`` (released by the OS even on ``kill -9``); a second writer gets
``JournalInUseError``. Readers (``imagekit-jobs journal FILE``) need no lock.

Entry states: ``queued`` (a row of a bulk submission, not sent yet: safe to send on
resume), ``intent`` (POST about to be sent, or its answer was lost), ``submitted``
(job id known, not yet finished), ``done`` (finished: Completed, Partial success, or the job
does not exist), ``failed`` (the API refused the submission: nothing was created).
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._errors import JournalError, JournalInUseError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: one writer is the caller's responsibility
    fcntl = None  # type: ignore[assignment]

__all__ = ["Entry", "Journal"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    entry        INTEGER PRIMARY KEY,
    kind         TEXT NOT NULL,
    params       TEXT NOT NULL,
    job_id       TEXT UNIQUE,
    state        TEXT NOT NULL,
    created_at   REAL NOT NULL,
    submitted_at REAL,
    last_status  TEXT,
    last_checked REAL,
    finished_at  REAL,
    outcome      TEXT,
    error        TEXT
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO meta VALUES ('schema', '1');
"""
_COLUMNS = (
    "entry, kind, params, job_id, state, created_at, submitted_at, last_status, "
    "last_checked, finished_at, outcome, error"
)


@dataclass(frozen=True, slots=True)
class Entry:
    """One journal row. Times are Unix seconds; ``error`` is the JSON error object."""

    entry: int
    kind: str
    params: Mapping[str, Any]
    job_id: str | None
    state: str
    created_at: float
    submitted_at: float | None
    last_status: str | None
    last_checked: float | None
    finished_at: float | None
    outcome: str | None
    error: Mapping[str, Any] | None

    @classmethod
    def _from_row(cls, row: tuple[Any, ...]) -> Entry:
        values = list(row)
        values[2] = json.loads(values[2])
        values[11] = json.loads(values[11]) if values[11] else None
        return cls(*values)


class Journal:
    """A journal file, opened for writing (``readonly=False``, locked) or for reading."""

    def __init__(self, path: str | os.PathLike[str], *, readonly: bool = False) -> None:
        self.path = os.fspath(path)
        self._lock_fd: int | None = None
        try:
            if readonly:
                if not os.path.exists(self.path):
                    raise JournalError(f"no journal at {self.path}")
                self._db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=10)
            else:
                self._lock()
                self._db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=FULL")
                self._db.executescript(_SCHEMA)
            self._db.execute("SELECT count(*) FROM entries").fetchone()
        except sqlite3.Error as exc:
            self.close()
            raise JournalError(f"cannot use {self.path} as a journal: {exc}") from exc
        except BaseException:
            self.close()
            raise

    def _lock(self) -> None:
        if fcntl is None:  # pragma: no cover
            return
        directory = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(directory):
            raise JournalError(f"cannot create a journal in {directory}: no such folder")
        fd = os.open(self.path + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise JournalInUseError(
                f"journal {self.path} is in use by another process; wait for it to finish "
                "or read it with 'imagekit-jobs journal'"
            ) from None
        self._lock_fd = fd

    def close(self) -> None:
        """Close the database and release the writer's lock."""
        db = getattr(self, "_db", None)
        if db is not None:
            db.close()
            self._db = None  # type: ignore[assignment]
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Journal({self.path!r})"

    # -- writing -------------------------------------------------------------------------

    def _write(self, sql: str, args: tuple[Any, ...]) -> int:
        try:
            cursor = self._db.execute(sql, args)  # autocommit: one durable transaction
        except sqlite3.Error as exc:
            raise JournalError(f"cannot write to journal {self.path}: {exc}") from exc
        return int(cursor.lastrowid or 0)

    def enqueue(self, items: list[tuple[str, Mapping[str, Any]]]) -> list[int]:
        """Record submissions to be sent later, in one transaction; return their entries."""
        now = time.time()
        try:
            self._db.execute("BEGIN IMMEDIATE")
            entries = [
                int(
                    self._db.execute(
                        "INSERT INTO entries (kind, params, state, created_at) "
                        "VALUES (?, ?, 'queued', ?)",
                        (kind, json.dumps(dict(params), sort_keys=True), now),
                    ).lastrowid
                    or 0
                )
                for kind, params in items
            ]
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise JournalError(f"cannot write to journal {self.path}: {exc}") from exc
        return entries

    def sending(self, entry: int) -> None:
        """A queued submission is about to be sent: from now on its fate may be unknown."""
        self._write(
            "UPDATE entries SET state = 'intent' WHERE entry = ? AND state = 'queued'", (entry,)
        )

    def requeue(self, entry: int) -> None:
        """The API proved nothing was created (429, 423): the submission is safe to re-send."""
        self._write(
            "UPDATE entries SET state = 'queued' WHERE entry = ? AND state = 'intent'", (entry,)
        )

    def submitted(self, entry: int, job_id: str) -> None:
        """Record the job id the API returned for a submission."""
        self._write(
            "UPDATE entries SET job_id = ?, state = 'submitted', submitted_at = ?, "
            "last_status = 'Pending', error = NULL WHERE entry = ?",
            (job_id, time.time(), entry),
        )

    def refused(self, entry: int, error: Mapping[str, Any]) -> None:
        """Record that the API refused a submission (nothing was created)."""
        self._write(
            "UPDATE entries SET state = 'failed', finished_at = ?, outcome = ?, error = ? "
            "WHERE entry = ?",
            (time.time(), error.get("kind"), json.dumps(dict(error)), entry),
        )

    def unknown(self, entry: int, error: Mapping[str, Any]) -> None:
        """A submission's answer was lost: it may or may not exist. Keep it as ``intent``."""
        self._write(
            "UPDATE entries SET error = ? WHERE entry = ? AND state = 'intent'",
            (json.dumps(dict(error)), entry),
        )

    def watch(self, job_id: str) -> None:
        """Record a job waited on (not submitted by this run), unless already recorded."""
        self._write(
            "INSERT OR IGNORE INTO entries (kind, params, job_id, state, created_at) "
            "VALUES ('wait', '{}', ?, 'submitted', ?)",
            (job_id, time.time()),
        )

    def status(self, job_id: str, status: str) -> None:
        """Record a status read."""
        self._write(
            "UPDATE entries SET last_status = ?, last_checked = ? WHERE job_id = ?",
            (status, time.time(), job_id),
        )

    def finished(
        self, job_id: str, outcome: str, *, error: Mapping[str, Any] | None = None
    ) -> None:
        """Record a job's final outcome; it will not be waited on again."""
        self._write(
            "UPDATE entries SET state = 'done', finished_at = ?, last_checked = ?, outcome = ?, "
            "error = ? WHERE job_id = ?",
            (
                time.time(),
                time.time(),
                outcome,
                json.dumps(dict(error)) if error else None,
                job_id,
            ),
        )

    def unsettled(self, job_id: str, error: Mapping[str, Any]) -> None:
        """A wait ended without a final answer (timeout, API error): keep it for resume."""
        self._write(
            "UPDATE entries SET error = ?, last_checked = ? WHERE job_id = ?",
            (json.dumps(dict(error)), time.time(), job_id),
        )

    # -- reading -------------------------------------------------------------------------

    def _select(self, where: str = "") -> list[Entry]:
        try:
            rows = self._db.execute(f"SELECT {_COLUMNS} FROM entries {where} ORDER BY entry")  # noqa: S608 - fixed clauses only
            return [Entry._from_row(row) for row in rows.fetchall()]
        except (sqlite3.Error, ValueError, TypeError) as exc:
            raise JournalError(f"cannot read journal {self.path}: {exc}") from exc

    def entries(self) -> list[Entry]:
        """Every entry, oldest first."""
        return self._select()

    def pending(self) -> list[Entry]:
        """Entries with a job id that has no final outcome yet."""
        return self._select("WHERE state = 'submitted'")

    def queued(self) -> list[Entry]:
        """Submissions recorded but never sent."""
        return self._select("WHERE state = 'queued'")

    def unknown_submissions(self) -> list[Entry]:
        """Submissions whose job id was never recorded ("submitted, id unknown")."""
        return self._select("WHERE state = 'intent'")
