"""One job's wait, step by step: deadline arithmetic, outcome of each read, callbacks.

``JobWaiter.wait`` (one job, driven by tenacity) and the fleet scheduler (many jobs on one
heap) both drive a ``JobTracker``, so the schedule, the deadline rules and the error
classification exist once.

The deadline rules: each request's timeout is clamped to the time left; the last sleep is
shortened so one final poll goes out ``reserve`` seconds before the deadline (twice the
slowest answer seen, between 50 ms and 1 s: enough to be answered, not a whole interval);
after it, no poll is sent and ``WaitTimeoutError`` is raised at once.
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Callable
from typing import Any

from ._errors import (
    ApiUnreachableError,
    ImageKitJobsError,
    JobPartialSuccessError,
    RateLimitedError,
    WaitTimeoutError,
    is_transient,
)
from ._models import KNOWN_STATUSES, PARTIAL_SUCCESS, BulkJob, PollEvent, RetryEvent, time_left
from ._schedule import Schedule

__all__ = ["Callbacks", "JobTracker"]

logger = logging.getLogger("imagekit_jobs")

MIN_RESERVE = 0.05
MAX_RESERVE = 1.0


class Callbacks:
    """The user's callbacks, any of which may be ``None``."""

    __slots__ = ("on_poll", "on_retry", "on_status_change")

    def __init__(
        self,
        on_poll: Callable[[PollEvent], Any] | None = None,
        on_status_change: Callable[[BulkJob | None, BulkJob], Any] | None = None,
        on_retry: Callable[[RetryEvent], Any] | None = None,
    ) -> None:
        self.on_poll = on_poll
        self.on_status_change = on_status_change
        self.on_retry = on_retry


class JobTracker:
    """The state of one job's wait. Times are readings of the waiter's clock."""

    __slots__ = (
        "_callbacks",
        "_request_timeout",
        "_rng",
        "_schedule",
        "_sent_at",
        "_slowest",
        "_warned_unknown",
        "deadline",
        "errors_in_row",
        "job_id",
        "last_error",
        "last_job",
        "next_delay",
        "one_shot",
        "polls",
        "start",
    )

    def __init__(
        self,
        job_id: str,
        *,
        start: float,
        timeout: float | None,
        request_timeout: float,
        schedule: Schedule,
        rng: random.Random,
        callbacks: Callbacks,
    ) -> None:
        if timeout is not None and (math.isnan(timeout) or timeout < 0):
            raise ValueError("timeout must be >= 0 or None")
        self.job_id = job_id
        self.start = start
        self.one_shot = timeout == 0
        self.deadline = math.inf if timeout is None else start + timeout
        self._request_timeout = request_timeout
        self._schedule = schedule
        self._rng = rng
        self._callbacks = callbacks
        self.polls = 0
        self.errors_in_row = 0
        self.last_job: BulkJob | None = None
        self.last_error: ImageKitJobsError | None = None
        self.next_delay: float | None = None
        self._sent_at = start
        self._slowest = 0.0
        self._warned_unknown = False

    # -- before a request ----------------------------------------------------------------

    def request_timeout(self, now: float) -> float:
        """The timeout for a request sent ``now``: the usual one, clamped to the time left."""
        self.polls += 1
        self._sent_at = now
        if self.one_shot:
            return self._request_timeout
        return min(self._request_timeout, time_left(self.deadline, now))

    # -- after a request -----------------------------------------------------------------

    def _answered(self, now: float) -> None:
        self._slowest = max(self._slowest, now - self._sent_at)

    def on_read(self, job: BulkJob, now: float) -> BulkJob:
        """Record a successful read: log, fire ``on_status_change``, raise on partial success."""
        self._answered(now)
        old = self.last_job
        self.last_job = job
        self.last_error = None
        self.errors_in_row = 0
        logger.debug("job %s: %s (poll %d)", self.job_id, job.status, self.polls)
        if old is None or old.status != job.status:
            logger.info(
                "job %s: %s -> %s", self.job_id, old.status if old else "(start)", job.status
            )
            if job.status not in KNOWN_STATUSES and not self._warned_unknown:
                self._warned_unknown = True
                logger.warning(
                    "job %s: unknown status %r, treated as still running", self.job_id, job.status
                )
            if self._callbacks.on_status_change is not None:
                self._callbacks.on_status_change(old, job)
        return job

    def on_error(self, error: BaseException, now: float) -> None:
        """Record a failed request: re-raise it unless it is transient."""
        self._answered(now)
        if not is_transient(error):
            raise error
        assert isinstance(error, ImageKitJobsError)
        self.last_error = error
        self.errors_in_row += 1
        logger.warning("job %s: %s (attempt %d)", self.job_id, error, self.polls)

    def finish(self, job: BulkJob, now: float) -> BulkJob:
        """The job finished: fire the last ``on_poll``; raise if it only partially succeeded."""
        self._fire_poll(job, now, None)
        if job.status == PARTIAL_SUCCESS:
            raise JobPartialSuccessError(job)
        return job

    # -- what next -----------------------------------------------------------------------

    def plan(self, now: float) -> float | None:
        """Seconds until the next poll, or ``None`` when no further poll fits the deadline.

        Fires ``on_poll`` (after a read) or ``on_retry`` (after a transient error).
        """
        self.next_delay = self._next_delay(now)
        if self.last_error is not None:
            if self._callbacks.on_retry is not None:
                self._callbacks.on_retry(
                    RetryEvent(
                        job_id=self.job_id,
                        error=self.last_error,
                        attempt=self.polls,
                        elapsed=now - self.start,
                        time_left=time_left(self.deadline, now),
                        next_delay=self.next_delay,
                    )
                )
        elif self.last_job is not None:
            self._fire_poll(self.last_job, now, self.next_delay)
        return self.next_delay

    def _next_delay(self, now: float) -> float | None:
        if self.one_shot:
            return None
        elapsed = now - self.start
        hint: float | None = None
        if self.last_error is not None:
            if isinstance(self.last_error, RateLimitedError):
                hint = self.last_error.retry_after
            delay = self._schedule.retry_delay(self.errors_in_row, hint, self._rng)
        else:
            delay = self._schedule.poll_delay(elapsed, self._rng)
        if math.isinf(self.deadline):
            return delay
        latest = self.deadline - self.reserve
        if now >= latest:
            return None  # that was the final poll
        if hint is not None and now + hint > latest:
            return None  # the server asks us to stay away past the deadline
        return min(delay, latest - now)

    @property
    def reserve(self) -> float:
        """Time kept before the deadline for the final poll to be answered."""
        return min(MAX_RESERVE, max(MIN_RESERVE, 2.0 * self._slowest))

    def timeout_error(self, now: float) -> WaitTimeoutError:
        """The error that ends a wait whose deadline left no room for another poll."""
        cls = WaitTimeoutError if self.last_job is not None else ApiUnreachableError
        error = cls(
            self.job_id,
            last_job=self.last_job,
            elapsed=now - self.start,
            polls=self.polls,
            last_error=self.last_error,
        )
        error.__cause__ = self.last_error
        return error

    def _fire_poll(self, job: BulkJob, now: float, next_delay: float | None) -> None:
        if self._callbacks.on_poll is not None:
            self._callbacks.on_poll(
                PollEvent(
                    job=job,
                    attempt=self.polls,
                    elapsed=now - self.start,
                    time_left=time_left(self.deadline, now),
                    next_delay=next_delay,
                )
            )
