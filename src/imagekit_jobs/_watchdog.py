"""A total time limit per request, whatever the server does.

``requests`` applies its timeout to each socket operation, so a server that trickles its
answer one byte at a time can hold a request open forever. The watchdog is one daemon
thread per client with a heap of deadlines: when a request outlives its deadline, the
watchdog shuts its socket down, the blocked read returns at once, and the client reports a
timeout. Arming and disarming cost a lock and a heap push, not a thread per request.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import socket
import threading
import time
from typing import Any

from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

__all__ = ["Watchdog", "WatchedHTTPConnectionPool", "WatchedHTTPSConnectionPool"]

# The request being sent on this thread, so a pool can tell it which connection it got.
_current = threading.local()


class Ticket:
    """One armed request: the connection it uses and whether the watchdog cut it."""

    __slots__ = ("conn", "deadline", "done", "fired")

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.conn: Any = None
        self.done = False
        self.fired = False

    def __enter__(self) -> Ticket:
        _current.ticket = self
        return self

    def __exit__(self, *exc: object) -> None:
        _current.ticket = None


def _note_connection(conn: Any) -> None:
    ticket = getattr(_current, "ticket", None)
    if ticket is not None:
        ticket.conn = conn


class WatchedHTTPConnectionPool(HTTPConnectionPool):
    """An HTTP pool that tells the armed ticket which connection a request uses."""

    def _get_conn(self, timeout: float | None = None) -> Any:
        conn = super()._get_conn(timeout)
        _note_connection(conn)
        return conn


class WatchedHTTPSConnectionPool(HTTPSConnectionPool):
    """An HTTPS pool that tells the armed ticket which connection a request uses."""

    def _get_conn(self, timeout: float | None = None) -> Any:
        conn = super()._get_conn(timeout)
        _note_connection(conn)
        return conn


class Watchdog:
    """Cuts the socket of any armed request still running at its deadline."""

    def __init__(self, *, clock: Any = time.monotonic) -> None:
        self._clock = clock
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Ticket]] = []
        self._counter = itertools.count()
        self._thread: threading.Thread | None = None
        self._closed = False

    def arm(self, seconds: float) -> Ticket:
        """Start watching a request that must end within ``seconds``."""
        ticket = Ticket(self._clock() + seconds)
        with self._cond:
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(
                    target=self._run, name="imagekit-jobs-watchdog", daemon=True
                )
                self._thread.start()
            while self._heap and self._heap[0][2].done:  # keep the heap as small as in-flight
                heapq.heappop(self._heap)
            first = not self._heap or ticket.deadline < self._heap[0][0]
            heapq.heappush(self._heap, (ticket.deadline, next(self._counter), ticket))
            if first:
                self._cond.notify()
        return ticket

    def disarm(self, ticket: Ticket) -> None:
        """The request ended: never cut it (its entry is dropped lazily)."""
        with self._cond:
            ticket.done = True
            ticket.conn = None

    def close(self) -> None:
        """Stop the watchdog thread."""
        with self._cond:
            self._closed = True
            self._heap.clear()
            self._cond.notify()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=1.0)

    def _run(self) -> None:
        with self._cond:
            while not self._closed:
                while self._heap and self._heap[0][2].done:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cond.wait()
                    continue
                deadline, _, ticket = self._heap[0]
                wait = deadline - self._clock()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                heapq.heappop(self._heap)
                ticket.fired = True
                _cut(ticket.conn)


def _cut(conn: Any) -> None:
    sock = getattr(conn, "sock", None)
    if sock is None:
        return
    with contextlib.suppress(OSError):  # already closed: the request is ending anyway
        sock.shutdown(socket.SHUT_RDWR)
