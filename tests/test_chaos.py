"""Chaos: hundreds of jobs through a server that faults a quarter of its answers.

Invariants: every job that completes on the server is reported Completed; nothing is
reported Completed that is not; only the package's own errors escape; no poll is sent after
a deadline; no wait ends more than 0.1 s past its deadline.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from imagekit_jobs import BulkJob, BulkJobClient, ImageKitJobsError, JobWaiter, WaitTimeoutError
from imagekit_jobs.testing import FAULTS, FakeImageKit

from .conftest import CANARY_KEY
from .figures import record

pytestmark = pytest.mark.reliability

ALL_FAULTS = tuple(f for f in FAULTS if f != "redirect")  # a redirect is permanent by design


class SendLog:
    """Wraps a client, noting when each status request is handed to it (the send time)."""

    def __init__(self, inner: BulkJobClient) -> None:
        self.inner = inner
        self.timeout = inner.timeout
        self.budget = inner.budget
        self.sent: list[tuple[str, float]] = []

    def get_job(self, job_id: str, *, timeout: float | None = None) -> BulkJob:
        self.sent.append((job_id, time.monotonic()))
        return self.inner.get_job(job_id, timeout=timeout)


def chaos_server(**options):
    return FakeImageKit(
        private_key=CANARY_KEY,
        fault_rate=0.25,
        fault_kinds=ALL_FAULTS,
        slow_seconds=0.15,
        hang_seconds=1.0,
        trickle_seconds=0.02,
        fault_hint_seconds=0.1,
        seed=20261203,
        **options,
    )


def test_wait_all_500_jobs_under_25_percent_faults():
    """500 jobs via wait_all, 25% of answers faulted: all Completed, each truly complete."""
    rng = random.Random(5)
    with chaos_server(job_duration=lambda job: rng.uniform(0.1, 1.0)) as fake:
        ids = [fake.add_job() for _ in range(500)]
        with BulkJobClient(
            CANARY_KEY, base_url=fake.url, timeout=0.5, max_requests_per_second=400
        ) as client:
            waiter = JobWaiter(client, timeout=60, initial_interval=0.05, max_interval=0.5)
            start = time.monotonic()
            wrong = []
            outcomes = {}
            for job_id, outcome in waiter.as_completed(ids, workers=8):
                outcomes[job_id] = outcome
                if isinstance(outcome, BulkJob) and fake.status_of(job_id) != "Completed":
                    wrong.append(job_id)
            took = time.monotonic() - start
        log = fake.requests()
    faults = Counter(r.fault for r in log if r.fault)
    assert wrong == []
    assert all(isinstance(o, BulkJob) and o.succeeded for o in outcomes.values()), Counter(
        type(o).__name__ for o in outcomes.values()
    )
    assert len(outcomes) == 500
    assert sum(faults.values()) > 0.2 * len(log)
    assert set(faults) == set(ALL_FAULTS)
    record(
        "chaos wait_all",
        jobs=500,
        requests=len(log),
        faults_seen=sum(faults.values()),
        faults_survived=sum(faults.values()),
        fault_kinds=len(faults),
        completed=500,
        seconds=round(took, 1),
    )


def test_single_waits_under_faults_and_deadlines():
    """50 single waits, short deadlines: right outcomes, no late poll, never 0.1 s late."""
    rng = random.Random(9)
    overshoots = []
    escaped = []
    with chaos_server(job_duration=lambda job: rng.uniform(0.1, 2.5)) as fake:
        with BulkJobClient(
            CANARY_KEY, base_url=fake.url, timeout=0.5, max_requests_per_second=None
        ) as client:
            sends = SendLog(client)
            waiter = JobWaiter(sends, initial_interval=0.05, max_interval=0.3)
            results = {}
            deadlines = {}
            plan = [(fake.add_job(), rng.uniform(0.3, 1.5)) for _ in range(50)]

            def one(job_id: str, timeout: float) -> None:
                start = time.monotonic()
                deadlines[job_id] = start + timeout
                try:
                    results[job_id] = waiter.wait(job_id, timeout=timeout)
                except WaitTimeoutError as error:
                    results[job_id] = error
                except Exception as error:
                    escaped.append(error)
                overshoots.append(time.monotonic() - deadlines[job_id])

            with ThreadPoolExecutor(10) as pool:
                list(pool.map(lambda item: one(*item), plan))
        log = fake.requests()
    assert all(isinstance(e, ImageKitJobsError) for e in escaped)
    late_polls = [(job_id, t) for job_id, t in sends.sent if t > deadlines[job_id]]
    assert late_polls == []
    assert max(overshoots) < 0.1
    assert len(results) + len(escaped) == 50
    for outcome in results.values():
        if isinstance(outcome, BulkJob):
            assert outcome.succeeded
    record(
        "chaos single waits",
        waits=50,
        completed=sum(1 for o in results.values() if isinstance(o, BulkJob)),
        timed_out=sum(1 for o in results.values() if isinstance(o, WaitTimeoutError)),
        other_package_errors=len(escaped),
        requests=len(log),
        faults_seen=sum(1 for r in log if r.fault),
        polls_after_deadline=0,
        max_overshoot_ms=round(max(overshoots) * 1000, 1),
    )


def test_wait_all_deadlines_under_faults():
    """wait_all with a 1.5 s deadline and stuck jobs: no poll after it, ends < 0.1 s late."""
    with chaos_server(job_duration=3600) as fake:
        ids = [fake.add_job() for _ in range(100)]
        with BulkJobClient(
            CANARY_KEY, base_url=fake.url, timeout=0.5, max_requests_per_second=400
        ) as client:
            sends = SendLog(client)
            start = time.monotonic()
            results = JobWaiter(
                sends, timeout=1.5, initial_interval=0.05, max_interval=0.3
            ).wait_all(ids)
            ended = time.monotonic()
        log = fake.requests()
    assert all(isinstance(r, WaitTimeoutError) for r in results.values())
    # sent with at least 50 ms left, so that an answer could still arrive in time
    assert max(t for _, t in sends.sent) <= start + 1.5 - 0.04
    assert ended - (start + 1.5) < 0.1
    record(
        "chaos wait_all deadline",
        jobs=100,
        requests=len(log),
        overshoot_ms=round((ended - start - 1.5) * 1000, 1),
    )
