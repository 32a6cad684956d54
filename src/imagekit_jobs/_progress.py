"""Progress on stderr: live lines on a terminal, plain lines in a log, nothing when quiet.

On a TTY each job has one line rewritten in place (status, elapsed, next check); past
``MAX_LIVE_LINES`` jobs a summary replaces them (done / pending / failed, and the slowest
pending jobs). Anywhere else (CI logs, pipes) every status change and every retry is one
plain line; past ``MAX_LIVE_LINES`` jobs the same summary is printed every
``PLAIN_SUMMARY_EVERY`` seconds and at the end instead. No carriage return is ever written.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TextIO

from ._models import BulkJob, PollEvent, RetryEvent

__all__ = ["Progress"]

MAX_LIVE_LINES = 8
PLAIN_SUMMARY_EVERY = 10.0
_REDRAW_EVERY = 0.1


@dataclass
class _Row:
    job_id: str
    status: str = "Submitted"
    next_check: float | None = None
    ended_at: float | None = None
    failed: bool = False
    note: str = ""


class Progress:
    """Reports a run's jobs on ``stream`` (``mode``: ``live``, ``plain`` or ``quiet``)."""

    def __init__(
        self,
        stream: TextIO,
        *,
        mode: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        self.mode = mode
        self.clock = clock
        self.start = clock()
        self._rows: dict[str, _Row] = {}
        self._drawn = 0
        self._last_draw = 0.0
        self._last_summary = self.start
        self._closed = False

    @classmethod
    def for_stream(cls, stream: TextIO, *, quiet: bool) -> Progress:
        """``quiet`` if asked, ``live`` on a terminal, else ``plain``."""
        if quiet:
            return cls(stream, mode="quiet")
        isatty = getattr(stream, "isatty", None)
        return cls(stream, mode="live" if isatty is not None and isatty() else "plain")

    # -- events --------------------------------------------------------------------------

    def message(self, text: str) -> None:
        """A line of its own (submission, warning), kept above the live lines."""
        if self.mode == "quiet":
            return
        self._clear()
        self.stream.write(text + "\n")
        self._redraw(force=True)

    @contextlib.contextmanager
    def above(self) -> Iterator[None]:
        """Lift the live lines while something else (a result on stdout) is written."""
        self._clear()
        try:
            yield
        finally:
            self._redraw(force=True)

    def track(self, job_id: str, status: str = "Submitted") -> None:
        """Start showing a job."""
        self._rows.setdefault(job_id, _Row(job_id, status))

    def on_poll(self, event: PollEvent) -> None:
        """A status read: update the job's line (or, plain, print a status change)."""
        row = self._rows.setdefault(event.job.job_id, _Row(event.job.job_id))
        changed = row.status != event.job.status
        row.status = event.job.status
        row.note = ""
        row.next_check = None if event.next_delay is None else self.clock() + event.next_delay
        if self._plain_per_job and changed:
            self._plain(f"{row.job_id}: {event.job.status}")
        self._redraw()

    def on_retry(self, event: RetryEvent) -> None:
        """A transient error: note it (plain: one line)."""
        row = self._rows.setdefault(event.job_id, _Row(event.job_id))
        row.next_check = None if event.next_delay is None else self.clock() + event.next_delay
        row.note = f"retrying after {_short(event.error)}"
        if self._plain_per_job:
            wait = (
                "no time left" if event.next_delay is None else f"retry in {event.next_delay:.1f}s"
            )
            self._plain(f"{event.job_id}: attempt {event.attempt}: {_short(event.error)}, {wait}")
        self._redraw()

    def finished(self, job_id: str, outcome: BulkJob | BaseException) -> None:
        """A job ended (its result line goes to stdout, not here)."""
        row = self._rows.setdefault(job_id, _Row(job_id))
        row.ended_at = self.clock()
        row.next_check = None
        if isinstance(outcome, BulkJob):
            row.status = outcome.status
            row.failed = not outcome.succeeded
        else:
            row.failed = True
            row.note = _short(outcome)
            if self._plain_per_job:
                self._plain(f"{job_id}: {outcome}")
        self._redraw(force=True)

    def close(self) -> None:
        """Leave the final picture on screen (in a log: the final summary, if summarising)."""
        if self.mode == "plain" and not self._plain_per_job and not self._closed:
            self._summarise(force=True)
        self._redraw(force=True)
        self._drawn = 0  # the final picture stays; later messages go below it
        self._closed = True

    # -- drawing -------------------------------------------------------------------------

    @property
    def _plain_per_job(self) -> bool:
        return self.mode == "plain" and len(self._rows) <= MAX_LIVE_LINES

    def _summarise(self, *, force: bool = False) -> None:
        now = self.clock()
        if force or now - self._last_summary >= PLAIN_SUMMARY_EVERY:
            self._last_summary = now
            for line in self._lines(now):
                self._plain(line.strip())

    def _plain(self, text: str) -> None:
        self.stream.write(f"[{self.clock() - self.start:7.1f}s] {text}\n")
        self.stream.flush()

    def _clear(self) -> None:
        if self.mode == "live" and self._drawn:
            self.stream.write(f"\x1b[{self._drawn}F\x1b[J")
            self._drawn = 0

    def _redraw(self, *, force: bool = False) -> None:
        if self.mode == "plain" and not self._plain_per_job and not self._closed:
            self._summarise()
        if self.mode != "live" or self._closed:
            return
        now = self.clock()
        if not force and now - self._last_draw < _REDRAW_EVERY:
            return
        self._last_draw = now
        lines = self._lines(now)
        self._clear()
        self.stream.write("".join(line + "\n" for line in lines))
        self.stream.flush()
        self._drawn = len(lines)

    def _lines(self, now: float) -> list[str]:
        rows = list(self._rows.values())
        if len(rows) <= MAX_LIVE_LINES:
            return [self._line(row, now) for row in rows]
        done = sum(1 for r in rows if r.ended_at is not None and not r.failed)
        failed = sum(1 for r in rows if r.ended_at is not None and r.failed)
        pending = len(rows) - done - failed
        lines = [f"{done} done / {pending} pending / {failed} failed  ({now - self.start:.0f}s)"]
        slow = [r for r in rows if r.ended_at is None][:3]
        lines += ["  still waiting: " + self._line(r, now) for r in slow]
        return lines

    def _line(self, row: _Row, now: float) -> str:
        elapsed = (row.ended_at or now) - self.start
        mark = "✓" if row.ended_at and not row.failed else "✗" if row.failed else "…"
        text = f"{mark} {row.job_id}  {row.status:<16} {elapsed:6.1f}s"
        if row.next_check is not None:
            text += f"  next check in {max(0.0, row.next_check - now):.1f}s"
        if row.note:
            text += f"  ({row.note})"
        return text


def _short(error: BaseException) -> str:
    code = getattr(error, "status_code", None)
    if isinstance(code, int) and code >= 300:
        return f"HTTP {code}"
    return type(error).__name__
