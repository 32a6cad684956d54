"""The progress display: exact plain lines, the summary past eight jobs, live redraws."""

from __future__ import annotations

import io

from imagekit_jobs import PollEvent, RetryEvent, ServerError
from imagekit_jobs._progress import Progress

from .conftest import FakeClock, job


def poll(job_id: str, status: str, *, next_delay: float | None = 1.0) -> PollEvent:
    return PollEvent(
        job=job(status, job_id=job_id), attempt=1, elapsed=0, time_left=9, next_delay=next_delay
    )


def test_plain_lines_per_status_change_and_retry():
    """A few jobs in a log: one line per status change and per retry, none for repeats."""
    clock, stream = FakeClock(0.0), io.StringIO()
    progress = Progress(stream, mode="plain", clock=clock)
    progress.track("a")
    progress.on_poll(poll("a", "Pending"))
    clock.advance(1.5)
    progress.on_poll(poll("a", "Pending"))
    progress.on_retry(
        RetryEvent(
            "a",
            ServerError("x", status_code=502),
            attempt=3,
            elapsed=2,
            time_left=8,
            next_delay=2.0,
        )
    )
    clock.advance(2.0)
    progress.on_poll(poll("a", "Completed", next_delay=None))
    progress.finished("a", job("Completed", job_id="a"))
    progress.close()
    assert stream.getvalue() == (
        "[    0.0s] a: Pending\n"
        "[    1.5s] a: attempt 3: HTTP 502, retry in 2.0s\n"
        "[    3.5s] a: Completed\n"
    )


def test_plain_summary_past_eight_jobs():
    """Nine jobs or more in a log: a summary every 10 s and at the end, no per-job lines."""
    clock, stream = FakeClock(0.0), io.StringIO()
    progress = Progress(stream, mode="plain", clock=clock)
    ids = [f"j{i}" for i in range(12)]
    for job_id in ids:
        progress.track(job_id)
    for job_id in ids:
        progress.on_poll(poll(job_id, "Pending", next_delay=20.0))
    clock.advance(5.0)
    for job_id in ids[:5]:
        progress.finished(job_id, job("Completed", job_id=job_id))
    progress.finished("j5", ServerError("gone", status_code=500))
    clock.advance(5.0)
    progress.on_poll(poll("j6", "Pending", next_delay=20.0))  # 10 s: time for a summary
    clock.advance(4.0)
    progress.close()
    waiting = "still waiting: … {}  {:<16} {:6.1f}s  next check in {:.1f}s"
    assert stream.getvalue().splitlines() == [
        "[   10.0s] 5 done / 6 pending / 1 failed  (10s)",
        "[   10.0s] " + waiting.format("j6", "Pending", 10.0, 20.0),
        "[   10.0s] " + waiting.format("j7", "Pending", 10.0, 10.0),
        "[   10.0s] " + waiting.format("j8", "Pending", 10.0, 10.0),
        "[   14.0s] 5 done / 6 pending / 1 failed  (14s)",
        "[   14.0s] " + waiting.format("j6", "Pending", 14.0, 16.0),
        "[   14.0s] " + waiting.format("j7", "Pending", 14.0, 6.0),
        "[   14.0s] " + waiting.format("j8", "Pending", 14.0, 6.0),
    ]


def test_live_lines_are_redrawn_in_place():
    """On a terminal, the job's line is erased and redrawn, never with a carriage return."""
    clock, stream = FakeClock(100.0), io.StringIO()
    progress = Progress(stream, mode="live", clock=clock)
    progress.track("a")
    progress.on_poll(poll("a", "Pending", next_delay=2.0))
    clock.advance(1.0)
    progress.finished("a", job("Completed", job_id="a"))
    progress.close()
    text = stream.getvalue()
    assert "\r" not in text
    assert text.endswith("\x1b[1F\x1b[J" + "✓ a  {:<16} {:6.1f}s\n".format("Completed", 1.0))
    assert "… a  {:<16} {:6.1f}s  next check in 2.0s\n".format("Pending", 0.0) in text


def test_quiet_writes_nothing():
    """Quiet mode writes nothing at all."""
    stream = io.StringIO()
    progress = Progress(stream, mode="quiet")
    progress.message("hello")
    progress.on_poll(poll("a", "Pending"))
    progress.close()
    assert stream.getvalue() == ""
