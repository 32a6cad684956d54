"""4. Deadline precision: how far past its deadline a wait that must time out really ends.

Against three servers (healthy but never finished; slow: every answer takes 2 s, longer
than the time left; hanging: no answer at all), each contender waits with a deadline of
0.3 to 0.8 s, many waits in parallel threads. Overshoot = end - (start + timeout).

- imagekit-jobs: ``JobWaiter(timeout=T).wait``;
- tenacity: ``Retrying(stop=stop_after_delay(T), wait=wait_fixed(0.2))`` around a
  ``requests.get(..., timeout=5)`` status read, as users write it;
- polling2: ``poll(target, step=0.2, timeout=T)`` around the same read.
"""

from __future__ import annotations

import contextlib
import random
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from imagekit_jobs import BulkJobClient, ImageKitJobsError, JobWaiter

from ._server import KEY, job_id, serve
from .per_poll import AUTH

SERVERS = {
    "healthy": ("--pending",),
    "slow": ("--pending", "--fault", "slow", "--slow", "2.0"),
    "hanging": ("--pending", "--fault", "hang"),
}


def _user_read(url: str) -> Callable[[], bool]:
    session = requests.Session()
    path = f"{url}/v1/bulkJobs/{job_id(0)}"

    def read() -> bool:
        response = session.get(path, headers={"Authorization": AUTH}, timeout=5)
        return bool(response.json().get("status") == "Completed")

    return read


def _ours(url: str) -> Callable[[float], None]:
    client = BulkJobClient(KEY, base_url=url, max_requests_per_second=None, pool_size=32)

    def wait(timeout: float) -> None:
        with contextlib.suppress(ImageKitJobsError):
            JobWaiter(client, timeout=timeout, initial_interval=0.2).wait(job_id(0))

    return wait


def _tenacity(url: str) -> Callable[[float], None]:
    import tenacity

    def wait(timeout: float) -> None:
        read = _user_read(url)
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_delay(timeout),
            wait=tenacity.wait_fixed(0.2),
            retry=tenacity.retry_if_result(lambda done: not done)
            | tenacity.retry_if_exception_type(requests.RequestException),
        )
        with contextlib.suppress(tenacity.RetryError, requests.RequestException):
            retrying(read)

    return wait


def _polling2(url: str) -> Callable[[float], None] | None:
    try:
        import polling2
    except ImportError:
        return None

    def wait(timeout: float) -> None:
        read = _user_read(url)
        with contextlib.suppress(polling2.TimeoutException, requests.RequestException):
            polling2.poll(
                read, step=0.2, timeout=timeout, ignore_exceptions=(requests.RequestException,)
            )

    return wait


def _measure(wait: Callable[[float], None], timeouts: list[float], threads: int) -> list[float]:
    def one(timeout: float) -> float:
        start = time.monotonic()
        wait(timeout)
        return time.monotonic() - (start + timeout)

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(one, timeouts))


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run(*, quick: bool) -> dict[str, Any]:
    """Every contender against every server kind."""
    waits = 20 if quick else 200
    rng = random.Random(11)
    timeouts = [rng.uniform(0.3, 0.8) for _ in range(waits)]
    results: dict[str, Any] = {"waits": waits, "servers": {}}
    for server_kind, args in SERVERS.items():
        with serve("--jobs", "1", *args) as server:
            makers: dict[str, Callable[[float], None] | None] = {
                "imagekit-jobs": _ours(server.url),
                "tenacity stop_after_delay": _tenacity(server.url),
                "polling2 timeout": _polling2(server.url),
            }
            rows = {}
            for name, wait in makers.items():
                if wait is None:
                    continue
                over = _measure(wait, timeouts, threads=20)
                rows[name] = {
                    "p50_s": _pct(over, 0.5),
                    "p99_s": _pct(over, 0.99),
                    "max_s": max(over),
                    "mean_s": statistics.mean(over),
                }
        results["servers"][server_kind] = rows
    worst = max(r["imagekit-jobs"]["max_s"] for r in results["servers"].values())
    results["targets"] = {"max_overshoot_under_0.1s": worst < 0.1, "worst_s": worst}
    return results


def table(results: dict[str, Any]) -> str:
    """The Markdown table of a run."""
    lines = [
        f"### 4. Deadline precision ({results['waits']} waits per server, deadlines 0.3-0.8 s)",
        "",
        "| server | contender | overshoot p50 | p99 | max |",
        "|---|---|---|---|---|",
    ]
    for server_kind, rows in results["servers"].items():
        for name, r in rows.items():
            lines.append(
                f"| {server_kind} | {name} | {r['p50_s'] * 1000:.0f} ms "
                f"| {r['p99_s'] * 1000:.0f} ms | {r['max_s'] * 1000:.0f} ms |"
            )
    t = results["targets"]
    verdict = "met" if t["max_overshoot_under_0.1s"] else "MISSED"
    lines += [
        "",
        f"Target: max overshoot under 100 ms for imagekit-jobs on every server: **{verdict}** "
        f"(worst {t['worst_s'] * 1000:.0f} ms).",
    ]
    return "\n".join(lines)
