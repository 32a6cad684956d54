"""``FakeImageKit``: a real HTTP server on 127.0.0.1 that speaks ImageKit's bulk-job API.

Use it to test scripts that copy, move or rename folders, without an account::

    from imagekit_jobs import BulkJobClient, JobWaiter
    from imagekit_jobs.testing import FakeImageKit

    with FakeImageKit(job_duration=5.0, time_scale=10.0) as fake:   # jobs finish in 0.5 s
        with BulkJobClient(fake.private_key, base_url=fake.url) as client:
            job_id = client.copy_folder("/a", "/b")
            assert JobWaiter(client).wait(job_id).status == "Completed"
        assert fake.count(method="GET") >= 1

It answers the three submit endpoints and the status endpoint, checks Basic auth, answers
404 for unknown jobs, 423 while a folder has a running job, 207 ``Partial success`` for a
rename with ``purgeCache`` when ``partial_success_on_purge`` is set, and can inject faults
(per request with :meth:`FakeImageKit.inject`, or at random with ``fault_rate``) and
enforce a per-key rate limit with real 429s. Every request is logged (thread-safe).
"""

from ._fake import FakeImageKit
from ._model import FAULTS, FakeJob, RequestRecord

__all__ = ["FAULTS", "FakeImageKit", "FakeJob", "RequestRecord"]
