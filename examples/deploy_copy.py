"""Deployment step: copy a folder on ImageKit and do not go on until the copy is done.

    IMAGEKIT_PRIVATE_KEY=... python examples/deploy_copy.py /site/v41 /site/live

Exit status: 0 when the copy completed, 1 otherwise (the reason is printed).
"""

from __future__ import annotations

import logging
import sys

from imagekit_jobs import BulkJobClient, ImageKitJobsError, JobWaiter, WaitTimeoutError


def main(source: str, destination: str) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    with BulkJobClient() as client:  # key and base URL from the environment
        job_id = client.copy_folder(source, destination, include_versions=True)
        print(f"copy submitted: job {job_id}", file=sys.stderr)
        waiter = JobWaiter(
            client,
            timeout=900,  # 15 minutes, then give up
            on_status_change=lambda old, new: print(f"  {new.status}", file=sys.stderr),
        )
        try:
            job = waiter.wait(job_id)
        except WaitTimeoutError as error:
            print(f"still running after {error.elapsed:.0f}s: {error}", file=sys.stderr)
            return 1
        except ImageKitJobsError as error:
            print(f"copy failed: {error}", file=sys.stderr)
            return 1
    print(f"{job.job_id} {job.status}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
