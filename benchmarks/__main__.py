"""``python -m benchmarks [--quick] [--json-out FILE] [--results FILE]``."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from datetime import datetime, timezone

from . import deadline, fleet, per_poll, schedule

SUITES = {
    "schedule": schedule,
    "per_poll": per_poll,
    "fleet": fleet,
    "deadline": deadline,
}


def _machine() -> str:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores ({cpu}), "
        f"Python {platform.python_version()}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--quick", action="store_true", help="a smoke run under a minute")
    parser.add_argument("--only", choices=sorted(SUITES), action="append")
    parser.add_argument("--json-out", default="benchmarks/results.json")
    parser.add_argument("--results", help="also write the Markdown report to this file")
    args = parser.parse_args()
    started = time.monotonic()
    figures: dict[str, object] = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": _machine(),
        "command": "python -m benchmarks" + (" --quick" if args.quick else ""),
    }
    sections = []
    for name, suite in SUITES.items():
        if args.only and name not in args.only:
            continue
        t0 = time.monotonic()
        result = suite.run(quick=args.quick)
        result["seconds"] = time.monotonic() - t0
        figures[name] = result
        section = suite.table(result)
        sections.append(section)
        print(section + "\n", flush=True)
    figures["total_seconds"] = time.monotonic() - started
    with open(args.json_out, "w", encoding="utf-8") as handle:
        json.dump(figures, handle, indent=2)
    if args.results:
        header = (
            "# Benchmark results\n\n"
            f"- Command: `{figures['command']}` (from the repository root, after "
            "`pip install -e '.[bench]'`)\n"
            f"- Date: {figures['date']}\n"
            f"- Machine: {figures['machine']}\n"
            f"- Total time: {figures['total_seconds']:.0f} s\n\n"
            "Every comparison runs all its contenders in the same run; read the ratios, "
            "not the absolute times, which drift on shared machines.\n\n"
        )
        with open(args.results, "w", encoding="utf-8") as handle:
            handle.write(header + "\n\n".join(sections) + "\n")
    print(f"total {figures['total_seconds']:.0f} s; figures in {args.json_out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
