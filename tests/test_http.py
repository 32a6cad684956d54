"""The client and waiter over real HTTP against FakeImageKit on loopback."""

from __future__ import annotations

import time

import pytest

from imagekit_jobs import (
    ApiError,
    AuthenticationError,
    BulkJobClient,
    ConflictError,
    JobNotFoundError,
    JobPartialSuccessError,
    JobWaiter,
    RateLimitedError,
    ResponseFormatError,
    ServerError,
    TransportError,
    WaitTimeoutError,
)
from imagekit_jobs.testing import FakeImageKit

from .conftest import CANARY_KEY


@pytest.fixture
def fake():
    with FakeImageKit(private_key=CANARY_KEY, job_duration=1.0, time_scale=20.0) as server:
        yield server


@pytest.fixture
def client(fake):
    with BulkJobClient(CANARY_KEY, base_url=fake.url, max_requests_per_second=None) as c:
        yield c


def fast_waiter(client, **options):
    options.setdefault("initial_interval", 0.01)
    options.setdefault("max_interval", 0.05)
    return JobWaiter(client, **options)


def test_copy_then_wait_until_completed(fake, client):
    """A submitted copy is polled over HTTP until Completed."""
    job_id = client.copy_folder("/src", "/dst", include_versions=True)
    result = fast_waiter(client, timeout=10).wait(job_id)
    assert (result.job_id, result.type, result.status) == (job_id, "COPY_FOLDER", "Completed")
    assert fake.jobs()[job_id].payload == {
        "sourceFolderPath": "/src",
        "destinationPath": "/dst",
        "includeVersions": True,
    }
    gets = [r for r in fake.requests() if r.method == "GET"]
    assert gets
    assert all(r.path == f"/v1/bulkJobs/{job_id}" for r in gets)
    assert gets[-1].status == 200


def test_wrong_key_is_401_after_one_request(fake):
    """A wrong key: AuthenticationError from the server's 401, one request."""
    job_id = fake.add_job()
    with BulkJobClient("wrong", base_url=fake.url) as c, pytest.raises(AuthenticationError) as info:
        fast_waiter(c).wait(job_id)
    assert info.value.message == "Your request does not contain private API key."
    assert info.value.request_id
    assert fake.count() == 1


def test_unknown_job_is_404(fake, client):
    """An unknown id: JobNotFoundError, one request."""
    with pytest.raises(JobNotFoundError, match="does not exist"):
        fast_waiter(client).wait("000000000000000000000000")
    assert fake.count() == 1


def test_second_job_on_a_busy_folder_is_423(fake, client):
    """A second move of a folder with a running job: ConflictError 423."""
    client.move_folder("/a", "/b")
    with pytest.raises(ConflictError) as info:
        client.copy_folder("/a", "/c")
    assert info.value.status_code == 423


def test_rename_with_purge_partial_success():
    """A rename with purgeCache on a server that fails the purge: JobPartialSuccessError."""
    with (
        FakeImageKit(
            private_key=CANARY_KEY, job_duration=0.0, partial_success_on_purge=True
        ) as fake,
        BulkJobClient(CANARY_KEY, base_url=fake.url) as c,
    ):
        job_id = c.rename_folder("/a", "b", purge_cache=True)
        with pytest.raises(JobPartialSuccessError) as info:
            fast_waiter(c).wait(job_id)
    assert info.value.job.purge_request_id == "purge_" + job_id[:12]
    assert info.value.message == "Folder renamed, but the cache purge failed."


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("429", RateLimitedError),
        ("502", ServerError),
        ("html", ResponseFormatError),
        ("truncated", ResponseFormatError),
        ("malformed", ResponseFormatError),
        ("drop", TransportError),
    ],
)
def test_injected_faults_surface_as_typed_errors(fake, client, fault, error):
    """Each fault the server injects reaches the caller as the matching typed error."""
    job_id = fake.add_job()
    fake.inject(fault)
    with pytest.raises(error):
        client.get_job(job_id)
    assert client.get_job(job_id).status == "Pending"


def test_waiter_survives_every_transient_fault(fake, client):
    """429, 5xx, dropped and garbled answers in a row are retried; the wait completes."""
    job_id = fake.add_job(duration=0.0)
    for fault in ("429-nohint", "500", "503", "504", "html", "truncated", "drop", "malformed"):
        fake.inject(fault)
    retries = []
    result = fast_waiter(client, timeout=20, max_interval=0.02, on_retry=retries.append).wait(
        job_id
    )
    assert result.status == "Completed"
    assert len(retries) == 8
    assert fake.count() == 9


def test_server_rate_limit_hint_is_parsed(client):
    """A real 429 from the server's own limit carries X-RateLimit-Reset as seconds."""
    with FakeImageKit(private_key=CANARY_KEY, rate_limit=2.0) as fake:
        job_id = fake.add_job()
        with BulkJobClient(CANARY_KEY, base_url=fake.url, max_requests_per_second=None) as c:
            c.get_job(job_id)
            c.get_job(job_id)
            with pytest.raises(RateLimitedError) as info:
                c.get_job(job_id)
    assert info.value.retry_after is not None
    assert 0 < info.value.retry_after <= 0.5


@pytest.mark.parametrize("fault", ["trickle", "hang", "slow"])
def test_request_is_cut_at_its_total_timeout(fault):
    """Trickled, hung or slow answers end as TransportError at the request's total timeout."""
    with FakeImageKit(private_key=CANARY_KEY, trickle_seconds=0.05, slow_seconds=5) as fake:
        job_id = fake.add_job()
        fake.inject(fault)
        with BulkJobClient(CANARY_KEY, base_url=fake.url, timeout=0.4) as c:
            start = time.monotonic()
            with pytest.raises(TransportError, match=r"within 0\.4s"):
                c.get_job(job_id)
            took = time.monotonic() - start
            assert c.get_job(job_id).status == "Pending"
    assert 0.4 <= took < 0.5


@pytest.mark.parametrize("fault", ["trickle", "hang"])
def test_wait_ends_within_100ms_of_its_deadline_on_a_stalling_server(fault):
    """A server that stalls every answer: the wait still ends < 0.1 s past its deadline."""
    with FakeImageKit(private_key=CANARY_KEY, trickle_seconds=0.05) as fake:
        job_id = fake.add_job()
        fake.inject(fault, times=100)
        with BulkJobClient(CANARY_KEY, base_url=fake.url, timeout=30) as c:
            start = time.monotonic()
            with pytest.raises(WaitTimeoutError) as info:
                JobWaiter(c, timeout=0.6).wait(job_id)
            took = time.monotonic() - start
    assert info.value.polls == 1
    assert took < 0.6 + 0.1


def test_redirect_does_not_carry_the_key_elsewhere(fake, client):
    """A 302 to another host is not followed: the target never sees an Authorization header."""
    with FakeImageKit(private_key="other") as target:
        fake.redirect_to = target.url + "/steal"
        fake.inject("redirect")
        with pytest.raises(ApiError, match="redirect"):
            client.get_job(fake.add_job())
        assert target.requests() == []
    assert [r.authorized for r in fake.requests()] == [True]


def test_keep_alive_connection_is_reused(fake, client):
    """Twenty polls travel over one kept-alive connection."""
    job_id = fake.add_job(duration=100)
    for _ in range(20):
        client.get_job(job_id)
    adapter = client._session.get_adapter(fake.url)
    pools = list(adapter.poolmanager.pools._container.values())
    assert len(pools) == 1
    assert pools[0].num_connections == 1


def test_waiter_closes_only_the_client_it_created(fake, monkeypatch):
    """JobWaiter() builds its client from the environment and closes it; a given one stays open."""
    monkeypatch.setenv("IMAGEKIT_PRIVATE_KEY", CANARY_KEY)
    monkeypatch.setenv("IMAGE_KIT_BASE_URL", fake.url)
    job_id = fake.add_job(duration=0.0)
    with JobWaiter(initial_interval=0.01) as waiter:
        assert waiter.wait(job_id).succeeded
        own = waiter.client
    assert own._adapter.poolmanager.pools.keys() == set()  # closed with the waiter
    with BulkJobClient(CANARY_KEY, base_url=fake.url) as given:
        with JobWaiter(given) as waiter:
            waiter.wait(job_id)
        assert given.get_job(job_id).succeeded  # still usable after the waiter closed


def test_wait_for_job_uses_the_environment(fake, monkeypatch):
    """wait_for_job: one call, key and URL from the environment."""
    from imagekit_jobs import wait_for_job

    monkeypatch.setenv("IMAGEKIT_PRIVATE_KEY", CANARY_KEY)
    monkeypatch.setenv("IMAGE_KIT_BASE_URL", fake.url)
    job_id = fake.add_job(duration=0.0)
    assert wait_for_job(job_id, timeout=5, initial_interval=0.01).job_id == job_id
