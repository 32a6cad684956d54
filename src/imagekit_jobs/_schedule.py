"""The poll schedule: pure functions of the time waited and the errors in a row.

The delay before the next status read grows in proportion to the time already waited
(``growth`` x elapsed), between ``initial_interval`` and ``max_interval``. Waiting in
proportion to the time waited is exponential backoff anchored to the clock: each delay is
``1 + growth`` times the previous, and the detection lag (job done → wait returns) stays a
fixed fraction of the job's duration, whether it takes ten seconds or two hours. Jitter
draws each delay from ``[(1 - jitter) x d, d]``, so it stays random at the cap and a
thousand waiters never poll in step. The figures behind the defaults are in the README.

After a transient error the retry backs off on its own: ``initial_interval`` doubled per
error in a row up to ``max_interval``, and never shorter than the server's hint.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["Schedule"]


@dataclass(frozen=True, slots=True)
class Schedule:
    """When to poll next. Every value is in seconds except ``growth`` and ``jitter`` (ratios)."""

    initial_interval: float = 1.0
    max_interval: float = 60.0
    growth: float = 0.15
    jitter: float = 0.2

    def __post_init__(self) -> None:
        if not self.initial_interval > 0:
            raise ValueError("initial_interval must be > 0")
        if not self.max_interval >= self.initial_interval:
            raise ValueError("max_interval must be >= initial_interval")
        if not 0 <= self.growth <= 10:
            raise ValueError("growth must be between 0 and 10")
        if not 0 <= self.jitter < 1:
            raise ValueError("jitter must be in [0, 1)")

    def ceiling(self, elapsed: float) -> float:
        """The longest delay allowed after waiting ``elapsed`` seconds (before jitter)."""
        return min(self.max_interval, max(self.initial_interval, self.growth * max(0.0, elapsed)))

    def _jittered(self, ceiling: float, rng: random.Random) -> float:
        return ceiling * (1.0 - self.jitter * rng.random())

    def poll_delay(self, elapsed: float, rng: random.Random) -> float:
        """Delay before the next poll after a successful read of a still-running job."""
        return self._jittered(self.ceiling(elapsed), rng)

    def retry_delay(self, errors_in_row: int, hint: float | None, rng: random.Random) -> float:
        """Delay before retrying after ``errors_in_row`` transient errors (1 for the first)."""
        backoff = self.initial_interval * 2.0 ** min(max(errors_in_row, 1) - 1, 60)
        delay = self._jittered(min(self.max_interval, backoff), rng)
        if hint is not None:
            delay = max(delay, hint)
        return delay
