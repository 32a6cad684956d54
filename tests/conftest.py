"""Shared test helpers: a fake clock whose sleep advances it, and a scripted status source."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, settings

from imagekit_jobs import BulkJob, TransportError

# Shared, loaded machines: never fail a property for being slow, only for being wrong.
settings.register_profile("default", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("default")

CANARY_KEY = "private_CANARY_6b1f0e3a9c_DO_NOT_LEAK"


class FakeClock:
    """A monotonic clock that only moves when something sleeps on it."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0, f"negative sleep {seconds}"
        self.sleeps.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


def job(status: str = "Pending", job_id: str = "job1", **extra: object) -> BulkJob:
    return BulkJob(job_id=job_id, type="COPY_FOLDER", status=status, **extra)  # type: ignore[arg-type]


@dataclass
class ScriptedSource:
    """A JobStatusSource that answers from a script: BulkJobs to return, exceptions to raise.

    ``latency`` seconds pass on the clock per request (past the request's timeout it gives up
    with TransportError, as the real client does); the last entry repeats for ever.
    """

    clock: FakeClock
    script: list[BulkJob | BaseException | Callable[[float | None], BulkJob]]
    latency: float = 0.0
    calls: list[tuple[float, float | None]] = field(default_factory=list)

    def get_job(self, job_id: str, *, timeout: float | None = None) -> BulkJob:
        self.calls.append((self.clock.now, timeout))
        index = min(len(self.calls) - 1, len(self.script) - 1)
        step = self.script[index]
        if timeout is not None and self.latency > timeout:
            self.clock.advance(timeout)
            raise TransportError(f"no answer within {timeout}s")
        self.clock.advance(self.latency)
        if callable(step) and not isinstance(step, BulkJob):
            return step(timeout)
        if isinstance(step, BaseException):
            raise step
        return step


def scripted(clock: FakeClock, steps: Iterable[object], latency: float = 0.0) -> ScriptedSource:
    return ScriptedSource(clock, list(steps), latency)  # type: ignore[arg-type]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Write the reliability figures, when asked to (see tests/figures.py)."""
    from .figures import dump

    dump()
