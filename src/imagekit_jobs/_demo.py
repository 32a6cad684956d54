"""``imagekit-jobs demo``: the whole thing against a bundled fake ImageKit, no key needed."""

from __future__ import annotations

import secrets

from ._client import BulkJobClient
from ._outcomes import overall_exit
from ._progress import Progress
from ._run import Output, WaitSettings, wait_and_report
from .testing import FakeImageKit

__all__ = ["run_demo"]

_CHAOS_FAULTS = ("429", "500", "502", "503", "504")


def run_demo(*, chaos: bool, out: Output, progress: Progress) -> int:
    """Submit a copy (3 s) and a move (5 s) to a local fake server and wait for both."""
    key = "private_demo_" + secrets.token_hex(8)
    durations = {"COPY_FOLDER": 3.0, "MOVE_FOLDER": 5.0}
    with FakeImageKit(
        private_key=key,
        job_duration=lambda job: durations.get(job.type, 3.0),
        fault_rate=0.3 if chaos else 0.0,
        fault_kinds=_CHAOS_FAULTS,
    ) as fake:
        progress.message(
            f"demo: a fake ImageKit is listening on {fake.url}"
            + (" (chaos: 30% of answers are 429 or 5xx)" if chaos else "")
        )
        with BulkJobClient(key, base_url=fake.url) as client:
            fake.fault_rate = 0.0  # submissions go through; the chaos is in the polling
            copy_id = client.copy_folder("/demo/photos", "/demo/backup")
            move_id = client.move_folder("/demo/incoming", "/demo/archive")
            fake.fault_rate = 0.3 if chaos else 0.0
            progress.message(f"submitted COPY_FOLDER job {copy_id} (takes ~3 s)")
            progress.message(f"submitted MOVE_FOLDER job {move_id} (takes ~5 s)")
            codes = wait_and_report(
                client,
                [copy_id, move_id],
                settings=WaitSettings(timeout=25.0, initial_interval=0.5, max_interval=2.0),
                output=out,
                progress=progress,
                journal=None,
                resume_command="imagekit-jobs demo",
                job_types={copy_id: "COPY_FOLDER", move_id: "MOVE_FOLDER"},
            )
        faults = sum(1 for r in fake.requests() if r.fault)
        progress.message(
            f"demo: {fake.count()} requests, {faults} faults injected and survived"
            if chaos
            else f"demo: {fake.count()} requests in all"
        )
    return overall_exit(codes)
