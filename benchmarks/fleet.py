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
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ._server import KEY, durations, job_id, serve

SCALE = 20.0
SERVER_LIMIT = 400.0  # requests per second, real time
BUDGET = 300.0  # wait_all's budget, below the server's limit
CONTENDERS = ("wait_all", "thread pool", "asyncio + SDK")


class _Monitor:
    """Counts detections and samples threads; prints a JSON snapshot every second.

    The last snapshot stands for the run if the contender has to be killed at its cap.
    """

    def __init__(self) -> None:
        self.start = time.monotonic()
        self.completed = 0
        self.last_done = 0.0
        self.threads = threading.active_count()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def done(self) -> None:
        with self._lock:
            self.completed += 1
            self.last_done = time.monotonic() - self.start

    def snapshot(self, *, final: bool) -> dict[str, Any]:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return {
            "completed": self.completed,
            "seconds": self.last_done,
            "peak_threads": self.threads,
            "peak_rss_mb": usage.ru_maxrss / 1024,
            "cpu_s": usage.ru_utime + usage.ru_stime,
            "final": final,
        }

    def _run(self) -> None:
        ticks = 0
        while not self._stop.wait(0.02):
            self.threads = max(self.threads, threading.active_count() - 1)
            ticks += 1
            if ticks % 50 == 0:
                print(json.dumps(self.snapshot(final=False)), flush=True)

    def __enter__(self) -> _Monitor:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _run_wait_all(url: str, ids: list[str], cap: float, done: Callable[[], None]) -> None:
    from imagekit_jobs import BulkJob, BulkJobClient, JobWaiter

    with BulkJobClient(KEY, base_url=url, max_requests_per_second=BUDGET) as client:
        waiter = JobWaiter(client, timeout=cap, initial_interval=1 / SCALE, max_interval=60 / SCALE)
        for _, outcome in waiter.as_completed(ids, workers=8):
            if isinstance(outcome, BulkJob) and outcome.succeeded:
                done()


def _run_thread_pool(url: str, ids: list[str], cap: float, done: Callable[[], None]) -> None:
    from imagekit_jobs import BulkJobClient, ImageKitJobsError, JobWaiter

    deadline = time.monotonic() + cap
    with BulkJobClient(KEY, base_url=url, max_requests_per_second=None, pool_size=256) as client:
        waiter = JobWaiter(client, initial_interval=1 / SCALE, max_interval=60 / SCALE)

        def one(job: str) -> None:
            left = deadline - time.monotonic()
            with contextlib.suppress(ImageKitJobsError):
                if left > 0 and waiter.wait(job, timeout=left).succeeded:
                    done()

        with ThreadPoolExecutor(256) as pool:
            list(pool.map(one, ids))


def _run_asyncio_sdk(url: str, ids: list[str], cap: float, done: Callable[[], None]) -> None:
    from imagekitio import AsyncImageKit

    async def main() -> None:
        client = AsyncImageKit(private_key=KEY, base_url=url)
        deadline = time.monotonic() + cap

        async def one(job: str) -> None:
            while time.monotonic() < deadline:
                try:
                    result = await client.folders.job.get(job)
                    if result.status == "Completed":
                        done()
                        return
                except Exception:
                    pass
                await asyncio.sleep(1 / SCALE)

        await asyncio.gather(*(one(j) for j in ids))
        await client.close()

    asyncio.run(main())


def worker(contender: str, url: str, jobs: int, cap: float) -> None:
    """Run one contender in this process, printing snapshots and then the final figures."""
    ids = [job_id(i) for i in range(jobs)]
    runner = {
        "wait_all": _run_wait_all,
        "thread pool": _run_thread_pool,
        "asyncio + SDK": _run_asyncio_sdk,
    }[contender]
    with _Monitor() as monitor:
        runner(url, ids, cap, monitor.done)
    print(json.dumps(monitor.snapshot(final=True)), flush=True)


def _measure(contender: str, url: str, jobs: int, cap: float) -> dict[str, Any]:
    """Run a contender's subprocess; kill it 30 s past its cap and keep its last snapshot."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.fleet", contender, url, str(jobs), str(cap)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out, err = proc.communicate(timeout=cap + 30)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    lines = [line for line in out.splitlines() if line.startswith("{")]
    if not lines:
        return {"error": err.strip()[-500:] or f"exit {proc.returncode}"}
    figures: dict[str, Any] = json.loads(lines[-1])
    figures["killed_at_cap"] = not figures.pop("final")
    return figures


def run(*, quick: bool) -> dict[str, Any]:
    """Every contender against a fresh server with the same jobs."""
    jobs = 300 if quick else 10_000
    high = 60.0 if quick else 120.0
    cap = 40.0 if quick else 180.0
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
            figures = _measure(contender, server.url, jobs, cap)
        if "error" in figures:
            results["contenders"][contender] = figures
            continue
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
        detected = (
            f"{r['seconds']:.1f} s | {r['vs_ideal']:.2f}x"
            if r["completed"] == results["jobs"]
            else f"not all by the {results['cap_s']:.0f} s cap | -"
        )
        killed = " (killed at cap + 30 s)" if r.get("killed_at_cap") else ""
        lines.append(
            f"| {name} | {r['completed']}{killed} | {r['requests']} | {r['429s']} | {detected} "
            f"| {r['peak_threads']} | {r['peak_rss_mb']:.0f} MB | {r['cpu_s']:.1f} s |"
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
    worker(a.contender, a.url, a.jobs, a.cap)
