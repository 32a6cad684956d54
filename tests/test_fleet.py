"""wait_all / as_completed: many jobs, one scheduler, a bounded pool, one request budget."""

from __future__ import annotations

import threading

import pytest

from imagekit_jobs import (
    ApiUnreachableError,
    BulkJob,
    BulkJobClient,
    JobNotFoundError,
    JobPartialSuccessError,
    JobWaiter,
    WaitTimeoutError,
)
from imagekit_jobs.testing import FakeImageKit

from .conftest import CANARY_KEY


def waiter_for(client, **options):
    options.setdefault("initial_interval", 0.05)
    options.setdefault("max_interval", 0.2)
    return JobWaiter(client, **options)


def test_wait_all_1000_jobs_under_a_server_rate_limit():
    """1,000 jobs all complete, with zero 429s (budget < server limit), on <= workers threads."""
    peak = [threading.active_count()]
    before = threading.active_count()

    def on_poll(event):
        peak[0] = max(peak[0], threading.active_count())

    with FakeImageKit(
        private_key=CANARY_KEY,
        job_duration=lambda j: 0.5 + hash(j.job_id) % 10 / 10,
        rate_limit=600,
    ) as fake:
        ids = [fake.add_job() for _ in range(1000)]
        with BulkJobClient(CANARY_KEY, base_url=fake.url, max_requests_per_second=500) as c:
            results = waiter_for(c, timeout=60, on_poll=on_poll).wait_all(ids, workers=8)
        assert fake.count(status=429) == 0
        assert sorted(results) == sorted(ids)
        assert all(isinstance(r, BulkJob) and r.status == "Completed" for r in results.values())
        assert fake.count(method="GET") >= 1000
    # the 8 workers and the client's watchdog, on top of the server's own threads
    assert peak[0] - before <= 8 + 1 + 8 + 2


def test_one_failure_does_not_abandon_the_others():
    """A missing job, a partial success and a stuck job each get their own outcome."""
    with FakeImageKit(private_key=CANARY_KEY, job_duration=0.0) as fake:
        ok = fake.add_job()
        partial = fake.add_job(status="Partial success")
        stuck = fake.add_job(status="Pending")
        missing = "ffffffffffffffffffffffff"
        with BulkJobClient(CANARY_KEY, base_url=fake.url) as c:
            results = waiter_for(c, timeout=1.0).wait_all([ok, partial, stuck, missing])
    assert results[ok].status == "Completed"
    assert isinstance(results[partial], JobPartialSuccessError)
    assert isinstance(results[stuck], WaitTimeoutError)
    assert isinstance(results[missing], JobNotFoundError)


def test_as_completed_yields_in_finishing_order():
    """The fastest job is yielded first, the slowest last."""
    with FakeImageKit(private_key=CANARY_KEY) as fake:
        slow = fake.add_job(duration=0.6)
        fast = fake.add_job(duration=0.0)
        mid = fake.add_job(duration=0.3)
        with BulkJobClient(CANARY_KEY, base_url=fake.url) as c:
            order = [
                job_id for job_id, _ in waiter_for(c, timeout=10).as_completed([slow, fast, mid])
            ]
    assert order == [fast, mid, slow]


def test_invalid_ids_are_refused_before_any_request():
    """One bad id in the list: InvalidInputError, nothing sent."""
    with FakeImageKit(private_key=CANARY_KEY) as fake:
        with (
            BulkJobClient(CANARY_KEY, base_url=fake.url) as c,
            pytest.raises(ValueError, match="invalid job id"),
        ):
            waiter_for(c).wait_all([fake.add_job(), "a/../b"])
        assert fake.count() == 0


def test_unreachable_api_gives_every_job_an_outcome():
    """Nothing listening: every job ends with ApiUnreachableError by its deadline."""
    with FakeImageKit() as fake:
        url = fake.url
    with BulkJobClient(CANARY_KEY, base_url=url, timeout=0.2) as c:
        results = waiter_for(c, timeout=0.5).wait_all(["a1", "b2", "c3"])
    assert sorted(results) == ["a1", "b2", "c3"]
    assert all(type(r) is ApiUnreachableError for r in results.values())


def test_a_429_pauses_every_job_on_the_client():
    """After one 429 with a 1 s hint, only requests already in flight arrive within 1 s."""
    with FakeImageKit(private_key=CANARY_KEY, job_duration=0.0) as fake:
        ids = [fake.add_job() for _ in range(20)]
        fake.inject("429")  # X-RateLimit-Reset: 1000 ms at the default 10 rps limit
        with BulkJobClient(CANARY_KEY, base_url=fake.url, max_requests_per_second=100) as c:
            results = waiter_for(c, timeout=10).wait_all(ids, workers=4)
        log = fake.requests()
    assert all(isinstance(r, BulkJob) for r in results.values())
    limited = next(r for r in log if r.status == 429)
    later = [r.time - limited.time for r in log if r.time > limited.time]
    assert len(later) >= 19
    # requests already on their way when the 429 arrived may land just after it; after
    # that, nothing until the hint has passed
    assert [round(d, 3) for d in later if 0.1 < d < 0.95] == []


def test_keep_alive_pool_grows_to_the_worker_count():
    """With 16 workers on a 2-connection client, connections are kept, not churned."""
    with FakeImageKit(private_key=CANARY_KEY, job_duration=0.3) as fake:
        ids = [fake.add_job() for _ in range(64)]
        with BulkJobClient(
            CANARY_KEY, base_url=fake.url, pool_size=2, max_requests_per_second=None
        ) as c:
            results = waiter_for(c, timeout=20).wait_all(ids, workers=16)
            pools = list(c._adapter.poolmanager.pools._container.values())
            assert len(pools) == 1
            assert pools[0].pool.maxsize == 16
            assert pools[0].num_connections <= 16
        assert all(isinstance(r, BulkJob) for r in results.values())
