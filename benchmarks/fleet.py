"""3. Fleet: thousands of jobs through one process, under a server-side rate limit.

Each contender runs in its own subprocess (so peak RSS and threads are its own) against a
time-scaled fake server in another process:

- ``wait_all``: this project's scheduler, 8 workers, a request budget below the server's limit;
- ``thread pool``: what a user writes with this project's ``wait``: a 256-thread pool, one
  ``wait`` per job, no shared budget;
- ``asyncio + SDK``: ``asyncio.gather`` over one polling loop per job on the official SDK's
  async client (fixed interval, catching its errors).

All poll intervals are divided by the same time scale as the job durations.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import resource
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ._server import KEY, durations, job_id, serve

SCALE = 20.0
SERVER_LIMIT = 400.0  # requests per second, real time
BUDGET = 300.0  # wait_all's budget, below the server's limit
CONTENDERS = ("wait_all", "thread pool", "asyncio + SDK")


class _Peak:
    """Samples the thread count while a contender runs."""

    def __init__(self) -> None:
        self.threads = threading.active_count()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.threads = max(self.threads, threading.active_count() - 1)

    def __enter__(self) -> _Peak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _run_wait_all(url: str, ids: list[str], cap: float) -> int:
    from imagekit_jobs import BulkJob, BulkJobClient, JobWaiter

    with BulkJobClient(KEY, base_url=url, max_requests_per_second=BUDGET) as client:
        waiter = JobWaiter(client, timeout=cap, initial_interval=1 / SCALE, max_interval=60 / SCALE)
        results = waiter.wait_all(ids, workers=8)
    return sum(1 for r in results.values() if isinstance(r, BulkJob) and r.succeeded)


def _run_thread_pool(url: str, ids: list[str], cap: float) -> int:
    from imagekit_jobs import BulkJobClient, ImageKitJobsError, JobWaiter

    deadline = time.monotonic() + cap
    with BulkJobClient(KEY, base_url=url, max_requests_per_second=None, pool_size=256) as client:
        waiter = JobWaiter(client, initial_interval=1 / SCALE, max_interval=60 / SCALE)

        def one(job: str) -> bool:
            try:
                left = deadline - time.monotonic()
                return left > 0 and waiter.wait(job, timeout=left).succeeded
            except ImageKitJobsError:
                return False

        with ThreadPoolExecutor(256) as pool:
            return sum(pool.map(one, ids))


def _run_asyncio_sdk(url: str, ids: list[str], cap: float) -> int:
    from imagekitio import AsyncImageKit

    async def main() -> int:
        client = AsyncImageKit(private_key=KEY, base_url=url)
        deadline = time.monotonic() + cap

        completed = 0

        async def one(job: str) -> None:
            nonlocal completed
            while time.monotonic() < deadline:
                try:
                    result = await client.folders.job.get(job)
                    if result.status == "Completed":
                        completed += 1
                        return
                except Exception:
                    pass
                await asyncio.sleep(1 / SCALE)

        # requests queued in the SDK's pool would outlive the cap without this
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.gather(*(one(j) for j in ids)), timeout=cap)
        await client.close()
        return completed

    return asyncio.run(main())


def worker(contender: str, url: str, jobs: int, cap: float) -> dict[str, Any]:
    """Run one contender in this process and measure it."""
    ids = [job_id(i) for i in range(jobs)]
    runner = {
        "wait_all": _run_wait_all,
        "thread pool": _run_thread_pool,
        "asyncio + SDK": _run_asyncio_sdk,
    }[contender]
    start = time.monotonic()
    with _Peak() as peak:
        completed = runner(url, ids, cap)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "completed": completed,
        "seconds": time.monotonic() - start,
        "peak_threads": peak.threads,
        "peak_rss_mb": usage.ru_maxrss / 1024,
        "cpu_s": usage.ru_utime + usage.ru_stime,
    }


def run(*, quick: bool) -> dict[str, Any]:
    """Every contender against a fresh server with the same jobs."""
    jobs = 300 if quick else 10_000
    high = 60.0 if quick else 120.0
    cap = 40.0 if quick else 240.0
    longest = max(durations(jobs, 2.0, high, seed=7)) / SCALE
    ideal = max(longest, jobs / SERVER_LIMIT)
    results: dict[str, Any] = {
        "jobs": jobs,
        "durations": f"2 s to {high:.0f} s, time scale {SCALE:.0f}",
        "server_limit_rps": SERVER_LIMIT,
        "budget_rps": BUDGET,
        "ideal_s": ideal,
        "cap_s": cap,
        "contenders": {},
    }
    for contender in CONTENDERS:
        args = ["--jobs", str(jobs), "--low", "2", "--high", str(high), "--seed", "7"]
        with serve(*args, "--time-scale", str(SCALE), "--rate-limit", str(SERVER_LIMIT)) as server:
            proc = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "benchmarks.fleet",
                    contender,
                    server.url,
                    str(jobs),
                    str(cap),
                ],
                capture_output=True,
                text=True,
                check=False,
                timeout=cap + 120,
            )
        if proc.returncode != 0:
            results["contenders"][contender] = {"error": proc.stderr.strip()[-500:]}
            continue
        figures = json.loads(proc.stdout.strip().splitlines()[-1])
        figures["requests"] = server.counts.get("requests", 0)
        figures["429s"] = server.counts.get("429", 0)
        figures["vs_ideal"] = figures["seconds"] / ideal
        results["contenders"][contender] = figures
    ours = results["contenders"].get("wait_all", {})
    results["targets"] = {
        "zero_429s": ours.get("429s") == 0,
        "at_most_32_threads": ours.get("peak_threads", 99) <= 32,
        "rss_under_150_mb": ours.get("peak_rss_mb", 999) < 150,
        "all_completed": ours.get("completed") == jobs,
    }
    return results


def table(results: dict[str, Any]) -> str:
    """The Markdown table of a run."""
    lines = [
        f"### 3. Fleet: {results['jobs']} jobs ({results['durations']}), server limit "
        f"{results['server_limit_rps']:.0f} req/s, "
        f"wait_all budget {results['budget_rps']:.0f} req/s",
        "",
        "| contender | completed | requests | 429s | time to last detection | vs ideal "
        "| peak threads | peak RSS | CPU |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results["contenders"].items():
        if "error" in r:
            lines.append(f"| {name} | failed: {r['error'][:80]} | | | | | | | |")
            continue
        lines.append(
            f"| {name} | {r['completed']} | {r['requests']} | {r['429s']} | {r['seconds']:.1f} s "
            f"| {r['vs_ideal']:.2f}x | {r['peak_threads']} | {r['peak_rss_mb']:.0f} MB "
            f"| {r['cpu_s']:.1f} s |"
        )
    t = results["targets"]
    lines += [
        "",
        f"Ideal = max(longest job, jobs / server limit) = {results['ideal_s']:.1f} s; each "
        f"contender stops at {results['cap_s']:.0f} s.",
        "Targets for wait_all: "
        + ", ".join(f"{k.replace('_', ' ')}: **{'met' if v else 'MISSED'}**" for k, v in t.items())
        + ".",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("contender", choices=CONTENDERS)
    parser.add_argument("url")
    parser.add_argument("jobs", type=int)
    parser.add_argument("cap", type=float)
    a = parser.parse_args()
    print(json.dumps(worker(a.contender, a.url, a.jobs, a.cap)))
