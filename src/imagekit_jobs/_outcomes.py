"""What each outcome means to a script: its exit code, its kind, its JSON form.

The one table below maps every error class to the command's exit code and a stable
``kind`` string; the most specific class listed first wins.
"""

from __future__ import annotations

from typing import Any

from . import _errors as e
from ._models import BulkJob

__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_TIMEOUT",
    "EXIT_USAGE",
    "Interrupted",
    "error_json",
    "exit_code",
    "kind_of",
    "overall_exit",
]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_TIMEOUT = 124
EXIT_INTERRUPTED = 130


class Interrupted(Exception):
    """Ctrl-C or SIGTERM arrived: the run stops, names what is pending, and exits 130."""


#: (error class, exit code, kind), most specific first.
TABLE: tuple[tuple[type[BaseException], int, str], ...] = (
    (Interrupted, EXIT_INTERRUPTED, "interrupted"),
    (KeyboardInterrupt, EXIT_INTERRUPTED, "interrupted"),
    (e.ApiUnreachableError, EXIT_FAILED, "api_unreachable"),
    (e.WaitTimeoutError, EXIT_TIMEOUT, "timeout"),
    (e.JobPartialSuccessError, EXIT_FAILED, "partial_success"),
    (e.SubmissionUnknownError, EXIT_FAILED, "submission_unknown"),
    (e.NotSentError, EXIT_FAILED, "not_sent"),
    (e.JobNotFoundError, EXIT_FAILED, "not_found"),
    (e.AuthenticationError, EXIT_FAILED, "not_authorised"),
    (e.BadRequestError, EXIT_FAILED, "bad_request"),
    (e.ConflictError, EXIT_FAILED, "conflict"),
    (e.RateLimitedError, EXIT_FAILED, "rate_limited"),
    (e.ServerError, EXIT_FAILED, "server_error"),
    (e.ResponseFormatError, EXIT_FAILED, "bad_response"),
    (e.ApiError, EXIT_FAILED, "api_error"),
    (e.TransportError, EXIT_FAILED, "unreachable"),
    (e.JournalInUseError, EXIT_USAGE, "journal_in_use"),
    (e.JournalError, EXIT_USAGE, "journal_error"),
    (e.InvalidInputError, EXIT_USAGE, "invalid_input"),
    (e.ImageKitJobsError, EXIT_FAILED, "error"),
    (BaseException, EXIT_FAILED, "internal_error"),
)

# How bad each exit code is when several jobs end differently: errors outrank timeouts.
_SEVERITY = {EXIT_OK: 0, EXIT_TIMEOUT: 1, EXIT_FAILED: 2, EXIT_USAGE: 3, EXIT_INTERRUPTED: 4}


def _row(error: BaseException) -> tuple[int, str]:
    for cls, code, kind in TABLE:
        if isinstance(error, cls):
            return code, kind
    raise AssertionError("unreachable: BaseException matches everything")  # pragma: no cover


def exit_code(outcome: BulkJob | BaseException) -> int:
    """The exit code one job's outcome calls for."""
    if isinstance(outcome, BulkJob):
        return EXIT_OK if outcome.succeeded else EXIT_FAILED
    return _row(outcome)[0]


def kind_of(error: BaseException) -> str:
    """The stable ``kind`` string of an error (``timeout``, ``not_found``, ...)."""
    return _row(error)[1]


def overall_exit(codes: list[int]) -> int:
    """The command's exit code for several jobs: the most severe one (0 if none)."""
    return max(codes, key=_SEVERITY.__getitem__, default=EXIT_OK)


def error_json(error: BaseException) -> dict[str, Any]:
    """The ``error`` object of the JSON output: kind, statusCode, message, requestId."""
    status = getattr(error, "status_code", None)
    message = getattr(error, "message", None) or str(error)
    if isinstance(error, e.WaitTimeoutError):
        message = str(error)
    return {
        "kind": kind_of(error),
        "statusCode": status if isinstance(status, int) else None,
        "message": message,
        "requestId": getattr(error, "request_id", None),
    }
