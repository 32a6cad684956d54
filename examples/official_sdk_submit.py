"""Submit with the official ``imagekitio`` SDK, wait with imagekit-jobs.

    pip install imagekitio
    IMAGEKIT_PRIVATE_KEY=... python examples/official_sdk_submit.py /old-name new-name

The SDK has no "wait until done" helper; ``JobWaiter`` adds one without changing how you
submit.
"""

from __future__ import annotations

import os
import sys

from imagekitio import ImageKit

from imagekit_jobs import BulkJobClient, JobWaiter


def main(folder: str, new_name: str) -> int:
    sdk = ImageKit(
        private_key=os.environ["IMAGEKIT_PRIVATE_KEY"],
        base_url=os.environ.get("IMAGE_KIT_BASE_URL"),
    )
    submitted = sdk.folders.rename(folder_path=folder, new_folder_name=new_name)
    job_id = submitted.job_id
    assert job_id is not None
    with BulkJobClient() as client:
        job = JobWaiter(client, timeout=600).wait(job_id)
    print(f"{job.job_id} {job.type} {job.status}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
