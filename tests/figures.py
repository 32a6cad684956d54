"""Figures the reliability tests measure, collected for tests/RELIABILITY.md.

Each test calls ``record(section, **figures)``; at the end of the session the figures are
written to the JSON file named by ``$IMAGEKIT_JOBS_FIGURES`` (if set), and
``python -m tests.reliability_report FILE`` turns that file into RELIABILITY.md.
"""

from __future__ import annotations

import json
import os
from typing import Any

_FIGURES: dict[str, dict[str, Any]] = {}


def record(section: str, **figures: Any) -> None:
    """Keep these figures under ``section`` (and print them, for the test log)."""
    _FIGURES.setdefault(section, {}).update(figures)
    print(f"[{section}] " + ", ".join(f"{k}={v}" for k, v in figures.items()))


def dump() -> None:
    """Write the collected figures where ``$IMAGEKIT_JOBS_FIGURES`` says, if it says."""
    path = os.environ.get("IMAGEKIT_JOBS_FIGURES")
    if path and _FIGURES:
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(_FIGURES, handle, indent=2, sort_keys=True)
