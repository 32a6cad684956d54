"""The public surface: exactly the documented names, typed, with docstrings."""

from __future__ import annotations

import inspect
from pathlib import Path

import imagekit_jobs
from imagekit_jobs import testing

DOCUMENTED = {
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
}


def test_all_is_exactly_the_documented_names():
    """__all__ lists the documented names, sorted, and each one exists."""
    assert set(imagekit_jobs.__all__) == DOCUMENTED

    # isort-style, as ruff keeps it: CONSTANTS, then Classes, then functions and dunders
    def group(name: str) -> tuple[int, str]:
        return (0 if name.isupper() else 1 if name[:1].isupper() else 2, name)

    assert imagekit_jobs.__all__ == sorted(imagekit_jobs.__all__, key=group)
    for name in imagekit_jobs.__all__:
        assert hasattr(imagekit_jobs, name)


def test_every_public_name_has_a_docstring():
    """Public classes and functions, and their public methods, are documented."""
    for name in imagekit_jobs.__all__:
        obj = getattr(imagekit_jobs, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert inspect.getdoc(obj), name
        if inspect.isclass(obj) and not issubclass(obj, BaseException):
            for attr, member in vars(obj).items():
                if not attr.startswith("_") and inspect.isfunction(member):
                    assert inspect.getdoc(member), f"{name}.{attr}"
    assert inspect.getdoc(testing.FakeImageKit)


def test_every_error_is_under_one_base():
    """Every exception the package exports derives from ImageKitJobsError."""
    for name in imagekit_jobs.__all__:
        obj = getattr(imagekit_jobs, name)
        if inspect.isclass(obj) and issubclass(obj, BaseException):
            assert issubclass(obj, imagekit_jobs.ImageKitJobsError), name


def test_options_are_keyword_only():
    """Past the first argument, options are keyword-only."""
    for func in (
        imagekit_jobs.BulkJobClient.__init__,
        imagekit_jobs.JobWaiter.__init__,
        imagekit_jobs.JobWaiter.wait,
        imagekit_jobs.JobWaiter.wait_all,
    ):
        params = list(inspect.signature(func).parameters.values())[2:]
        assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params), func


def test_version_and_typed_marker():
    """__version__ comes from the installed metadata; py.typed ships."""
    assert imagekit_jobs.__version__ == "0.1.0"
    assert (Path(imagekit_jobs.__file__).parent / "py.typed").exists()
