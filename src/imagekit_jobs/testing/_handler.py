"""The HTTP side of ``FakeImageKit``: one request in, one (possibly faulty) answer out."""

from __future__ import annotations

import json
import uuid
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any

from ._model import _TYPES, RequestRecord, _error, _json, _limit_headers

if TYPE_CHECKING:
    from ._fake import FakeImageKit

__all__ = ["Handler"]


class Handler(BaseHTTPRequestHandler):
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
