"""Fuzzing the response parser: whatever the body, only the package's own errors come out."""

from __future__ import annotations

import contextlib
import json

import pytest
import responses
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imagekit_jobs import BulkJob, BulkJobClient, ImageKitJobsError, ResponseFormatError
from imagekit_jobs._client import MAX_BODY_BYTES, _parse_job, _status_error

from .conftest import CANARY_KEY
from .figures import record

pytestmark = pytest.mark.reliability

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
status_like = st.fixed_dictionaries(
    {},
    optional={
        "jobId": json_values,
        "type": json_values,
        "status": json_values | st.sampled_from(["Pending", "Completed", "Partial success", ""]),
        "purgeRequestId": json_values,
        "message": json_values,
        "help": json_values,
    },
)


def _parse(body: bytes) -> BulkJob:
    return _parse_job(body, status=200, headers={}, job_id="job1")


@settings(max_examples=2000, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=512))
def test_random_bytes(body):
    """Random bytes: a BulkJob or a ResponseFormatError, nothing else."""
    with contextlib.suppress(ResponseFormatError):
        _parse(body)


@settings(max_examples=2000)
@given(status_like)
def test_wrong_types_for_every_field(data):
    """Every field with every JSON type: a well-typed BulkJob, or ResponseFormatError."""
    try:
        parsed = _parse(json.dumps(data).encode())
    except ResponseFormatError:
        return
    assert isinstance(parsed.status, str)
    assert parsed.status
    assert isinstance(parsed.type, str)
    assert parsed.purge_request_id is None or isinstance(parsed.purge_request_id, str)


@settings(max_examples=500)
@given(
    st.integers(100, 400),
    st.binary(max_size=256),
    st.dictionaries(st.text(max_size=20), st.text(max_size=40), max_size=4),
)
def test_error_bodies_and_statuses(status, body, headers):
    """Any status with any body and headers maps to a package error without raising."""
    error = _status_error(status, headers, body, "job1")
    assert isinstance(error, ImageKitJobsError)
    str(error)


@pytest.mark.parametrize("depth", [100, 10_000, 200_000])
def test_deep_json(depth):
    """Deeply nested JSON: ResponseFormatError, never RecursionError."""
    with pytest.raises(ResponseFormatError):
        _parse(b"[" * depth + b"]" * depth)


def test_huge_json_number_and_string():
    """A huge number or string in a field is refused or truncated, never a crash."""
    with pytest.raises(ResponseFormatError):
        _parse(b'{"status": ' + b"9" * 5000 + b"}")
    parsed = _parse(json.dumps({"status": "P" * 100_000, "type": "T" * 100_000}).encode())
    assert len(parsed.status) == 64
    assert len(parsed.type) == 64


@responses.activate
@pytest.mark.parametrize("size", [MAX_BODY_BYTES + 1, 8 * MAX_BODY_BYTES])
def test_bodies_past_the_cap_are_refused(size):
    """Bodies larger than 1 MiB: ResponseFormatError, reading stops at the cap."""
    url = "https://api.imagekit.io/v1/bulkJobs/job1"
    responses.get(url, body=b"x" * size, content_type="application/json")
    with (
        BulkJobClient(CANARY_KEY, max_requests_per_second=None) as client,
        pytest.raises(ResponseFormatError, match="larger than"),
    ):
        client.get_job("job1")


def test_record_fuzz_figures():
    """Record what the fuzzers tried (for RELIABILITY.md)."""
    record(
        "fuzzing",
        random_byte_bodies=2000,
        mistyped_json_bodies=2000,
        error_status_bodies=500,
        deep_json_depths="100, 10000, 200000",
        oversized_bodies="1 MiB + 1 byte, 8 MiB",
    )
