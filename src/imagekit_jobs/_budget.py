"""The request budget one client shares between every wait that uses it.

A token bucket holds the steady rate (``max_requests_per_second``) with a burst of one
second's worth; a 429 anywhere pauses every request on the client for the server's hinted
time, and afterwards the bucket restarts empty so traffic resumes gently rather than in a
burst that would be throttled again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["DEFAULT_MAX_REQUESTS_PER_SECOND", "RequestBudget"]

#: A quarter of the ~40 reads/s ImageKit accounts are said to allow, since the account's
#: limit is shared with the customer's production traffic.
DEFAULT_MAX_REQUESTS_PER_SECOND = 10.0


class RequestBudget:
    """A thread-safe token bucket with a server-imposed pause."""

    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not rate > 0:
            raise ValueError("max_requests_per_second must be > 0")
        self.rate = float(rate)
        self.capacity = max(1.0, self.rate)
        self._clock = clock
        self._lock = threading.Condition()
        self._tokens = self.capacity
        self._stamp = clock()
        self._paused_until = 0.0

    def _refill(self, now: float) -> None:
        if now > self._stamp:
            self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now

    def delay(self) -> float:
        """Seconds until a request could be sent now (0 if at once); takes nothing."""
        with self._lock:
            now = self._clock()
            self._refill(now)
            return max(self._paused_until - now, (1.0 - self._tokens) / self.rate, 0.0)

    def acquire(self, *, timeout: float) -> bool:
        """Take one request's token, waiting up to ``timeout`` seconds; False if none came."""
        with self._lock:
            limit = self._clock() + timeout
            while True:
                now = self._clock()
                self._refill(now)
                wait = max(self._paused_until - now, (1.0 - self._tokens) / self.rate, 0.0)
                if wait <= 0:
                    self._tokens -= 1.0
                    return True
                if now + wait > limit:
                    return False
                self._lock.wait(wait)

    def pause(self, seconds: float) -> None:
        """Hold every request for ``seconds`` (a 429's hint), then resume from an empty bucket."""
        with self._lock:
            now = self._clock()
            until = now + max(0.0, seconds)
            if until > self._paused_until:
                self._paused_until = until
                self._tokens = 0.0
                self._stamp = until
            self._lock.notify_all()
