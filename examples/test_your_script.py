"""How to test your own deployment code without an ImageKit account: run it against
``FakeImageKit``, a real HTTP server on 127.0.0.1 that speaks the bulk-job API.

    pip install ".[test]"   # from a clone of this repository
    pytest examples/test_your_script.py
"""

from __future__ import annotations

import pytest

from imagekit_jobs import ApiUnreachableError, BulkJobClient, JobWaiter, ServerError
from imagekit_jobs.testing import FakeImageKit


def publish(client: BulkJobClient, release: str) -> str:
    """The code under test: copy a release live and wait for it."""
    job_id = client.copy_folder(f"/releases/{release}", "/live")
    return JobWaiter(client, timeout=30, initial_interval=0.05).wait(job_id).status


@pytest.fixture
def fake():
    # Jobs take 2 s of API time; time_scale=20 makes that 0.1 s of test time.
    with FakeImageKit(private_key="test-key", job_duration=2.0, time_scale=20) as server:
        yield server


def test_publish_waits_for_the_copy(fake):
    with BulkJobClient("test-key", base_url=fake.url) as client:
        assert publish(client, "v41") == "Completed"
    (job,) = fake.jobs().values()
    assert job.payload == {"sourceFolderPath": "/releases/v41", "destinationPath": "/live"}


def test_publish_survives_a_flaky_api(fake):
    fake.inject("502", times=2, method="GET")  # the first two status reads fail
    with BulkJobClient("test-key", base_url=fake.url) as client:
        assert publish(client, "v42") == "Completed"
    assert fake.count(status=502) == 2


def test_publish_reports_a_server_that_never_recovers(fake):
    fake.inject("503", times=10_000, method="GET")
    with BulkJobClient("test-key", base_url=fake.url) as client:
        waiter = JobWaiter(client, timeout=0.5, initial_interval=0.05)
        with pytest.raises(ApiUnreachableError) as info:
            waiter.wait(client.copy_folder("/a", "/b"))
    assert isinstance(info.value.last_error, ServerError)
