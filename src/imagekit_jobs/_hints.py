"""Parsing the server's wait hints on a 429: ``X-RateLimit-Reset`` and ``Retry-After``."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime

__all__ = ["MAX_HINT", "retry_after_seconds"]

#: No hint is believed past this many seconds: a proxy's "retry in a day" is not obeyed
#: blindly (the caller's deadline bounds it further).
MAX_HINT = 3600.0


def _bounded(value: float) -> float | None:
    if math.isnan(value):
        return None
    return min(max(value, 0.0), MAX_HINT)


def _number(text: str) -> float | None:
    text = text.strip()
    if not text or len(text) > 32:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def retry_after_seconds(
    headers: Mapping[str, str], *, now: Callable[[], float] | None = None
) -> float | None:
    """The server's wait hint in seconds, bounded to ``[0, MAX_HINT]``; ``None`` if it gave none.

    ``X-RateLimit-Reset`` (ImageKit's, in milliseconds) wins over ``Retry-After`` (seconds,
    or an HTTP date). Never raises, whatever the header holds. ``now`` returns the wall-clock
    time (Unix seconds) an HTTP date is measured from.
    """
    reset = headers.get("X-RateLimit-Reset")
    if reset is not None:
        millis = _number(reset)
        if millis is not None:
            return _bounded(millis / 1000.0)
    after = headers.get("Retry-After")
    if after is None:
        return None
    seconds = _number(after)
    if seconds is not None:
        return _bounded(seconds)
    try:
        when = parsedate_to_datetime(after.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT
        return None
    current = now() if now is not None else time.time()
    try:
        return _bounded(when.timestamp() - current)
    except (OverflowError, OSError, ValueError):
        return None
