"""``JobWaiter``: block until a bulk job finishes, polling on a tenacity-driven schedule."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta
from typing import Any, Protocol, runtime_checkable

import tenacity

from ._errors import is_transient
from ._models import BulkJob, PollEvent, RetryEvent
from ._schedule import Schedule
from ._tracker import Callbacks, JobTracker
from ._validate import check_job_id

__all__ = ["JobStatusSource", "JobWaiter", "wait_for_job"]

Seconds = float | timedelta


@runtime_checkable
class JobStatusSource(Protocol):
    """Anything that reads a job's status: ``BulkJobClient`` or a test double."""

    def get_job(self, job_id: str, *, timeout: float | None = None) -> BulkJob:
        """Read the job's status once, within ``timeout`` seconds (``None``: the default)."""
        ...


class _Unset:
    def __repr__(self) -> str:
        return "<waiter default>"


_UNSET: Any = _Unset()


def _seconds(value: Seconds | None, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be seconds (float) or a timedelta")
    return float(value)


class JobWaiter:
    """Waits for ImageKit bulk jobs to finish.

    ``client`` is any :class:`JobStatusSource` (default: ``BulkJobClient()`` from the
    environment). ``timeout`` is the default deadline per wait (``None``: none). The poll
    schedule is ``initial_interval``, growing by ``growth`` x the time waited, up to
    ``max_interval``, each delay jittered down by up to ``jitter``. ``request_timeout``
    bounds one status request (default: the client's ``timeout``, else 10 s). ``clock`` and
    ``sleep`` drive all timing (inject fakes in tests); ``seed`` makes the jitter repeatable.
    """

    def __init__(
        self,
        client: JobStatusSource | None = None,
        *,
        timeout: Seconds | None = 600.0,
        initial_interval: Seconds = 1.0,
        max_interval: Seconds = 60.0,
        growth: float = 0.15,
        jitter: float = 0.2,
        request_timeout: Seconds | None = None,
        on_poll: Callable[[PollEvent], Any] | None = None,
        on_status_change: Callable[[BulkJob | None, BulkJob], Any] | None = None,
        on_retry: Callable[[RetryEvent], Any] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        seed: int | None = None,
    ) -> None:
        self._owns_client = client is None
        if client is None:
            from ._client import BulkJobClient

            client = BulkJobClient()
        self.client = client
        self.timeout = _seconds(timeout, "timeout")
        self.schedule = Schedule(
            initial_interval=_seconds(initial_interval, "initial_interval") or 0.0,
            max_interval=_seconds(max_interval, "max_interval") or 0.0,
            growth=growth,
            jitter=jitter,
        )
        explicit = _seconds(request_timeout, "request_timeout")
        self.request_timeout = explicit or float(getattr(client, "timeout", 10.0))
        self.callbacks = Callbacks(on_poll, on_status_change, on_retry)
        self.clock = clock
        self.sleep = sleep
        self.rng = random.Random(seed)

    def __repr__(self) -> str:
        return f"JobWaiter(client={self.client!r}, timeout={self.timeout!r}, {self.schedule!r})"

    def __enter__(self) -> JobWaiter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the client if the waiter created it (a client passed in is the caller's)."""
        close = getattr(self.client, "close", None)
        if self._owns_client and close is not None:
            close()

    def tracker(self, job_id: str, *, timeout: Seconds | None = _UNSET) -> JobTracker:
        """A fresh tracker for one job's wait, starting now."""
        check_job_id(job_id)
        seconds = self.timeout if timeout is _UNSET else _seconds(timeout, "timeout")
        return JobTracker(
            job_id,
            start=self.clock(),
            timeout=seconds,
            request_timeout=self.request_timeout,
            schedule=self.schedule,
            rng=self.rng,
            callbacks=self.callbacks,
        )

    def wait(self, job_id: str, *, timeout: Seconds | None = _UNSET) -> BulkJob:
        """Block until the job finishes and return it (status ``Completed``).

        ``timeout`` overrides the waiter's deadline (``None``: wait for ever; ``0``: one
        status read). Raises ``WaitTimeoutError`` (``ApiUnreachableError`` if no read ever
        succeeded) no later than 0.1 s past the deadline, ``JobPartialSuccessError`` for a
        ``Partial success`` job, and permanent API errors (400, 401, 403, 404) at once.
        """
        tracker = self.tracker(job_id, timeout=timeout)
        clock = self.clock

        def read() -> BulkJob:
            return self.client.get_job(job_id, timeout=tracker.request_timeout(clock()))

        def should_retry(state: tenacity.RetryCallState) -> bool:
            outcome = state.outcome
            assert outcome is not None
            if outcome.failed:
                error = outcome.exception()
                return error is not None and is_transient(error)
            return not outcome.result().is_finished

        def next_delay(state: tenacity.RetryCallState) -> float:
            # tenacity asks for the wait before the stop, so the tracker plans here and
            # the stop below only reads its verdict.
            outcome = state.outcome
            assert outcome is not None
            now = clock()
            if outcome.failed:
                tracker.on_error(outcome.exception(), now)  # type: ignore[arg-type]
            else:
                tracker.on_read(outcome.result(), now)
            return tracker.plan(now) or 0.0

        def give_up(state: tenacity.RetryCallState) -> BulkJob:
            raise tracker.timeout_error(clock())

        retrying = tenacity.Retrying(
            sleep=self.sleep,
            retry=should_retry,
            wait=next_delay,
            stop=lambda state: tracker.next_delay is None,
            retry_error_callback=give_up,
        )
        job: BulkJob = retrying(read)
        now = clock()
        tracker.on_read(job, now)
        return tracker.finish(job, now)

    # -- many jobs ---------------------------------------------------------------------

    def wait_all(
        self,
        job_ids: Iterable[str],
        *,
        timeout: Seconds | None = _UNSET,
        workers: int = 8,
    ) -> dict[str, BulkJob | Exception]:
        """Wait for every job; map each id to its finished ``BulkJob`` or the error that ended it.

        One failure does not abandon the others. See :meth:`as_completed` for the rules.
        """
        return dict(self.as_completed(job_ids, timeout=timeout, workers=workers))

    def as_completed(
        self,
        job_ids: Iterable[str],
        *,
        timeout: Seconds | None = _UNSET,
        workers: int = 8,
    ) -> Iterator[tuple[str, BulkJob | Exception]]:
        """Yield ``(job_id, outcome)`` as each job finishes, the outcome a ``BulkJob`` or an error.

        One scheduler thread keeps every job on a heap of next-poll times and a pool of
        ``workers`` threads sends the requests, within the client's request budget: the
        cost is fixed in threads whatever the number of jobs. Each job gets the same
        deadline, schedule, callbacks and errors as :meth:`wait`. Invalid ids are refused
        before any request is sent.
        """
        from ._fleet import Fleet

        seconds = self.timeout if timeout is _UNSET else _seconds(timeout, "timeout")
        fleet = Fleet(self, list(job_ids), timeout=seconds, workers=workers)
        return fleet.run()


def wait_for_job(job_id: str, **options: Any) -> BulkJob:
    """Wait for one job with a ``BulkJobClient`` from the environment.

    ``options`` are ``JobWaiter``'s (``timeout=``, ``on_poll=``, ...).
    """
    with JobWaiter(**options) as waiter:
        return waiter.wait(job_id)
