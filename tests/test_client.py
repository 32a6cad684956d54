"""BulkJobClient: requests sent, statuses mapped to errors, bodies parsed, input refused."""

from __future__ import annotations

import base64
import json
import logging

import pytest
import requests
import responses

from imagekit_jobs import (
    ApiError,
    AuthenticationError,
    BadRequestError,
    BulkJob,
    BulkJobClient,
    ConflictError,
    InvalidInputError,
    JobNotFoundError,
    RateLimitedError,
    ResponseFormatError,
    ServerError,
    TransportError,
)

from .conftest import CANARY_KEY

BASE = "https://api.imagekit.io"
JOB_ID = "598821f949c0a938d57563bd"
STATUS_URL = f"{BASE}/v1/bulkJobs/{JOB_ID}"


@pytest.fixture
def client():
    with BulkJobClient(CANARY_KEY, base_url=BASE, max_requests_per_second=None) as c:
        yield c


@responses.activate
def test_get_job_sends_basic_auth_and_user_agent(client):
    """One GET with Basic base64('<key>:') and a User-Agent naming the package."""
    responses.get(STATUS_URL, json={"jobId": JOB_ID, "type": "COPY_FOLDER", "status": "Pending"})
    result = client.get_job(JOB_ID)
    assert result == BulkJob(job_id=JOB_ID, type="COPY_FOLDER", status="Pending")
    assert len(responses.calls) == 1
    headers = responses.calls[0].request.headers
    expected = "Basic " + base64.b64encode(f"{CANARY_KEY}:".encode()).decode()
    assert headers["Authorization"] == expected
    assert headers["User-Agent"].startswith("imagekit-jobs/")


@responses.activate
def test_completed_with_purge_request_id(client):
    """purgeRequestId and the raw body are kept."""
    body = {"jobId": JOB_ID, "type": "RENAME_FOLDER", "status": "Completed", "purgeRequestId": "p1"}
    responses.get(STATUS_URL, json=body)
    result = client.get_job(JOB_ID)
    assert result.purge_request_id == "p1"
    assert result.succeeded
    assert dict(result.raw) == body


@responses.activate
def test_207_partial_success_is_a_finished_job_not_an_error(client):
    """HTTP 207 'Partial success' comes back as a finished BulkJob with message and help."""
    body = {
        "jobId": JOB_ID,
        "type": "RENAME_FOLDER",
        "status": "Partial success",
        "message": "Folder renamed, cache purge failed",
        "help": "purge again",
    }
    responses.get(STATUS_URL, json=body, status=207)
    result = client.get_job(JOB_ID)
    assert (result.status, result.is_finished, result.succeeded) == ("Partial success", True, False)
    assert (result.message, result.help) == ("Folder renamed, cache purge failed", "purge again")


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, AuthenticationError),
        (404, JobNotFoundError),
        (409, ConflictError),
        (423, ConflictError),
        (429, RateLimitedError),
        (500, ServerError),
        (502, ServerError),
        (503, ServerError),
        (504, ServerError),
        (418, ApiError),
    ],
)
@responses.activate
def test_status_codes_map_to_typed_errors(client, status, cls):
    """Each HTTP status maps to its error, carrying code, message, help, request id, job id."""
    responses.get(
        STATUS_URL,
        status=status,
        json={"message": "it failed", "help": "ask support", "reason": "WHY"},
        headers={"x-ik-requestId": "req-123"},
    )
    with pytest.raises(cls) as info:
        client.get_job(JOB_ID)
    err = info.value
    assert type(err) is cls
    assert (err.status_code, err.message, err.help, err.request_id, err.job_id, err.reason) == (
        status,
        "it failed",
        "ask support",
        "req-123",
        JOB_ID,
        "WHY",
    )
    assert str(err) == f"HTTP {status}: it failed (reason: WHY) [job {JOB_ID}] [request id req-123]"


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"X-RateLimit-Reset": "1500", "X-RateLimit-Limit": "10"}, 1.5),
        ({"Retry-After": "7"}, 7.0),
        ({"X-RateLimit-Reset": "250", "Retry-After": "9"}, 0.25),
        ({"X-RateLimit-Reset": "junk", "Retry-After": "3"}, 3.0),
        ({}, None),
    ],
)
@responses.activate
def test_429_carries_the_servers_wait_hint(client, headers, expected):
    """X-RateLimit-Reset (ms) wins over Retry-After (s); no header, no hint."""
    responses.get(STATUS_URL, status=429, json={"message": "Too many requests"}, headers=headers)
    with pytest.raises(RateLimitedError) as info:
        client.get_job(JOB_ID)
    assert info.value.retry_after == expected


@responses.activate
def test_a_429_pauses_the_clients_budget():
    """After a 429 with a 2 s hint, the client's budget holds requests for about 2 s."""
    responses.get(STATUS_URL, status=429, headers={"X-RateLimit-Reset": "2000"})
    with BulkJobClient(CANARY_KEY, base_url=BASE, max_requests_per_second=5) as c:
        with pytest.raises(RateLimitedError):
            c.get_job(JOB_ID)
        assert c.budget is not None
        assert 1.9 < c.budget.delay() <= 2.2
        with pytest.raises(RateLimitedError, match="budget"):
            c.get_job(JOB_ID, timeout=0.5)  # cannot get a token in time: nothing sent
    assert len(responses.calls) == 1


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"<html><body>502 Bad Gateway</body></html>", "text/html"),
        (b'{"jobId": "x", "status": "Pen', "application/json"),
        (b"", "application/json"),
        (b"[1, 2, 3]", "application/json"),
        (b'{"jobId": "x", "type": "COPY_FOLDER"}', "application/json"),
        (b'{"jobId": "x", "type": "COPY_FOLDER", "status": 7}', "application/json"),
        (b'{"jobId": 5, "type": "COPY_FOLDER", "status": "Pending"}', "application/json"),
        (b'{"type": ["x"], "status": "Pending"}', "application/json"),
        (b'{"status": "Pending", "purgeRequestId": {}}', "application/json"),
        (b"[" * 100_000, "application/json"),
    ],
)
@responses.activate
def test_bad_2xx_bodies_are_response_format_errors(client, body, content_type):
    """HTML, truncated, empty, deep or mistyped JSON: ResponseFormatError, never KeyError."""
    responses.get(
        STATUS_URL, body=body, content_type=content_type, headers={"x-ik-requestId": "r9"}
    )
    with pytest.raises(ResponseFormatError) as info:
        client.get_job(JOB_ID)
    assert (info.value.status_code, info.value.request_id, info.value.job_id) == (200, "r9", JOB_ID)


@responses.activate
def test_oversized_body_is_refused(client):
    """A body over 1 MiB is a ResponseFormatError, not read into memory whole."""
    responses.get(STATUS_URL, body=b" " * (1024 * 1024 + 1), content_type="application/json")
    with pytest.raises(ResponseFormatError, match="larger than"):
        client.get_job(JOB_ID)


@responses.activate
def test_error_bodies_in_html_are_still_typed(client):
    """A 502 from a proxy in HTML: ServerError with a generic message."""
    responses.get(STATUS_URL, status=502, body="<html>Bad gateway</html>", content_type="text/html")
    with pytest.raises(ServerError) as info:
        client.get_job(JOB_ID)
    assert info.value.message == "unexpected HTTP 502 answer"


@responses.activate
def test_redirects_are_not_followed(client):
    """A 302 elsewhere is an ApiError; the key is never sent to the redirect target."""
    responses.get(STATUS_URL, status=302, headers={"Location": "https://evil.example/steal"})
    with pytest.raises(ApiError, match="redirect") as info:
        client.get_job(JOB_ID)
    assert info.value.status_code == 302
    assert len(responses.calls) == 1


@responses.activate
def test_connection_errors_are_transport_errors(client):
    """A refused connection becomes TransportError, chained to the requests error."""
    responses.get(STATUS_URL, body=requests.ConnectionError("refused"))
    with pytest.raises(TransportError) as info:
        client.get_job(JOB_ID)
    assert isinstance(info.value.__cause__, requests.ConnectionError)
    assert info.value.job_id == JOB_ID


@responses.activate
def test_read_timeouts_are_transport_errors(client):
    """A read timeout becomes TransportError naming the time limit."""
    responses.get(STATUS_URL, body=requests.ReadTimeout("slow"))
    with pytest.raises(TransportError, match="within 2s"):
        client.get_job(JOB_ID, timeout=2)


@pytest.mark.parametrize(
    "bad_id",
    [
        "",
        "../etc",
        "a/b",
        "a?b=1",
        "a#frag",
        "a%2Fb",
        "a b",
        "a\nb",
        "a\x00b",
        "..",
        "x" * 129,
        "abc\n",
        "ａｂｃ",
    ],
)
@responses.activate
def test_path_changing_job_ids_are_refused_with_zero_requests(client, bad_id):
    """Ids that could change the URL path raise InvalidInputError (a ValueError); nothing sent."""
    with pytest.raises(InvalidInputError) as info:
        client.get_job(bad_id)
    assert isinstance(info.value, ValueError)
    assert len(responses.calls) == 0


def test_job_ids_of_128_safe_characters_are_accepted():
    """The longest allowed id passes validation."""
    from imagekit_jobs._validate import check_job_id

    assert check_job_id("a_B-9" * 25 + "xyz") == "a_B-9" * 25 + "xyz"


@pytest.mark.parametrize(
    "url",
    [
        "http://api.imagekit.io",
        "http://10.0.0.5:8080",
        "ftp://api.imagekit.io",
        "https://user:pw@api.imagekit.io",
        "https://",
        "https://api.imagekit.io?x=1",
        "http://127.0.0.1.evil.example",
    ],
)
def test_insecure_or_malformed_base_urls_are_refused(url):
    """Plain http off the machine, credentials in URLs and other schemes are refused."""
    with pytest.raises(InvalidInputError):
        BulkJobClient(CANARY_KEY, base_url=url)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8080", "http://localhost:1/", "http://[::1]:9", "https://x.test/"]
)
def test_loopback_http_and_https_are_accepted(url):
    """http:// to loopback is allowed; the trailing slash is dropped."""
    with BulkJobClient(CANARY_KEY, base_url=url) as c:
        assert c.base_url == url.rstrip("/")


def test_missing_key_names_the_environment_variable(monkeypatch):
    """No key anywhere: InvalidInputError naming IMAGEKIT_PRIVATE_KEY."""
    monkeypatch.delenv("IMAGEKIT_PRIVATE_KEY", raising=False)
    with pytest.raises(InvalidInputError, match="IMAGEKIT_PRIVATE_KEY"):
        BulkJobClient()


@responses.activate
def test_environment_supplies_key_and_base_url(monkeypatch):
    """IMAGEKIT_PRIVATE_KEY and IMAGE_KIT_BASE_URL are read when no argument is given."""
    monkeypatch.setenv("IMAGEKIT_PRIVATE_KEY", CANARY_KEY)
    monkeypatch.setenv("IMAGE_KIT_BASE_URL", "https://ik.test")
    responses.get(f"https://ik.test/v1/bulkJobs/{JOB_ID}", json={"status": "Pending"})
    with BulkJobClient(max_requests_per_second=None) as c:
        assert c.get_job(JOB_ID).status == "Pending"


@pytest.mark.parametrize(
    ("call", "path", "payload", "status"),
    [
        (
            lambda c: c.copy_folder("/a", "/b"),
            "copyFolder",
            {"sourceFolderPath": "/a", "destinationPath": "/b"},
            200,
        ),
        (
            lambda c: c.copy_folder("/a", "/b", include_versions=True),
            "copyFolder",
            {"sourceFolderPath": "/a", "destinationPath": "/b", "includeVersions": True},
            200,
        ),
        (
            lambda c: c.move_folder("/a", "/b"),
            "moveFolder",
            {"sourceFolderPath": "/a", "destinationPath": "/b"},
            200,
        ),
        (
            lambda c: c.rename_folder("/a", "c", purge_cache=True),
            "renameFolder",
            {"folderPath": "/a", "newFolderName": "c", "purgeCache": True},
            202,
        ),
    ],
)
@responses.activate
def test_submissions_post_the_documented_payloads(client, call, path, payload, status):
    """Each submit posts exactly the documented JSON and returns the job id."""
    responses.post(f"{BASE}/v1/bulkJobs/{path}", json={"jobId": JOB_ID}, status=status)
    assert call(client) == JOB_ID
    assert json.loads(responses.calls[0].request.body) == payload


@responses.activate
def test_submit_answer_without_a_job_id_is_a_format_error(client):
    """A 200 without a usable jobId is a ResponseFormatError."""
    responses.post(f"{BASE}/v1/bulkJobs/moveFolder", json={"jobId": "../x"})
    with pytest.raises(ResponseFormatError, match="jobId"):
        client.move_folder("/a", "/b")


@responses.activate
def test_submit_locked_folder_is_a_conflict(client):
    """423 on submit: ConflictError with the API's message."""
    msg = "A bulk job is running on given folder path, please try after sometime."
    responses.post(f"{BASE}/v1/bulkJobs/copyFolder", status=423, json={"message": msg})
    with pytest.raises(ConflictError, match="please try after sometime") as info:
        client.copy_folder("/a", "/b")
    assert info.value.status_code == 423


@pytest.mark.parametrize("bad", ["", "   ", "/a\x00b"])
@responses.activate
def test_submit_refuses_empty_or_control_paths(client, bad):
    """Empty paths and control characters are refused before anything is sent."""
    with pytest.raises(InvalidInputError):
        client.copy_folder(bad, "/b")
    assert len(responses.calls) == 0


@responses.activate
def test_key_never_appears_in_reprs_errors_or_logs(client, caplog):
    """The canary key is absent from reprs, error text and every log record."""
    responses.get(STATUS_URL, status=401, json={"message": "Your key is invalid"})
    with caplog.at_level(logging.DEBUG), pytest.raises(AuthenticationError) as info:
        client.get_job(JOB_ID)
    texts = [repr(client), str(client), str(info.value), repr(info.value), repr(client._auth)]
    texts += [r.getMessage() for r in caplog.records]
    token = base64.b64encode(f"{CANARY_KEY}:".encode()).decode()
    for text in texts:
        assert CANARY_KEY not in text
        assert token not in text
    assert caplog.records, "debug logging should have recorded the request"
