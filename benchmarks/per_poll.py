"""2. Cost per poll over real HTTP: client CPU and wall time per status read.

The fake server runs in its own process on loopback; each contender reads one job's
status N times, in interleaved rounds so that drift on a shared machine hits all alike.
"""

from __future__ import annotations

import base64
import http.client
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import requests

from imagekit_jobs import BulkJobClient

from ._server import KEY, job_id, serve

AUTH = "Basic " + base64.b64encode(f"{KEY}:".encode()).decode()


def _contenders(url: str) -> list[tuple[str, Callable[[], str], Callable[[], None]]]:
    path = f"/v1/bulkJobs/{job_id(0)}"
    ours = BulkJobClient(KEY, base_url=url, max_requests_per_second=None)
    contenders: list[tuple[str, Callable[[], str], Callable[[], None]]] = [
        ("imagekit-jobs BulkJobClient", lambda: ours.get_job(job_id(0)).status, ours.close)
    ]
    try:
        from imagekitio import ImageKit

        sdk = ImageKit(private_key=KEY, base_url=url, max_retries=0)
        contenders.append(
            (
                "official imagekitio SDK",
                lambda: sdk.folders.job.get(job_id(0)).status or "",
                sdk.close,
            )
        )
    except ImportError:  # the bench extra is not installed
        pass

    def plain_get() -> str:
        response = requests.get(url + path, headers={"Authorization": AUTH}, timeout=10)
        return str(response.json()["status"])

    contenders.append(("requests.get, no session", plain_get, lambda: None))
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)

    def raw() -> str:
        conn.request("GET", path, headers={"Authorization": AUTH})
        return str(json.loads(conn.getresponse().read())["status"])

    contenders.append(("http.client keep-alive (floor)", raw, conn.close))
    return contenders


def run(*, quick: bool) -> dict[str, Any]:
    """Time every contender; return microseconds per poll and ratios to the floor."""
    reads = 300 if quick else 2000
    rounds = 4
    with serve("--jobs", "1", "--pending") as server:
        contenders = _contenders(server.url)
        totals = {name: [0.0, 0.0] for name, _, _ in contenders}
        for _, read, _ in contenders:
            for _ in range(30):  # warm-up: connections, imports, caches
                assert read() == "Pending"
        for _ in range(rounds):
            for name, read, _ in contenders:
                cpu, wall = time.process_time(), time.perf_counter()
                for _ in range(reads // rounds):
                    read()
                totals[name][0] += time.process_time() - cpu
                totals[name][1] += time.perf_counter() - wall
        for _, _, close in contenders:
            close()
    floor = "http.client keep-alive (floor)"
    results: dict[str, Any] = {"reads": reads, "contenders": {}}
    for name, (cpu, wall) in totals.items():
        results["contenders"][name] = {
            "cpu_us_per_poll": cpu / reads * 1e6,
            "wall_us_per_poll": wall / reads * 1e6,
            "cpu_vs_floor": cpu / totals[floor][0],
            "wall_vs_floor": wall / totals[floor][1],
        }
    rows = results["contenders"]
    sdk = rows.get("official imagekitio SDK")
    ours = rows["imagekit-jobs BulkJobClient"]
    results["targets"] = {
        "cpu_at_or_below_official_sdk": None
        if sdk is None
        else ours["cpu_us_per_poll"] <= sdk["cpu_us_per_poll"]
    }
    return results


def table(results: dict[str, Any]) -> str:
    """The Markdown table of a run."""
    lines = [
        f"### 2. Cost per poll over loopback HTTP ({results['reads']} status reads each)",
        "",
        "| contender | client CPU µs/poll | vs floor | wall µs/poll | vs floor |",
        "|---|---|---|---|---|",
    ]
    for name, r in results["contenders"].items():
        lines.append(
            f"| {name} | {r['cpu_us_per_poll']:.0f} | {r['cpu_vs_floor']:.2f}x "
            f"| {r['wall_us_per_poll']:.0f} | {r['wall_vs_floor']:.2f}x |"
        )
    met = results["targets"]["cpu_at_or_below_official_sdk"]
    verdict = "not measured (bench extra missing)" if met is None else ("met" if met else "MISSED")
    lines += ["", f"Target: CPU per poll at or below the official SDK's: **{verdict}**."]
    return "\n".join(lines)
