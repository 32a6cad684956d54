"""1. Schedule efficiency: requests spent versus detection lag, on a virtual clock.

Each contender's delays are replayed against job durations drawn log-uniform between 2 s
and 2 h. No HTTP, no real time: the figures are deterministic for a seed.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Callable, Iterator
from typing import Any

from imagekit_jobs import Schedule

from ._server import durations

# A contender makes a fresh delay generator per job: it yields the sleep before each poll
# after the first (which is sent at once). ``limit`` is its default total wait, if any.
DelayFactory = Callable[[random.Random], Iterator[float]]


def project() -> DelayFactory:
    schedule = Schedule()

    def delays(rng: random.Random) -> Iterator[float]:
        elapsed = 0.0
        while True:
            delay = schedule.poll_delay(elapsed, rng)
            elapsed += delay
            yield delay

    return delays


def fixed(seconds: float) -> DelayFactory:
    def delays(rng: random.Random) -> Iterator[float]:
        while True:
            yield seconds

    return delays


def google_api_core() -> DelayFactory:
    """1 s initial, x1.5, capped at 20 s, full jitter (api-core's exponential sleep generator)."""

    def delays(rng: random.Random) -> Iterator[float]:
        ceiling = 1.0
        while True:
            yield rng.uniform(0.0, ceiling)
            ceiling = min(20.0, ceiling * 1.5)

    return delays


def polling2_doubling() -> DelayFactory:
    """polling2's ``step_linear_double`` from a 1 s step."""

    def delays(rng: random.Random) -> Iterator[float]:
        step = 1.0
        while True:
            yield step
            step *= 2

    return delays


CONTENDERS: list[tuple[str, DelayFactory, float | None]] = [
    ("imagekit-jobs default", project(), 600.0),
    ("fixed 1 s (naive loop)", fixed(1.0), None),
    ("fixed 15 s (AWS waiter)", fixed(15.0), 600.0),
    ("Google api-core default", google_api_core(), None),
    ("polling2 doubling step", polling2_doubling(), None),
]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(*, quick: bool, seed: int = 2026) -> dict[str, Any]:
    """Replay every contender over the same jobs; return per-contender figures."""
    jobs = durations(500 if quick else 2000, 2.0, 7200.0, seed)
    results: dict[str, Any] = {"jobs": len(jobs), "seed": seed, "contenders": {}}
    for name, factory, limit in CONTENDERS:
        rng = random.Random(seed)
        requests: list[float] = []
        lags: list[float] = []
        relative: list[float] = []
        for duration in jobs:
            now, polls = 0.0, 1
            delays = factory(rng)
            while now < duration:
                now += next(delays)
                polls += 1
            requests.append(polls)
            lags.append(now - duration)
            relative.append((now - duration) / duration)
        gave_up = sum(1 for d in jobs if limit is not None and d > limit)
        results["contenders"][name] = {
            "requests_mean": statistics.mean(requests),
            "requests_p95": _pct(requests, 0.95),
            "lag_p50_s": _pct(lags, 0.5),
            "lag_p95_s": _pct(lags, 0.95),
            "relative_lag_p50": _pct(relative, 0.5),
            "relative_lag_p95": _pct(relative, 0.95),
            "default_limit_s": limit,
            "gave_up_at_default_limit": gave_up,
        }
    ours = results["contenders"]["imagekit-jobs default"]
    aws = results["contenders"]["fixed 15 s (AWS waiter)"]
    results["targets"] = {
        "fewer_mean_requests_than_fixed_15s": ours["requests_mean"] < aws["requests_mean"],
        "relative_lag_p95_at_most_0.2": ours["relative_lag_p95"] <= 0.2,
    }
    return results


def table(results: dict[str, Any]) -> str:
    """The Markdown table of a run."""
    rows = results["contenders"]
    base = rows["fixed 15 s (AWS waiter)"]["requests_mean"]
    lines = [
        f"### 1. Schedule efficiency ({results['jobs']} jobs, 2 s to 2 h, seed {results['seed']})",
        "",
        "| contender | requests/job mean | p95 | vs fixed 15 s | lag p50 | lag p95 "
        "| relative lag p50 | p95 | give up at default limit |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in rows.items():
        limit = (
            "none"
            if r["default_limit_s"] is None
            else f"{r['gave_up_at_default_limit']} (>{r['default_limit_s']:.0f} s)"
        )
        lines.append(
            f"| {name} | {r['requests_mean']:.1f} | {r['requests_p95']:.0f} "
            f"| {r['requests_mean'] / base:.2f}x | {r['lag_p50_s']:.1f} s | {r['lag_p95_s']:.1f} s "
            f"| {r['relative_lag_p50']:.3f} | {r['relative_lag_p95']:.3f} | {limit} |"
        )
    t = results["targets"]
    lines += [
        "",
        "Targets: fewer mean requests than fixed 15 s: "
        f"**{_yes(t['fewer_mean_requests_than_fixed_15s'])}**; "
        f"p95 relative lag <= 0.2: **{_yes(t['relative_lag_p95_at_most_0.2'])}**.",
    ]
    return "\n".join(lines)


def _yes(flag: bool) -> str:
    return "met" if flag else "MISSED"
