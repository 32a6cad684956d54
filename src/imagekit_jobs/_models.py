"""Value objects: the job status the API returns, and the events the waiter reports."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["COMPLETED", "PARTIAL_SUCCESS", "PENDING", "BulkJob", "PollEvent", "RetryEvent"]

COMPLETED = "Completed"
PENDING = "Pending"
PARTIAL_SUCCESS = "Partial success"
#: Statuses after which a job never changes again.
FINISHED_STATUSES = frozenset({COMPLETED, PARTIAL_SUCCESS})
KNOWN_STATUSES = frozenset({COMPLETED, PENDING, PARTIAL_SUCCESS})


@dataclass(frozen=True, slots=True)
class BulkJob:
    """One read of ``GET /v1/bulkJobs/{jobId}``.

    ``status`` is ``Pending``, ``Completed`` or ``Partial success``; an unknown value is
    kept as is and treated as still running. ``raw`` is the decoded JSON body.
    """

    job_id: str
    type: str
    status: str
    purge_request_id: str | None = None
    message: str | None = None
    help: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_finished(self) -> bool:
        """True once the job will not change any more (``Completed`` or ``Partial success``)."""
        return self.status in FINISHED_STATUSES

    @property
    def succeeded(self) -> bool:
        """True when the job finished with status ``Completed``."""
        return self.status == COMPLETED


@dataclass(frozen=True, slots=True)
class PollEvent:
    """Passed to ``on_poll`` after every successful status read.

    ``time_left`` is ``inf`` without a deadline; ``next_delay`` is ``None`` when no
    further poll follows (the job finished, or the deadline leaves no room for one).
    """

    job: BulkJob
    attempt: int
    elapsed: float
    time_left: float
    next_delay: float | None


@dataclass(frozen=True, slots=True)
class RetryEvent:
    """Passed to ``on_retry`` after every transient error (429, 5xx, transport, bad body)."""

    job_id: str
    error: BaseException
    attempt: int
    elapsed: float
    time_left: float
    next_delay: float | None


def time_left(deadline: float, now: float) -> float:
    """Seconds from ``now`` to ``deadline`` (``inf`` for no deadline), never negative."""
    if math.isinf(deadline):
        return math.inf
    return max(0.0, deadline - now)
