"""Waiting on many jobs at once: one scheduler, a small pool of HTTP workers, one budget.

The scheduler runs in the caller's thread. Every job sits on one heap keyed by the time of
its next poll; the most overdue job is always sent first, so when the schedule asks for more
polls than the client's request budget allows, the backlog drains oldest-first and no job
starves. At most ``workers`` requests are in flight; each job's schedule, deadline and
error rules come from its ``JobTracker``, exactly as in ``JobWaiter.wait``. Ten thousand
pending jobs cost ten thousand small trackers and a heap, not ten thousand threads.
"""

from __future__ import annotations

import heapq
import itertools
import math
import queue
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from ._errors import JobPartialSuccessError, is_transient
from ._models import BulkJob
from ._tracker import MIN_RESERVE, JobTracker
from ._validate import check_job_id

if TYPE_CHECKING:
    from ._waiter import JobWaiter

__all__ = ["Fleet"]

Outcome = tuple[str, BulkJob | Exception]
# What a worker hands back: the tracker, and the job read or the error raised.
_Done = tuple[JobTracker, BulkJob | BaseException]

#: The scheduler re-checks the budget and the heap at least this often (seconds).
_MAX_IDLE = 0.5


class Fleet:
    """One run of ``JobWaiter.as_completed``."""

    def __init__(
        self, waiter: JobWaiter, job_ids: list[str], *, timeout: float | None, workers: int
    ) -> None:
        if workers < 1:
            raise ValueError("workers must be >= 1")
        ids = list(dict.fromkeys(check_job_id(job_id) for job_id in job_ids))
        self._waiter = waiter
        self._ids = ids
        self._timeout = timeout
        self._workers = min(workers, max(1, len(ids)))
        self._done: queue.SimpleQueue[_Done] = queue.SimpleQueue()
        self._heap: list[tuple[float, int, JobTracker]] = []
        self._seq = itertools.count()
        self._in_flight = 0
        self._next_deadline = math.inf

    def run(self) -> Iterator[Outcome]:
        """Yield ``(job_id, outcome)`` as each job ends, until every job has one."""
        if not self._ids:
            return
        clock = self._waiter.clock
        for job_id in self._ids:
            tracker = self._waiter.tracker(job_id, timeout=self._timeout)
            self._push(tracker.start, tracker)
        fit_pool = getattr(self._waiter.client, "_fit_pool", None)
        if fit_pool is not None:
            fit_pool(self._workers)
        pool = ThreadPoolExecutor(self._workers, thread_name_prefix="imagekit-jobs")
        try:
            while True:
                now = clock()
                for tracker in self._expire(now):
                    yield tracker.job_id, tracker.timeout_error(now)
                if not self._heap and not self._in_flight:
                    break
                self._dispatch(pool, now)
                try:
                    tracker, result = self._done.get(timeout=self._idle(clock()))
                except queue.Empty:
                    continue
                self._in_flight -= 1
                outcome = self._settle(tracker, result, clock())
                if outcome is not None:
                    yield outcome
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    # -- scheduling ----------------------------------------------------------------------

    def _push(self, due: float, tracker: JobTracker) -> None:
        heapq.heappush(self._heap, (due, next(self._seq), tracker))
        if not tracker.one_shot:
            self._next_deadline = min(self._next_deadline, tracker.deadline)

    def _budget_delay(self) -> float:
        budget = getattr(self._waiter.client, "budget", None)
        return budget.delay() if budget is not None else 0.0

    def _expire(self, now: float) -> list[JobTracker]:
        """Take off the heap every job whose deadline has passed while it waited its turn.

        No poll is ever sent past a deadline, and a job stuck behind busy workers or an
        empty budget still ends on time.
        """
        if now < self._next_deadline:
            return []
        expired = [t for _, _, t in self._heap if now >= t.deadline and not t.one_shot]
        if expired:
            self._heap = [item for item in self._heap if item[2] not in expired]
            heapq.heapify(self._heap)
        self._next_deadline = _earliest_deadline(self._heap)
        return expired

    def _dispatch(self, pool: ThreadPoolExecutor, now: float) -> None:
        while self._heap and self._in_flight < self._workers and self._heap[0][0] <= now:
            if self._budget_delay() > 0:
                return  # the most overdue job keeps its place at the top of the heap
            _, _, tracker = heapq.heappop(self._heap)
            if not tracker.one_shot and tracker.deadline - now < MIN_RESERVE:
                # Its turn came too late for an answer to arrive in time: no poll; it ends
                # with a timeout at its deadline, not before.
                self._push(tracker.deadline, tracker)
                continue
            timeout = tracker.request_timeout(now)
            self._in_flight += 1
            pool.submit(self._read, tracker, timeout)

    def _idle(self, now: float) -> float:
        """How long the scheduler may block waiting for a worker."""
        wait = min(_MAX_IDLE, self._next_deadline - now)
        if self._heap and self._in_flight < self._workers:
            wait = min(wait, max(self._heap[0][0] - now, self._budget_delay(), 0.0))
        return max(wait, 0.0005)

    def _read(self, tracker: JobTracker, timeout: float) -> None:
        try:
            result: BulkJob | BaseException = self._waiter.client.get_job(
                tracker.job_id, timeout=timeout
            )
        except Exception as error:  # every error is this job's outcome, not the fleet's end
            result = error
        self._done.put((tracker, result))

    # -- outcomes ------------------------------------------------------------------------

    def _settle(
        self, tracker: JobTracker, result: BulkJob | BaseException, now: float
    ) -> Outcome | None:
        """Record one answer; return the job's outcome if it ended, else schedule its next poll.

        An exception raised by a user callback propagates: it ends the whole run, as it
        ends ``wait``.
        """
        job_id = tracker.job_id
        if isinstance(result, Exception) and not is_transient(result):
            return job_id, result
        if isinstance(result, BaseException):
            tracker.on_error(result, now)
        else:
            tracker.on_read(result, now)
            if result.is_finished:
                try:
                    return job_id, tracker.finish(result, now)
                except JobPartialSuccessError as error:
                    return job_id, error
        delay = tracker.plan(now)
        if delay is None:
            return job_id, tracker.timeout_error(now)
        self._push(now + delay, tracker)
        return None


def _earliest_deadline(heap: list[tuple[float, int, JobTracker]]) -> float:
    return min((t.deadline for _, _, t in heap if not t.one_shot), default=math.inf)
