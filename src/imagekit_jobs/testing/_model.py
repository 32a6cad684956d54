"""The fake server's data: its jobs, its request log, its fault rules, and the wire helpers."""

from __future__ import annotations

import json
import math
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["FAULTS", "Duration", "FakeJob", "RequestRecord"]

FAULTS = (
    "429",  # rate limited, with X-RateLimit-Limit/Reset/Interval headers
    "429-nohint",  # rate limited, no hint at all
    "500",
    "502",
    "503",
    "504",
    "slow",  # answer normally after ``slow_seconds``
    "hang",  # answer nothing for ``hang_seconds``, then drop the connection
    "trickle",  # send the answer one byte every ``trickle_seconds``
    "drop",  # close the connection without an answer
    "html",  # 200 with an HTML page (a proxy's)
    "truncated",  # 200 with half a JSON body
    "malformed",  # 200 with JSON of the wrong types
    "redirect",  # 302 to ``redirect_to``
)
_SUPPORT = "For support kindly contact us at support@imagekit.io ."
_TYPES = {"copyFolder": "COPY_FOLDER", "moveFolder": "MOVE_FOLDER", "renameFolder": "RENAME_FOLDER"}

Duration = float | Callable[["FakeJob"], float]


@dataclass
class FakeJob:
    """A job the fake server knows: its kind, payload and when it finishes."""

    job_id: str
    type: str
    payload: Mapping[str, Any]
    submitted_at: float
    duration: float
    folders: tuple[str, ...] = ()
    partial: bool = False
    forced: str | None = None

    def status_at(self, now: float, time_scale: float) -> str:
        """The job's status at clock reading ``now``."""
        if self.forced is not None:
            return self.forced
        if (now - self.submitted_at) * time_scale >= self.duration:
            return "Partial success" if self.partial else "Completed"
        return "Pending"


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One request the server received: when (monotonic), what, and how it was answered."""

    time: float
    method: str
    path: str
    status: int
    fault: str | None
    authorized: bool


@dataclass
class _Rule:
    fault: str
    method: str | None
    path: str | None
    remaining: int
    skip: int


@dataclass
class _Bucket:
    tokens: float
    stamp: float


@dataclass
class _State:
    jobs: dict[str, FakeJob] = field(default_factory=dict)
    log: list[RequestRecord] = field(default_factory=list)
    rules: deque[_Rule] = field(default_factory=deque)
    buckets: dict[str, _Bucket] = field(default_factory=dict)


def _error(message: str, *, reason: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"message": message, "help": _SUPPORT}
    if reason:
        body["reason"] = reason
    return body


def _json(body: Mapping[str, Any]) -> bytes:
    return json.dumps(body).encode()


def _limit_headers(limit: float, wait: float) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(max(1, int(limit))),
        "X-RateLimit-Reset": str(max(1, math.ceil(wait * 1000))),
        "X-RateLimit-Interval": "1000",
    }
