"""The exception tree: every error the package raises is an ``ImageKitJobsError``.

::

    ImageKitJobsError
    ├── InvalidInputError (also ValueError)      bad job id, insecure URL, missing key, bad CSV
    ├── TransportError                           connection refused/reset, DNS, request timeout
    ├── ApiError                                 the API answered, but not with a usable job
    │   ├── BadRequestError            400
    │   ├── AuthenticationError        401, 403
    │   ├── JobNotFoundError           404
    │   ├── ConflictError              409, 423 (a bulk job already runs on the folder)
    │   ├── RateLimitedError           429, with the server's wait hint
    │   ├── ServerError                5xx
    │   ├── ResponseFormatError        2xx whose body is not the expected JSON
    │   └── SubmissionUnknownError     a submission's answer was lost (the job may exist)
    ├── NotSentError                             a submission skipped (the key was refused)
    ├── JobPartialSuccessError                   the job finished with "Partial success"
    ├── WaitTimeoutError                         the deadline passed with the job still pending
    │   └── ApiUnreachableError                  ... and not one status read succeeded
    └── JournalError                             the journal file cannot be used
        └── JournalInUseError                    another process holds it

Transient errors (``TransportError``, ``RateLimitedError``, ``ServerError``,
``ResponseFormatError``) are retried by the waiter inside its deadline; every other
error ends a wait at once. No error ever carries the private key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._models import BulkJob

__all__ = [
    "ApiError",
    "ApiUnreachableError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "ImageKitJobsError",
    "InvalidInputError",
    "JobNotFoundError",
    "JobPartialSuccessError",
    "JournalError",
    "JournalInUseError",
    "NotSentError",
    "RateLimitedError",
    "ResponseFormatError",
    "ServerError",
    "SubmissionUnknownError",
    "TransportError",
    "WaitTimeoutError",
    "is_transient",
]


class ImageKitJobsError(Exception):
    """Base class of every error raised by imagekit-jobs."""

    #: The job the error concerns, where known.
    job_id: str | None = None


class InvalidInputError(ImageKitJobsError, ValueError):
    """The caller's input was refused before any request was sent."""


class TransportError(ImageKitJobsError):
    """The API could not be reached: connection failure, TLS failure or request timeout."""

    def __init__(self, message: str, *, job_id: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.job_id = job_id
        self.status_code: int | None = None
        self.request_id: str | None = None


class ApiError(ImageKitJobsError):
    """The API answered with an HTTP status (or body) that is not a usable result."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None,
        help: str | None = None,
        request_id: str | None = None,
        job_id: str | None = None,
        reason: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.help = help
        self.request_id = request_id
        self.job_id = job_id
        self.reason = reason

    def __str__(self) -> str:
        parts = [self.message]
        if self.status_code is not None:
            parts.insert(0, f"HTTP {self.status_code}:")
        if self.reason:
            parts.append(f"(reason: {self.reason})")
        if self.job_id:
            parts.append(f"[job {self.job_id}]")
        if self.request_id:
            parts.append(f"[request id {self.request_id}]")
        return " ".join(parts)


class BadRequestError(ApiError):
    """HTTP 400: the API refused the request's parameters."""


class AuthenticationError(ApiError):
    """HTTP 401 or 403: the private key is missing, wrong, or not allowed to do this."""


class JobNotFoundError(ApiError):
    """HTTP 404: the job (or the source folder) does not exist."""


class ConflictError(ApiError):
    """HTTP 409 (target exists) or 423 (a bulk job is already running on the folder)."""


class RateLimitedError(ApiError):
    """HTTP 429: the account's rate limit was hit.

    ``retry_after`` is the server's hint in seconds (from ``X-RateLimit-Reset`` or
    ``Retry-After``), or ``None`` when it gave none.
    """

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after


class ServerError(ApiError):
    """HTTP 5xx: the API (or a proxy in front of it) failed."""


class ResponseFormatError(ApiError):
    """A 2xx answer whose body is not the expected JSON (HTML, truncated, wrong types)."""


class SubmissionUnknownError(ApiError):
    """A submission got no usable answer (dropped, timed out, 5xx): the job may exist.

    It is never re-sent automatically, since a second copy or move is worse than a question.
    """


class NotSentError(ImageKitJobsError):
    """A submission was not sent because an earlier one showed the key is refused."""


class JobPartialSuccessError(ImageKitJobsError):
    """The job finished with status ``Partial success`` (folder renamed, cache purge failed)."""

    def __init__(self, job: BulkJob) -> None:
        self.job = job
        self.job_id = job.job_id
        self.message = job.message or "The job finished with partial success."
        self.help = job.help
        super().__init__(f"{self.message} [job {job.job_id}]")


class WaitTimeoutError(ImageKitJobsError):
    """The deadline passed while the job was still running.

    Carries the job id, the last ``BulkJob`` seen (``None`` if no read succeeded), the
    seconds waited, the number of status requests sent and the last transient error.
    """

    def __init__(
        self,
        job_id: str,
        *,
        last_job: BulkJob | None,
        elapsed: float,
        polls: int,
        last_error: BaseException | None = None,
    ) -> None:
        self.job_id = job_id
        self.last_job = last_job
        self.elapsed = elapsed
        self.polls = polls
        self.last_error = last_error
        status = last_job.status if last_job is not None else "unknown"
        super().__init__(
            f"job {job_id} still {status} after {elapsed:.1f}s and {polls} status requests"
        )


class ApiUnreachableError(WaitTimeoutError):
    """The deadline passed without a single successful status read (``last_error`` says why)."""

    def __str__(self) -> str:
        return (
            f"job {self.job_id}: no status read succeeded in {self.elapsed:.1f}s "
            f"({self.polls} requests); last error: {self.last_error}"
        )


class JournalError(ImageKitJobsError):
    """The journal file cannot be opened, read or written."""


class JournalInUseError(JournalError):
    """Another process has the journal open for writing."""


_TRANSIENT = (TransportError, RateLimitedError, ServerError, ResponseFormatError)


def is_transient(error: BaseException) -> bool:
    """Whether a wait should retry after ``error`` rather than end."""
    return isinstance(error, _TRANSIENT)
