"""``FakeImageKit``: the server's life cycle, its controls, and the API's behaviour."""

from __future__ import annotations

import base64
import random
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from http.server import ThreadingHTTPServer
from typing import Any

from ._handler import Handler
from ._model import (
    _SUPPORT,
    _TYPES,
    FAULTS,
    Duration,
    FakeJob,
    RequestRecord,
    _Bucket,
    _error,
    _Rule,
    _State,
)

__all__ = ["FakeImageKit"]


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

        class BoundHandler(Handler):
            server_fake = fake

        server = ThreadingHTTPServer(("127.0.0.1", 0), BoundHandler)
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
