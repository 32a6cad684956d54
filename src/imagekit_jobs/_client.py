"""``BulkJobClient``: the one place that talks HTTP to ImageKit's bulk-job API."""

from __future__ import annotations

import base64
import json
import logging
import os
import time
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from . import _errors as errors
from ._budget import DEFAULT_MAX_REQUESTS_PER_SECOND, RequestBudget
from ._hints import retry_after_seconds
from ._models import BulkJob
from ._validate import check_base_url, check_job_id
from ._watchdog import Watchdog, WatchedHTTPConnectionPool, WatchedHTTPSConnectionPool

__all__ = ["DEFAULT_BASE_URL", "MAX_BODY_BYTES", "BulkJobClient"]

logger = logging.getLogger("imagekit_jobs")

DEFAULT_BASE_URL = "https://api.imagekit.io"
KEY_ENV = "IMAGEKIT_PRIVATE_KEY"
BASE_URL_ENV = "IMAGE_KIT_BASE_URL"
#: A status response is ~100 bytes; anything past this is not ImageKit's answer.
MAX_BODY_BYTES = 1 << 20

try:
    _VERSION = version("imagekit-jobs")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    _VERSION = "0+unknown"
USER_AGENT = f"imagekit-jobs/{_VERSION} python-requests/{requests.__version__}"


class _KeyAuth(requests.auth.AuthBase):
    """Basic auth with the private key as user name and an empty password; never shown."""

    def __init__(self, private_key: str) -> None:
        token = base64.b64encode(f"{private_key}:".encode()).decode("ascii")
        self._header = f"Basic {token}"

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = self._header
        return request

    def __repr__(self) -> str:
        return "<_KeyAuth ***>"


class _WatchedAdapter(HTTPAdapter):
    """An adapter whose pools report each request's connection to the watchdog."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": WatchedHTTPConnectionPool,
            "https": WatchedHTTPSConnectionPool,
        }

    def close(self) -> None:
        # urllib3 2 leaves pooled sockets open until the pools are garbage collected: close
        # them now, so a closed client holds no connection (and the server no thread).
        pools = self.poolmanager.pools
        for key in list(pools.keys()):
            pool = pools.get(key)
            if pool is not None:
                pool.close()
        super().close()


class BulkJobClient:
    """A thin client for ImageKit's bulk-job API: submit a folder job, read a job's status.

    ``private_key`` defaults to ``$IMAGEKIT_PRIVATE_KEY``; ``base_url`` to
    ``$IMAGE_KIT_BASE_URL``, else ``https://api.imagekit.io`` (plain ``http://`` only to a
    loopback host). ``timeout`` is the total time one request may take, however slowly the
    server answers. ``max_requests_per_second`` is the budget shared by everything using this
    client (``None``: unlimited); a 429 pauses all of it for the server's hinted time.
    Proxy and CA-bundle environment variables (``HTTPS_PROXY``, ``REQUESTS_CA_BUNDLE``, ...)
    are read once, when the client is created. ``pool_size`` is how many keep-alive
    connections it keeps (at least the number of threads that share it). ``session`` lets
    you bring your own ``requests.Session`` (the client mounts its adapter on it, and leaves
    it open on ``close``). Every method sends exactly one request: retries are the
    waiter's decision.
    """

    def __init__(
        self,
        private_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float = 10.0,
        session: requests.Session | None = None,
        max_requests_per_second: float | None = DEFAULT_MAX_REQUESTS_PER_SECOND,
        pool_size: int = 10,
    ) -> None:
        key = private_key if private_key is not None else os.environ.get(KEY_ENV)
        if not key:
            raise errors.InvalidInputError(
                f"no ImageKit private key: pass private_key= or set the {KEY_ENV} "
                "environment variable"
            )
        if not timeout > 0:
            raise errors.InvalidInputError("timeout must be a positive number of seconds")
        self._auth = _KeyAuth(key)
        self.base_url = check_base_url(base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL)
        self.timeout = float(timeout)
        self.budget = (
            RequestBudget(max_requests_per_second) if max_requests_per_second is not None else None
        )
        self._own_session = session is None
        self._session = session if session is not None else requests.Session()
        self._pool_size = max(1, pool_size)
        self._adapter = _WatchedAdapter(pool_connections=2, pool_maxsize=self._pool_size)
        self._session.mount("https://", self._adapter)
        self._session.mount("http://", self._adapter)
        # Proxy and CA-bundle variables are read once here rather than on every poll: the
        # lookup cost a third of each request's CPU.
        env = self._session.merge_environment_settings(self.base_url, {}, None, None, None)
        self._send_options: dict[str, Any] = {
            "proxies": env["proxies"],
            "verify": env["verify"],
            "cert": env["cert"],
        }
        if self._own_session:  # a caller's session is left as it was given
            self._session.trust_env = False
        self._watchdog = Watchdog()

    def __repr__(self) -> str:
        return f"BulkJobClient(base_url={self.base_url!r}, timeout={self.timeout!r})"

    def __enter__(self) -> BulkJobClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the keep-alive connections (and the session, if the client created it)."""
        self._watchdog.close()
        self._adapter.close()
        if self._own_session:
            self._session.close()

    # -- the API -------------------------------------------------------------------------

    def get_job(self, job_id: str, *, timeout: float | None = None) -> BulkJob:
        """Read a job's status once: ``GET /v1/bulkJobs/{job_id}``.

        ``timeout`` overrides the client's total time for this one request. A 207
        ``Partial success`` is returned as a finished job, not raised.
        """
        check_job_id(job_id)
        status, headers, body = self._request(
            "GET", f"/v1/bulkJobs/{job_id}", timeout=timeout, job_id=job_id
        )
        return _parse_job(body, status=status, headers=headers, job_id=job_id)

    def copy_folder(
        self, source_folder_path: str, destination_path: str, *, include_versions: bool = False
    ) -> str:
        """Submit a folder copy; return its job id."""
        payload: dict[str, Any] = {
            "sourceFolderPath": _path(source_folder_path, "source_folder_path"),
            "destinationPath": _path(destination_path, "destination_path"),
        }
        if include_versions:
            payload["includeVersions"] = True
        return self._submit("copyFolder", payload)

    def move_folder(self, source_folder_path: str, destination_path: str) -> str:
        """Submit a folder move; return its job id."""
        payload = {
            "sourceFolderPath": _path(source_folder_path, "source_folder_path"),
            "destinationPath": _path(destination_path, "destination_path"),
        }
        return self._submit("moveFolder", payload)

    def rename_folder(
        self, folder_path: str, new_folder_name: str, *, purge_cache: bool = False
    ) -> str:
        """Submit a folder rename; return its job id."""
        payload: dict[str, Any] = {
            "folderPath": _path(folder_path, "folder_path"),
            "newFolderName": _path(new_folder_name, "new_folder_name"),
        }
        if purge_cache:
            payload["purgeCache"] = True
        return self._submit("renameFolder", payload)

    # -- plumbing ------------------------------------------------------------------------

    def _fit_pool(self, threads: int) -> None:
        """Keep at least one keep-alive connection per thread that will share the client.

        ``wait_all`` calls it with its worker count, so no worker opens (and drops) a
        connection per request.
        """
        if threads <= self._pool_size:
            return
        self._pool_size = threads
        self._adapter.close()
        self._adapter.init_poolmanager(2, threads)

    def _submit(self, operation: str, payload: Mapping[str, Any]) -> str:
        status, headers, body = self._request(
            "POST", f"/v1/bulkJobs/{operation}", timeout=None, json_body=payload
        )
        data = _decode(body, status=status, headers=headers, job_id=None)
        job_id = data.get("jobId")
        try:
            return check_job_id(job_id)
        except errors.InvalidInputError:
            raise _format_error(
                "the API's answer has no usable jobId", status, headers, None
            ) from None

    def _request(
        self,
        method: str,
        path: str,
        *,
        timeout: float | None,
        job_id: str | None = None,
        json_body: Mapping[str, Any] | None = None,
    ) -> tuple[int, Mapping[str, str], bytes]:
        seconds = self.timeout if timeout is None else max(0.0, float(timeout))
        if self.budget is not None:
            # Time spent waiting for the budget comes out of the request's own time.
            started = time.monotonic()
            if not self.budget.acquire(timeout=seconds):
                raise errors.RateLimitedError(
                    "the client's request budget has no room within the request's time",
                    status_code=None,
                    retry_after=self.budget.delay(),
                    job_id=job_id,
                )
            seconds = max(0.0, seconds - (time.monotonic() - started))
        ticket = self._watchdog.arm(seconds)
        try:
            with ticket:
                response = self._session.request(
                    method,
                    self.base_url + path,
                    json=json_body,
                    auth=self._auth,
                    headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
                    timeout=max(seconds, 0.001),
                    allow_redirects=False,
                    stream=True,
                    **self._send_options,
                )
                try:
                    body = _read_capped(response)
                finally:
                    response.close()
        except requests.RequestException as exc:
            if ticket.fired or isinstance(exc, requests.Timeout):
                raise errors.TransportError(
                    f"{method} {path} got no complete answer within {seconds:.3g}s",
                    job_id=job_id,
                ) from exc
            raise errors.TransportError(
                f"{method} {path} failed: {type(exc).__name__}", job_id=job_id
            ) from exc
        finally:
            self._watchdog.disarm(ticket)
        status = response.status_code
        logger.debug("%s %s -> %s", method, path, status)
        if status >= 300:
            error = _status_error(status, response.headers, body, job_id)
            if isinstance(error, errors.RateLimitedError) and self.budget is not None:
                # A 429 anywhere holds every request on this client, not just this one.
                self.budget.pause(error.retry_after if error.retry_after is not None else 1.0)
            raise error
        return status, response.headers, body


def _read_capped(response: requests.Response) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(chunk_size=16384):
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _format_error(
                f"response body larger than {MAX_BODY_BYTES} bytes",
                response.status_code,
                response.headers,
                None,
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _path(value: object, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise errors.InvalidInputError(f"{name} must be a non-empty string")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise errors.InvalidInputError(f"{name} must not contain control characters")
    return value


def _request_id(headers: Mapping[str, str]) -> str | None:
    value = headers.get("x-ik-requestId")
    return value[:200] if value else None


def _format_error(
    message: str, status: int, headers: Mapping[str, str], job_id: str | None
) -> errors.ResponseFormatError:
    return errors.ResponseFormatError(
        message, status_code=status, request_id=_request_id(headers), job_id=job_id
    )


def _decode(
    body: bytes, *, status: int, headers: Mapping[str, str], job_id: str | None
) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        snippet = body[:60].decode("utf-8", "replace")
        raise _format_error(
            f"expected a JSON object, got {snippet!r}", status, headers, job_id
        ) from None
    if not isinstance(data, dict):
        raise _format_error(
            f"expected a JSON object, got {type(data).__name__}", status, headers, job_id
        )
    return data


def _optional_str(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) else None


def _parse_job(body: bytes, *, status: int, headers: Mapping[str, str], job_id: str) -> BulkJob:
    data = _decode(body, status=status, headers=headers, job_id=job_id)
    job_status = data.get("status")
    job_type = data.get("type", "")
    returned_id = data.get("jobId", job_id)
    purge = data.get("purgeRequestId")
    if (
        not isinstance(job_status, str)
        or not job_status
        or not isinstance(job_type, str)
        or not isinstance(returned_id, str)
        or not (purge is None or isinstance(purge, str))
    ):
        raise _format_error(
            "status response lacks a string 'status' or has fields of the wrong type",
            status,
            headers,
            job_id,
        )
    return BulkJob(
        job_id=job_id,
        type=job_type[:64],
        status=job_status[:64],
        purge_request_id=purge,
        message=_optional_str(data, "message"),
        help=_optional_str(data, "help"),
        raw=data,
    )


_BY_STATUS: dict[int, type[errors.ApiError]] = {
    400: errors.BadRequestError,
    401: errors.AuthenticationError,
    403: errors.AuthenticationError,
    404: errors.JobNotFoundError,
    409: errors.ConflictError,
    423: errors.ConflictError,
}

_DEFAULT_MESSAGES = {
    404: "The requested job does not exist.",
    423: "A bulk job is running on the given folder path.",
    429: "Rate limit exceeded.",
}


def _status_error(
    status: int, headers: Mapping[str, str], body: bytes, job_id: str | None
) -> errors.ApiError:
    message: str | None = None
    help_text: str | None = None
    reason: str | None = None
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        data = None
    if isinstance(data, dict):
        message = _optional_str(data, "message")
        help_text = _optional_str(data, "help")
        reason = _optional_str(data, "reason")
    if message is None:
        message = _DEFAULT_MESSAGES.get(status) or f"unexpected HTTP {status} answer"
        if 300 <= status < 400:
            message = (
                f"unexpected redirect to {headers.get('Location', '?')[:200]!r} (not followed)"
            )
    common: dict[str, Any] = {
        "status_code": status,
        "help": help_text,
        "request_id": _request_id(headers),
        "job_id": job_id,
        "reason": reason,
    }
    if status == 429:
        return errors.RateLimitedError(
            message[:500], retry_after=retry_after_seconds(headers), **common
        )
    if status >= 500:
        return errors.ServerError(message[:500], **common)
    cls = _BY_STATUS.get(status, errors.ApiError)
    return cls(message[:500], **common)
