"""A FakeImageKit in its own process, so the server's CPU never counts as the client's.

``python -m benchmarks._server --jobs N ...`` prints one JSON line ``{"url": ...}`` when
ready and serves until its standard input closes. Job ``i`` has the id ``f"{i:024x}"``.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from imagekit_jobs.testing import FakeImageKit

KEY = "private_bench_key"


def job_id(index: int) -> str:
    """The id of job ``index`` on a benchmark server."""
    return f"{index:024x}"


def durations(count: int, low: float, high: float, seed: int) -> list[float]:
    """``count`` durations, log-uniform between ``low`` and ``high`` seconds."""
    rng = random.Random(seed)
    return [math.exp(rng.uniform(math.log(low), math.log(high))) for _ in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--low", type=float, default=0.0)
    parser.add_argument("--high", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pending", action="store_true", help="jobs never finish")
    parser.add_argument("--time-scale", type=float, default=1.0)
    parser.add_argument("--rate-limit", type=float, default=None)
    parser.add_argument("--fault", default=None, help="fault every answer with this kind")
    parser.add_argument("--slow", type=float, default=2.0)
    args = parser.parse_args()
    fake = FakeImageKit(
        private_key=KEY,
        time_scale=args.time_scale,
        rate_limit=args.rate_limit,
        fault_rate=1.0 if args.fault else 0.0,
        fault_kinds=(args.fault,) if args.fault else (),
        slow_seconds=args.slow,
        hang_seconds=60.0,
    )
    times = durations(args.jobs, args.low, args.high, args.seed) if args.high else [0.0] * args.jobs
    with fake:
        for index, duration in enumerate(times):
            fake.add_job(
                job_id=job_id(index),
                duration=duration,
                status="Pending" if args.pending else None,
            )
        print(json.dumps({"url": fake.url}), flush=True)
        sys.stdin.read()  # serve until the parent closes our stdin
        counts = {
            "requests": fake.count(),
            "429": fake.count(status=429),
        }
        print(json.dumps(counts), flush=True)


class ServerProcess:
    """A handle on a running benchmark server: its URL, and its request counts at the end."""

    def __init__(self, proc: subprocess.Popen[str], url: str) -> None:
        self.proc = proc
        self.url = url
        self.counts: dict[str, int] = {}


@contextmanager
def serve(*args: str) -> Iterator[ServerProcess]:
    """Start a benchmark server with these arguments; stop it (and read its counts) after."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchmarks._server", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdin is not None
    url = json.loads(proc.stdout.readline())["url"]
    server = ServerProcess(proc, url)
    try:
        yield server
    finally:
        proc.stdin.close()
        line = proc.stdout.readline()
        server.counts = json.loads(line) if line else {}
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()
