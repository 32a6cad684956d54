"""One command's run: wait on jobs, print each result, keep the journal, handle Ctrl-C.

stdout carries results only, one line (or one JSON object) per job as it ends; progress
goes to stderr. Every outcome is written to the journal before it is printed, so a crash
between the two loses no record, and ``resume`` never reports a finished job twice.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from ._errors import JobNotFoundError, JobPartialSuccessError
from ._journal import Journal
from ._models import BulkJob, PollEvent, RetryEvent
from ._outcomes import Interrupted, error_json, exit_code, kind_of
from ._progress import Progress
from ._waiter import JobStatusSource, JobWaiter

__all__ = ["Output", "WaitSettings", "wait_and_report", "wait_command"]


@dataclass(frozen=True, slots=True)
class WaitSettings:
    """The waiting options of the command line."""

    timeout: float | None
    initial_interval: float
    max_interval: float
    workers: int = 8


class Output:
    """Writes result lines to stdout, human-readable or one JSON object per line."""

    def __init__(self, stream: TextIO, *, as_json: bool, clock: Callable[[], float]) -> None:
        self.stream = stream
        self.as_json = as_json
        self.clock = clock
        self.start = clock()

    def result(
        self,
        job_id: str | None,
        *,
        job_type: str | None,
        status: str | None,
        polls: int,
        error: BaseException | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        """One job's line."""
        elapsed = round(self.clock() - self.start, 3)
        if self.as_json:
            record: dict[str, Any] = {
                "jobId": job_id,
                "type": job_type,
                "status": status,
                "elapsedSeconds": elapsed,
                "polls": polls,
            }
            if extra:
                record.update(extra)
            if error is not None:
                record["error"] = error_json(error)
            self.stream.write(json.dumps(record) + "\n")
        else:
            parts = [job_id or "-", job_type or "-", status or "-", f"{elapsed:.1f}s"]
            if extra and "line" in extra:
                parts.append(f"line {extra['line']}")
            if error is not None:
                parts.append(f"{kind_of(error)}: {_one_line(error)}")
            self.stream.write("  ".join(parts) + "\n")
        self.stream.flush()


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())


class _Counting:
    """Counts status requests per job and remembers each job's last read."""

    def __init__(self, inner: JobStatusSource) -> None:
        self.inner = inner
        self.polls: dict[str, int] = {}
        self.last: dict[str, BulkJob] = {}
        self.timeout = getattr(inner, "timeout", 10.0)
        self.budget = getattr(inner, "budget", None)

    def get_job(self, job_id: str, *, timeout: float | None = None) -> BulkJob:
        self.polls[job_id] = self.polls.get(job_id, 0) + 1
        job = self.inner.get_job(job_id, timeout=timeout)
        self.last[job_id] = job
        return job


def wait_and_report(
    client: JobStatusSource,
    job_ids: Sequence[str],
    *,
    settings: WaitSettings,
    output: Output,
    progress: Progress,
    journal: Journal | None,
    resume_command: str,
    job_types: dict[str, str] | None = None,
    wait_options: Sequence[str] = (),
) -> list[int]:
    """Wait on every job, printing each outcome as it comes; return their exit codes.

    On Ctrl-C or SIGTERM, the pending jobs are named with the command that resumes them
    (``resume_command``, else ``imagekit-jobs wait`` with ``wait_options`` and the pending
    ids), then ``Interrupted`` is raised.
    """
    counting = _Counting(client)
    types = dict(job_types or {})
    last_status: dict[str, str] = {}

    def on_poll(event: PollEvent) -> None:
        if journal is not None and last_status.get(event.job.job_id) != event.job.status:
            journal.status(event.job.job_id, event.job.status)
        last_status[event.job.job_id] = event.job.status
        progress.on_poll(event)

    def on_retry(event: RetryEvent) -> None:
        progress.on_retry(event)

    waiter = JobWaiter(
        counting,
        timeout=settings.timeout,
        initial_interval=settings.initial_interval,
        max_interval=max(settings.max_interval, settings.initial_interval),
        on_poll=on_poll,
        on_retry=on_retry,
    )
    for job_id in job_ids:
        progress.track(job_id)
        if journal is not None:
            journal.watch(job_id)
    codes: list[int] = []
    pending = dict.fromkeys(job_ids)  # ordered, and O(1) to strike a job off
    try:
        for job_id, outcome in waiter.as_completed(list(pending), workers=settings.workers):
            _record(journal, job_id, outcome)
            del pending[job_id]
            last = counting.last.get(job_id)
            job_type = last.type if last is not None else types.get(job_id)
            status = outcome.status if isinstance(outcome, BulkJob) else _status_of(outcome, last)
            progress.finished(job_id, outcome)
            with progress.above():
                output.result(
                    job_id,
                    job_type=job_type,
                    status=status,
                    polls=counting.polls.get(job_id, 0),
                    error=None if isinstance(outcome, BulkJob) else outcome,
                )
            codes.append(exit_code(outcome))
    except (KeyboardInterrupt, Interrupted):
        progress.close()
        for job_id in pending:
            last = counting.last.get(job_id)
            output.result(
                job_id,
                job_type=last.type if last is not None else types.get(job_id),
                status=last.status if last is not None else None,
                polls=counting.polls.get(job_id, 0),
                error=Interrupted("interrupted before the job finished"),
            )
        progress.message(
            f"interrupted: {len(pending)} job(s) still pending: {' '.join(pending)}\n"
            f"resume with: {resume_command or wait_command(wait_options, pending)}"
        )
        raise Interrupted from None
    progress.close()
    return codes


def _status_of(error: BaseException, last: BulkJob | None) -> str | None:
    if isinstance(error, JobPartialSuccessError):
        return error.job.status
    return last.status if last is not None else None


def wait_command(options: Sequence[str], job_ids: Iterable[str]) -> str:
    """The ``imagekit-jobs wait`` command line that waits on these jobs with these options."""
    return shlex.join(["imagekit-jobs", "wait", *options, *job_ids])


def _record(journal: Journal | None, job_id: str, outcome: BulkJob | BaseException) -> None:
    if journal is None:
        return
    if isinstance(outcome, BulkJob):
        journal.finished(job_id, outcome.status)
    elif isinstance(outcome, JobPartialSuccessError):
        journal.finished(job_id, outcome.job.status, error=error_json(outcome))
    elif isinstance(outcome, JobNotFoundError):
        journal.finished(job_id, kind_of(outcome), error=error_json(outcome))
    else:
        journal.unsettled(job_id, error_json(outcome))
