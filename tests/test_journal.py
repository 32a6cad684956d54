"""The journal: durable two-step submissions, one writer at a time, readable while in use."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import pytest

from imagekit_jobs import JournalError, JournalInUseError
from imagekit_jobs._journal import Journal


def test_intent_then_submitted_then_finished(tmp_path):
    """An entry goes queued -> intent -> submitted -> done, each step visible to a reader."""
    path = tmp_path / "j.db"
    with Journal(path) as journal:
        (entry,) = journal.enqueue(
            [("copy_folder", {"source_folder_path": "/a", "destination_path": "/b"})]
        )
        assert [e.entry for e in journal.queued()] == [entry]
        journal.sending(entry)
        with Journal(path, readonly=True) as reader:
            (row,) = reader.unknown_submissions()
            assert (row.entry, row.state, row.job_id) == (entry, "intent", None)
        journal.submitted(entry, "job1")
        with Journal(path, readonly=True) as reader:
            assert [e.job_id for e in reader.pending()] == ["job1"]
            assert reader.unknown_submissions() == []
        journal.status("job1", "Pending")
        journal.finished("job1", "Completed")
    with Journal(path, readonly=True) as reader:
        (row,) = reader.entries()
    assert (row.state, row.outcome, row.last_status) == ("done", "Completed", "Pending")
    assert dict(row.params) == {"source_folder_path": "/a", "destination_path": "/b"}
    assert row.finished_at is not None


def test_refused_and_unknown_submissions(tmp_path):
    """A refused POST is 'failed'; a lost answer stays 'intent' with the error noted."""
    with Journal(tmp_path / "j.db") as journal:
        refused, lost = journal.enqueue([("move_folder", {"x": 1}), ("move_folder", {"x": 2})])
        journal.sending(refused)
        journal.sending(lost)
        journal.refused(refused, {"kind": "bad_request", "message": "no"})
        journal.unknown(lost, {"kind": "submission_unknown", "message": "dropped"})
        states = {e.entry: (e.state, e.outcome, e.error["kind"]) for e in journal.entries()}
    assert states == {
        refused: ("failed", "bad_request", "bad_request"),
        lost: ("intent", None, "submission_unknown"),
    }


def test_watch_records_a_job_once(tmp_path):
    """Waiting on the same job twice records one entry."""
    with Journal(tmp_path / "j.db") as journal:
        journal.watch("job1")
        journal.watch("job1")
        assert [(e.kind, e.job_id, e.state) for e in journal.entries()] == [
            ("wait", "job1", "submitted")
        ]


def test_second_writer_gets_journal_in_use(tmp_path):
    """A second writer, in another process, gets JournalInUseError; readers still read."""
    path = tmp_path / "j.db"
    with Journal(path) as journal:
        journal.watch("job1")
        code = (
            "import sys\n"
            "from imagekit_jobs._journal import Journal\n"
            "from imagekit_jobs import JournalInUseError\n"
            "try:\n"
            f"    Journal({str(path)!r})\n"
            "except JournalInUseError as e:\n"
            "    print('in use:', e); sys.exit(3)\n"
        )
        proc = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=False
        )
        assert proc.returncode == 3
        assert "is in use by another process" in proc.stdout
        with Journal(path, readonly=True) as reader:
            assert len(reader.entries()) == 1
    with Journal(path) as again:  # released on close
        assert len(again.entries()) == 1


def test_second_writer_in_the_same_process_is_refused_too(tmp_path):
    """flock is per open file: a second Journal on the same path in one process is refused."""
    path = tmp_path / "j.db"
    with Journal(path), pytest.raises(JournalInUseError):
        Journal(path)


def test_not_a_database_is_a_journal_error(tmp_path):
    """A file that is not SQLite: JournalError, not sqlite3.DatabaseError."""
    path = tmp_path / "j.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(JournalError, match="cannot use"):
        Journal(path)


def test_missing_journal_for_reading(tmp_path):
    """Reading a journal that does not exist: JournalError."""
    with pytest.raises(JournalError, match="no journal"):
        Journal(tmp_path / "nope.db", readonly=True)


def test_wal_mode_and_full_sync(tmp_path):
    """The file is in WAL mode (crash-safe commits, readers beside the writer)."""
    path = tmp_path / "j.db"
    with Journal(path):
        pass
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone() == ("wal",)
