"""imagekit-jobs: wait for ImageKit bulk jobs (copy, move, rename folder) to finish.

>>> from imagekit_jobs import BulkJobClient, JobWaiter
>>> with BulkJobClient() as client:                       # key from IMAGEKIT_PRIVATE_KEY
...     job_id = client.copy_folder("/photos", "/backup")
...     job = JobWaiter(client, timeout=900).wait(job_id)  # polls until Completed
"""

import logging
from importlib.metadata import PackageNotFoundError, version

from ._budget import DEFAULT_MAX_REQUESTS_PER_SECOND
from ._client import BulkJobClient
from ._errors import (
    ApiError,
    ApiUnreachableError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ImageKitJobsError,
    InvalidInputError,
    JobNotFoundError,
    JobPartialSuccessError,
    JournalError,
    JournalInUseError,
    NotSentError,
    RateLimitedError,
    ResponseFormatError,
    ServerError,
    SubmissionUnknownError,
    TransportError,
    WaitTimeoutError,
)
from ._models import BulkJob, PollEvent, RetryEvent
from ._schedule import Schedule
from ._waiter import JobStatusSource, JobWaiter, wait_for_job

# A library never prints: without the application's own logging set up, records are dropped.
logging.getLogger("imagekit_jobs").addHandler(logging.NullHandler())

try:
    __version__ = version("imagekit-jobs")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

__all__ = [
    "DEFAULT_MAX_REQUESTS_PER_SECOND",
    "ApiError",
    "ApiUnreachableError",
    "AuthenticationError",
    "BadRequestError",
    "BulkJob",
    "BulkJobClient",
    "ConflictError",
    "ImageKitJobsError",
    "InvalidInputError",
    "JobNotFoundError",
    "JobPartialSuccessError",
    "JobStatusSource",
    "JobWaiter",
    "JournalError",
    "JournalInUseError",
    "NotSentError",
    "PollEvent",
    "RateLimitedError",
    "ResponseFormatError",
    "RetryEvent",
    "Schedule",
    "ServerError",
    "SubmissionUnknownError",
    "TransportError",
    "WaitTimeoutError",
    "__version__",
    "wait_for_job",
]
