"""Load: a sustained 10,000-job wait_all, for a bounded time, leaks no threads, fds or memory."""

from __future__ import annotations

import gc
import os
import sys
import threading
import time

import pytest

from imagekit_jobs import BulkJobClient, JobWaiter
from imagekit_jobs.testing import FakeImageKit

from .conftest import CANARY_KEY
from .figures import record

pytestmark = pytest.mark.reliability

JOBS = 10_000
MEASURE = 4.0  # seconds of steady polling measured after every job was polled once


class Measured(Exception):
    """Raised by the callback once the steady phase has been measured."""


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def settle(baseline: int, count) -> int:
    deadline = time.monotonic() + 5
    while count() > baseline and time.monotonic() < deadline:
        time.sleep(0.05)
    return count()


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts fds through /proc")
def test_sustained_10000_job_wait_all_leaks_nothing():
    """10,000 stuck jobs polled round after round: no thread, fd or memory growth."""
    with FakeImageKit(private_key=CANARY_KEY, log_requests=False) as fake:
        ids = [fake.add_job(status="Pending") for _ in range(JOBS)]
        threads_before, fds_before = threading.active_count(), open_fds()
        polled: set[str] = set()
        state = {"since": 0.0, "blocks": 0, "growth": None, "polls": 0, "peak_threads": 0}

        def on_poll(event):
            polled.add(event.job.job_id)
            state["peak_threads"] = max(state["peak_threads"], threading.active_count())
            if len(polled) < JOBS or state["growth"] is not None:
                return
            if not state["since"]:  # warm-up over: every job has its tracker and last read
                gc.collect()
                state["since"], state["blocks"] = time.monotonic(), sys.getallocatedblocks()
                return
            state["polls"] += 1
            if time.monotonic() - state["since"] >= MEASURE:
                gc.collect()
                state["growth"] = sys.getallocatedblocks() - state["blocks"]
                raise Measured  # a raising callback ends the run: that is the test's exit

        start = time.monotonic()
        with BulkJobClient(CANARY_KEY, base_url=fake.url, max_requests_per_second=5000) as client:
            waiter = JobWaiter(
                client, timeout=60, initial_interval=0.05, max_interval=0.2, on_poll=on_poll
            )
            # no job may end before the measurement: the callback's exception must end the run
            with pytest.raises(Measured):
                waiter.wait_all(ids)
        seconds = time.monotonic() - start
        requests = fake.total_requests
        threads_after = settle(threads_before, threading.active_count)
        fds_after = settle(fds_before, open_fds)
    assert state["growth"] is not None, "the steady phase was never reached"
    assert threads_after == threads_before
    assert fds_after == fds_before
    assert state["peak_threads"] - threads_before <= 8 + 1 + 8 + 2  # workers, watchdog, server
    # a leak of one object per poll would add at least as many blocks as polls
    assert state["growth"] < state["polls"] / 4
    record(
        "load",
        jobs=JOBS,
        seconds=round(seconds, 1),
        requests=requests,
        polls_in_steady_window=state["polls"],
        allocated_blocks_growth_in_window=state["growth"],
        threads_before=threads_before,
        peak_threads=state["peak_threads"],
        threads_after=threads_after,
        fds_before=fds_before,
        fds_after=fds_after,
    )
