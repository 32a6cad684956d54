"""``FakeImageKit``: a real HTTP server on 127.0.0.1 that speaks ImageKit's bulk-job API.

Use it to test scripts that copy, move or rename folders, without an account::

    from imagekit_jobs import BulkJobClient, JobWaiter
    from imagekit_jobs.testing import FakeImageKit

    with FakeImageKit(job_duration=5.0, time_scale=10.0) as fake:   # jobs finish in 0.5 s
        with BulkJobClient(fake.private_key, base_url=fake.url) as client:
            job_id = client.copy_folder("/a", "/b")
            assert JobWaiter(client).wait(job_id).status == "Completed"
        assert fake.count(method="GET") >= 1

It answers the three submit endpoints and the status endpoint, checks Basic auth, answers
404 for unknown jobs, 423 while a folder has a running job, 207 ``Partial success`` for a
rename with ``purgeCache`` when ``partial_success_on_purge`` is set, and can inject faults
(per request with :meth:`FakeImageKit.inject`, or at random with ``fault_rate``) and
enforce a per-key rate limit with real 429s. Every request is logged (thread-safe).
"""

from __future__ import annotations

import base64
import json
import math
import random
import secrets
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["FAULTS", "FakeImageKit", "FakeJob", "RequestRecord"]

#: Every fault the server can inject.
FAULTS = (
    "429",  # rate limited, with X-RateLimit-Limit/Reset/Interval headers
    "429-nohint",  # rate limited, no hint at all
    "500",
    "502",
    "503",
    "504",
    "slow",  # answer normally after ``slow_seconds``
    "hang",  # answer nothing for ``hang_seconds``, then drop the connection
    "trickle",  # send the answer one byte every ``trickle_seconds``
    "drop",  # close the connection without an answer
    "html",  # 200 with an HTML page (a proxy's)
    "truncated",  # 200 with half a JSON body
    "malformed",  # 200 with JSON of the wrong types
    "redirect",  # 302 to ``redirect_to``
)
_SUPPORT = "For support kindly contact us at support@imagekit.io ."
_TYPES = {"copyFolder": "COPY_FOLDER", "moveFolder": "MOVE_FOLDER", "renameFolder": "RENAME_FOLDER"}

Duration = float | Callable[["FakeJob"], float]


@dataclass
class FakeJob:
    """A job the fake server knows: its kind, payload and when it finishes."""

    job_id: str
    type: str
    payload: Mapping[str, Any]
    submitted_at: float
    duration: float
    folders: tuple[str, ...] = ()
    partial: bool = False
    forced: str | None = None

    def status_at(self, now: float, time_scale: float) -> str:
        """The job's status at clock reading ``now``."""
        if self.forced is not None:
            return self.forced
        if (now - self.submitted_at) * time_scale >= self.duration:
            return "Partial success" if self.partial else "Completed"
        return "Pending"


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One request the server received: when (monotonic), what, and how it was answered."""

    time: float
    method: str
    path: str
    status: int
    fault: str | None
    authorized: bool


@dataclass
class _Rule:
    fault: str
    method: str | None
    path: str | None
    remaining: int
    skip: int


@dataclass
class _Bucket:
    tokens: float
    stamp: float


@dataclass
class _State:
    jobs: dict[str, FakeJob] = field(default_factory=dict)
    log: list[RequestRecord] = field(default_factory=list)
    rules: deque[_Rule] = field(default_factory=deque)
    buckets: dict[str, _Bucket] = field(default_factory=dict)


class FakeImageKit:
    """A fake ImageKit bulk-job API on ``127.0.0.1`` (an ephemeral port); a context manager.

    ``job_duration`` is seconds (of API time) until a job completes: a number, or a function
    of the ``FakeJob``. ``time_scale`` speeds API time up (10: a 5 s job takes 0.5 s).
    ``rate_limit`` is requests per second per key, answered with real 429s past it.
    ``fault_rate`` faults that share of requests at random, drawn from ``fault_kinds``;
    an injected ``429`` hints ``fault_hint_seconds`` in ``X-RateLimit-Reset``.
    ``log_requests=False`` keeps only ``total_requests`` (for long load runs).
    """

    def __init__(
        self,
        *,
        private_key: str = "private_fake_key",
        job_duration: Duration = 3.0,
        time_scale: float = 1.0,
        rate_limit: float | None = None,
        fault_rate: float = 0.0,
        fault_kinds: Iterable[str] = FAULTS[:-1],
        partial_success_on_purge: bool = False,
        slow_seconds: float = 0.5,
        hang_seconds: float = 30.0,
        trickle_seconds: float = 0.05,
        redirect_to: str = "http://127.0.0.1:9/stolen",
        fault_hint_seconds: float = 1.0,
        log_requests: bool = True,
        seed: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        kinds = tuple(fault_kinds)
        unknown = set(kinds) - set(FAULTS)
        if unknown:
            raise ValueError(f"unknown fault kinds: {sorted(unknown)}")
        if not time_scale > 0:
            raise ValueError("time_scale must be > 0")
        self.private_key = private_key
        self.job_duration = job_duration
        self.time_scale = time_scale
        self.rate_limit = rate_limit
        self.fault_rate = fault_rate
        self.fault_kinds = kinds
        self.partial_success_on_purge = partial_success_on_purge
        self.slow_seconds = slow_seconds
        self.hang_seconds = hang_seconds
        self.trickle_seconds = trickle_seconds
        self.redirect_to = redirect_to
        self.fault_hint_seconds = fault_hint_seconds
        self.log_requests = log_requests
        #: Requests received, counted even when ``log_requests`` is off.
        self.total_requests = 0
        self.clock = clock
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._state = _State()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"FakeImageKit(url={self.url if self._server else None!r})"

    # -- life cycle ----------------------------------------------------------------------

    def start(self) -> FakeImageKit:
        """Start serving on an ephemeral port of 127.0.0.1."""
        fake = self

        class Handler(_Handler):
            server_fake = fake

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; requests held by ``hang`` or ``trickle`` faults end at once."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeImageKit:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The base URL to give the client, e.g. ``http://127.0.0.1:43117``."""
        assert self._server is not None, "the server is not started"
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}"

    # -- controlling jobs and faults -----------------------------------------------------

    def add_job(
        self,
        job_type: str = "COPY_FOLDER",
        *,
        duration: float | None = None,
        job_id: str | None = None,
        status: str | None = None,
    ) -> str:
        """Create a job directly (as if submitted now); return its id."""
        new = FakeJob(
            job_id=job_id or uuid.uuid4().hex[:24],
            type=job_type,
            payload={},
            submitted_at=self.clock(),
            duration=0.0,
            forced=status,
        )
        new.duration = duration if duration is not None else self._duration_for(new)
        with self._lock:
            self._state.jobs[new.job_id] = new
        return new.job_id

    def set_status(self, job_id: str, status: str | None) -> None:
        """Force a job's status (``None``: back to its timed course)."""
        with self._lock:
            self._state.jobs[job_id].forced = status

    def jobs(self) -> dict[str, FakeJob]:
        """A copy of every job the server knows."""
        with self._lock:
            return dict(self._state.jobs)

    def status_of(self, job_id: str) -> str:
        """A job's status now, as the server would answer it."""
        with self._lock:
            return self._state.jobs[job_id].status_at(self.clock(), self.time_scale)

    def inject(
        self,
        fault: str,
        *,
        times: int = 1,
        after: int = 0,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        """Answer ``times`` matching requests with ``fault`` (see ``FAULTS``), once ``after``
        matching requests have been answered normally."""
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}")
        with self._lock:
            self._state.rules.append(_Rule(fault, method, path, times, after))

    def requests(self) -> list[RequestRecord]:
        """A copy of the request log."""
        with self._lock:
            return list(self._state.log)

    def count(self, *, method: str | None = None, status: int | None = None) -> int:
        """How many requests were received, optionally of one method or answer status."""
        return sum(
            1
            for r in self.requests()
            if (method is None or r.method == method) and (status is None or r.status == status)
        )

    # -- internals used by the handler ---------------------------------------------------

    def _duration_for(self, job: FakeJob) -> float:
        if callable(self.job_duration):
            return float(self.job_duration(job))
        return float(self.job_duration)

    def _pick_fault(self, method: str, path: str) -> str | None:
        with self._lock:
            for rule in self._state.rules:
                if (rule.method in (None, method)) and (rule.path in (None, path)):
                    if rule.skip > 0:
                        rule.skip -= 1
                        continue
                    rule.remaining -= 1
                    if rule.remaining <= 0:
                        self._state.rules.remove(rule)
                    return rule.fault
            if self.fault_rate and self.fault_kinds and self._rng.random() < self.fault_rate:
                return self._rng.choice(self.fault_kinds)
        return None

    def _over_limit(self, key: str) -> float | None:
        """Seconds until the key may send again, or None if this request is within its limit."""
        if self.rate_limit is None:
            return None
        now = self.clock()
        with self._lock:
            bucket = self._state.buckets.setdefault(key, _Bucket(self.rate_limit, now))
            bucket.tokens = min(
                self.rate_limit, bucket.tokens + (now - bucket.stamp) * self.rate_limit
            )
            bucket.stamp = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return None
            return (1.0 - bucket.tokens) / self.rate_limit

    def _authorized(self, header: str | None) -> bool:
        """Basic auth whose user name is the key; the password is ignored, as ImageKit does."""
        if not header or not header.startswith("Basic "):
            return False
        try:
            user = base64.b64decode(header[6:], validate=True).decode().partition(":")[0]
        except ValueError:
            return False
        return secrets.compare_digest(user, self.private_key)

    def _record(self, record: RequestRecord) -> None:
        with self._lock:
            self.total_requests += 1
            if self.log_requests:
                self._state.log.append(record)

    def _submit(self, operation: str, body: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        if operation == "renameFolder":
            required = ("folderPath", "newFolderName")
        else:
            required = ("sourceFolderPath", "destinationPath")
        for name in required:
            if not isinstance(body.get(name), str) or not body[name]:
                return 400, _error(f"{name} is required", reason="MISSING_PARAMETER")
        folders = tuple(body[name] for name in required if name != "newFolderName")
        if operation != "renameFolder" and body["sourceFolderPath"] == body["destinationPath"]:
            return 400, _error(
                "Source and destination are the same.", reason="SAME_SOURCE_AND_DESTINATION"
            )
        now = self.clock()
        new = FakeJob(
            job_id=uuid.uuid4().hex[:24],
            type=_TYPES[operation],
            payload=dict(body),
            submitted_at=now,
            duration=0.0,
            folders=folders,
            partial=bool(body.get("purgeCache")) and self.partial_success_on_purge,
        )
        new.duration = self._duration_for(new)
        with self._lock:
            for other in self._state.jobs.values():
                busy = other.status_at(now, self.time_scale) == "Pending"
                if busy and set(other.folders) & set(folders):
                    return 423, _error(
                        "A bulk job is running on given folder path, please try after sometime."
                    )
            self._state.jobs[new.job_id] = new
        return (202 if operation == "renameFolder" else 200), {"jobId": new.job_id}

    def _status(self, job_id: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            found = self._state.jobs.get(job_id)
            status = found.status_at(self.clock(), self.time_scale) if found else None
        if found is None or status is None:
            return 404, _error("The requested job does not exist.")
        body: dict[str, Any] = {"jobId": found.job_id, "type": found.type, "status": status}
        if found.payload.get("purgeCache") and status != "Pending":
            body["purgeRequestId"] = "purge_" + found.job_id[:12]
        if status == "Partial success":
            body["message"] = "Folder renamed, but the cache purge failed."
            body["help"] = _SUPPORT
            return 207, body
        return 200, body


def _error(message: str, *, reason: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"message": message, "help": _SUPPORT}
    if reason:
        body["reason"] = reason
    return body


class _Handler(BaseHTTPRequestHandler):
    server_fake: FakeImageKit
    protocol_version = "HTTP/1.1"  # keep-alive, as the real API
    disable_nagle_algorithm = True  # else every keep-alive poll waits out a delayed ACK

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the request log replaces stderr noise

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def _handle(self, method: str) -> None:
        fake = self.server_fake
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(min(length, 1 << 20)) if length else b""
        path = self.path.split("?", 1)[0]
        authorized = fake._authorized(self.headers.get("Authorization"))
        fault = fake._pick_fault(method, path)
        status, body, headers = self._answer(method, path, raw, authorized, fault)
        fake._record(
            RequestRecord(
                fake.clock(),
                method,
                path,
                status,
                fault,
                self.headers.get("Authorization") is not None,
            )
        )
        self._send(status, body, headers, fault)

    def _answer(
        self, method: str, path: str, raw: bytes, authorized: bool, fault: str | None
    ) -> tuple[int, bytes, dict[str, str]]:
        fake = self.server_fake
        headers = {"x-ik-requestId": uuid.uuid4().hex}
        if fault == "redirect":
            headers["Location"] = fake.redirect_to
            return 302, b"", headers
        if fault in ("429", "429-nohint"):
            return (
                429,
                _json(_error("Too many requests")),
                headers
                | (
                    _limit_headers(fake.rate_limit or 10.0, fake.fault_hint_seconds)
                    if fault == "429"
                    else {}
                ),
            )
        if fault in ("500", "502", "503", "504"):
            return int(fault), b"<html><body><h1>Server error</h1></body></html>", headers
        if not authorized:
            return 401, _json(_error("Your request does not contain private API key.")), headers
        wait = fake._over_limit(fake.private_key)
        if wait is not None:
            return (
                429,
                _json(_error("Too many requests")),
                headers | _limit_headers(fake.rate_limit or 1.0, wait),
            )
        if fault == "html":
            return 200, b"<!doctype html><html><body>Gateway says hi</body></html>", headers
        if fault == "malformed":
            return 200, _json({"jobId": 12, "type": None, "status": ["Completed"]}), headers
        status, body = self._route(method, path, raw)
        data = _json(body)
        if fault == "truncated":
            data = data[: len(data) // 2]
        return status, data, headers

    def _route(self, method: str, path: str, raw: bytes) -> tuple[int, dict[str, Any]]:
        fake = self.server_fake
        parts = path.split("/")
        if method == "GET" and len(parts) == 4 and parts[1:3] == ["v1", "bulkJobs"]:
            return fake._status(parts[3])
        if (
            method == "POST"
            and len(parts) == 4
            and parts[3] in _TYPES
            and parts[1:3] == ["v1", "bulkJobs"]
        ):
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                return 400, _error("Request body is not JSON.", reason="INVALID_PARAMETER")
            if not isinstance(body, dict):
                return 400, _error("Request body is not an object.", reason="INVALID_PARAMETER")
            return fake._submit(parts[3], body)
        return 404, _error("Not found.")

    def _send(self, status: int, body: bytes, headers: dict[str, str], fault: str | None) -> None:
        fake = self.server_fake
        if fault == "drop":
            self.close_connection = True
            return
        if fault == "hang":
            fake._stopping.wait(fake.hang_seconds)
            self.close_connection = True
            return
        if fault == "slow":
            fake._stopping.wait(fake.slow_seconds)
        self.send_response(status)
        self.send_header(
            "Content-Type", "text/html" if body.startswith(b"<") else "application/json"
        )
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        try:
            if fault == "trickle":
                for i in range(len(body)):
                    if fake._stopping.wait(fake.trickle_seconds):
                        break
                    self.wfile.write(body[i : i + 1])
                    self.wfile.flush()
            else:
                self.wfile.write(body)
        except OSError:
            self.close_connection = True


def _json(body: Mapping[str, Any]) -> bytes:
    return json.dumps(body).encode()


def _limit_headers(limit: float, wait: float) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(max(1, int(limit))),
        "X-RateLimit-Reset": str(max(1, math.ceil(wait * 1000))),
        "X-RateLimit-Interval": "1000",
    }
