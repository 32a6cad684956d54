"""Submitting folder jobs safely: journal first, retry only what cannot have been created.

A POST is retried only when the API's answer proves nothing was created: 429 (rate
limited; the client's budget also pauses) and 423 (a job is already running on the
folder: retried with backoff, so rows of one migration that touch the same folder run one
after the other). A dropped connection, a timeout or a 5xx leaves it unknown whether the
job exists: such a submission is reported ("submitted, id unknown"), never re-sent on its
own, because a second copy or move of the same folder is worse than a question.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._client import BulkJobClient
from ._errors import (
    ApiError,
    AuthenticationError,
    ConflictError,
    ImageKitJobsError,
    NotSentError,
    RateLimitedError,
    SubmissionUnknownError,
)
from ._journal import Journal
from ._outcomes import error_json

__all__ = ["KINDS", "Submission", "submit_all"]

#: Journal kind -> (job type, client method name).
KINDS = {
    "copy_folder": ("COPY_FOLDER", "copy_folder"),
    "move_folder": ("MOVE_FOLDER", "move_folder"),
    "rename_folder": ("RENAME_FOLDER", "rename_folder"),
}

_LOCKED_BACKOFF_MAX = 30.0


@dataclass
class Submission:
    """One folder job to submit: its kind, its client arguments, and where it came from."""

    kind: str
    params: Mapping[str, Any]
    line: int | None = None
    entry: int | None = None
    job_id: str | None = None
    error: BaseException | None = None
    tries: int = field(default=0)

    @property
    def job_type(self) -> str:
        """``COPY_FOLDER``, ``MOVE_FOLDER`` or ``RENAME_FOLDER``."""
        return KINDS[self.kind][0]


def submit_all(
    client: BulkJobClient,
    submissions: Sequence[Submission],
    *,
    journal: Journal | None,
    deadline: float,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
    on_submitted: Callable[[Submission], None] | None = None,
    on_deferred: Callable[[Submission, float], None] | None = None,
    retry_locked: bool = True,
) -> None:
    """Submit each in order; set ``job_id`` or ``error`` on every one by ``deadline``.

    ``retry_locked=False`` reports a 423 at once instead of retrying it (used when
    re-sending a submission whose first attempt may still be running).
    """
    if journal is not None:
        fresh = [s for s in submissions if s.entry is None]
        entries = journal.enqueue([(s.kind, s.params) for s in fresh])
        for sub, entry in zip(fresh, entries, strict=True):
            sub.entry = entry
    rng = random.Random()
    order = itertools.count()
    queue: list[tuple[float, int, Submission]] = [(clock(), next(order), s) for s in submissions]
    heapq.heapify(queue)
    refused_key: AuthenticationError | None = None
    while queue:
        due, _, sub = heapq.heappop(queue)
        now = clock()
        if refused_key is not None:
            sub.error = NotSentError(f"not sent: the key was refused ({refused_key.message})")
            continue
        if due > now:
            if due > deadline:
                # Its retry would come after the deadline. Nothing was created (it was
                # deferred on a 429 or 423), so the journal keeps it queued for resume.
                continue
            sleep(due - now)
        retry_in = _submit_one(client, sub, journal, rng, retry_locked=retry_locked)
        if retry_in is None:
            if sub.job_id is not None and on_submitted is not None:
                on_submitted(sub)
            if isinstance(sub.error, AuthenticationError):
                refused_key = sub.error
            continue
        if on_deferred is not None:
            on_deferred(sub, retry_in)
        heapq.heappush(queue, (clock() + retry_in, next(order), sub))


def _submit_one(
    client: BulkJobClient,
    sub: Submission,
    journal: Journal | None,
    rng: random.Random,
    *,
    retry_locked: bool,
) -> float | None:
    """Send one POST; return seconds until a retry, or None when the submission is settled."""
    if journal is not None and sub.entry is not None:
        journal.sending(sub.entry)  # durable before the POST: a crash now leaves "id unknown"
    sub.tries += 1
    method = getattr(client, KINDS[sub.kind][1])
    try:
        sub.job_id = method(**sub.params)
    except RateLimitedError as error:
        sub.error = error
        _requeue(journal, sub)
        return error.retry_after if error.retry_after is not None else 1.0
    except ConflictError as error:
        sub.error = error
        if error.status_code == 423 and retry_locked:
            _requeue(journal, sub)
            backoff = min(_LOCKED_BACKOFF_MAX, 2.0 ** min(sub.tries - 1, 10))
            return backoff * (1.0 - 0.2 * rng.random())
        if error.status_code == 423:
            sub.error = ConflictError(
                "a bulk job is running on this folder: an earlier submission is probably "
                "still running (left as 'submitted, id unknown')",
                status_code=423,
                request_id=error.request_id,
            )
            if journal is not None and sub.entry is not None:
                journal.unknown(sub.entry, error_json(sub.error))
            return None
        _record_refused(journal, sub)
        return None
    except ApiError as error:
        if error.status_code is not None and 400 <= error.status_code < 500:
            sub.error = error
            _record_refused(journal, sub)
            return None
        sub.error = _unknown(error)
    except ImageKitJobsError as error:  # transport: the POST may have gone through
        sub.error = _unknown(error)
    if sub.job_id is not None:
        sub.error = None
        if journal is not None and sub.entry is not None:
            journal.submitted(sub.entry, sub.job_id)
        return None
    if journal is not None and sub.entry is not None and sub.error is not None:
        journal.unknown(sub.entry, error_json(sub.error))
    return None


def _unknown(error: ImageKitJobsError) -> SubmissionUnknownError:
    unknown = SubmissionUnknownError(
        f"no answer to the submission ({error}); the job may exist: it was not re-sent",
        status_code=getattr(error, "status_code", None),
        request_id=getattr(error, "request_id", None),
    )
    unknown.__cause__ = error
    return unknown


def _requeue(journal: Journal | None, sub: Submission) -> None:
    if journal is not None and sub.entry is not None:
        journal.requeue(sub.entry)


def _record_refused(journal: Journal | None, sub: Submission) -> None:
    if journal is not None and sub.entry is not None and sub.error is not None:
        journal.refused(sub.entry, error_json(sub.error))
