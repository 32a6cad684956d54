"""The ``imagekit-jobs`` command: argument parsing, key loading, exit codes."""

from __future__ import annotations

import argparse
import logging
import math
import os
import signal
import sys
import time
from collections.abc import Sequence
from types import FrameType
from typing import Any

from . import __version__
from . import _commands as commands
from ._client import BASE_URL_ENV, KEY_ENV, BulkJobClient
from ._errors import InvalidInputError
from ._outcomes import (
    EXIT_USAGE,
    Interrupted,
    exit_code,
    kind_of,
)
from ._progress import Progress
from ._run import Output

__all__ = ["main"]

EXIT_CODES_HELP = """\
exit codes:
  0    every job Completed (status: the read succeeded)
  1    a job or API error: not found, not authorised, partial success, bad request,
       submission refused or unknown, API unreachable until the deadline
  2    usage or configuration error (bad arguments, no key, bad CSV, journal in use)
  124  timed out with a job still running (as GNU timeout)
  130  interrupted (Ctrl-C or SIGTERM): the pending jobs and the resume command are printed
With several jobs, errors outrank timeouts.

The private key is read from $IMAGEKIT_PRIVATE_KEY or --private-key-file, never from
the command line. The API base URL is --base-url, $IMAGE_KIT_BASE_URL, or ImageKit's.
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse's exit code 2 is ours too
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0 or math.isinf(value):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text}")
    return value


def _timeout(text: str) -> float:
    value = float(text)
    if math.isnan(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0 seconds, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The command's argument parser."""
    common = _Parser(add_help=False)
    common.add_argument("--base-url", help=f"API base URL (default: ${BASE_URL_ENV} or ImageKit's)")
    common.add_argument(
        "--private-key-file", metavar="PATH", help=f"read the key from PATH (default: ${KEY_ENV})"
    )
    common.add_argument(
        "--max-requests-per-second",
        type=_positive,
        default=commands.DEFAULTS["max_requests_per_second"],
        metavar="N",
        help="request budget shared by every job of the run (default %(default)s)",
    )
    common.add_argument("--json", action="store_true", help="one JSON object per job on stdout")
    common.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")
    common.add_argument("--verbose", "-v", action="store_true", help="debug log on stderr")

    waiting = _Parser(add_help=False)
    waiting.add_argument(
        "--timeout",
        type=_timeout,
        default=commands.DEFAULTS["timeout"],
        metavar="SECONDS",
        help="give up after SECONDS (default 600; 0: one status read, then 124 if running)",
    )
    waiting.add_argument(
        "--initial-interval",
        type=_positive,
        default=commands.DEFAULTS["initial_interval"],
        metavar="SECONDS",
    )
    waiting.add_argument(
        "--max-interval",
        type=_positive,
        default=commands.DEFAULTS["max_interval"],
        metavar="SECONDS",
    )
    waiting.add_argument("--journal", metavar="FILE", help="record every job in this SQLite file")

    submitting = _Parser(add_help=False, parents=[common, waiting])
    submitting.add_argument("--no-wait", action="store_true", help="submit, print, do not wait")

    parser = _Parser(
        prog="imagekit-jobs",
        description="Wait for ImageKit bulk jobs (copy, move, rename folder) to finish.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subcommands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    sub = subcommands.add_parser(
        "wait",
        parents=[common, waiting],
        help="wait until every job finishes",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub.add_argument("job_ids", nargs="+", metavar="JOB_ID")
    sub = subcommands.add_parser("status", parents=[common], help="read a job's status once")
    sub.add_argument("job_id", metavar="JOB_ID")
    for name, what in (("copy-folder", "copy"), ("move-folder", "move")):
        sub = subcommands.add_parser(name, parents=[submitting], help=f"submit a folder {what}")
        sub.add_argument("source", nargs="?", metavar="SRC")
        sub.add_argument("destination", nargs="?", metavar="DEST")
        sub.add_argument(
            "--from-csv", metavar="FILE", help="submit every source,destination row of FILE"
        )
        if name == "copy-folder":
            sub.add_argument("--include-versions", action="store_true")
    sub = subcommands.add_parser(
        "rename-folder", parents=[submitting], help="submit a folder rename"
    )
    sub.add_argument("folder", metavar="FOLDER")
    sub.add_argument("new_name", metavar="NEW_NAME")
    sub.add_argument("--purge-cache", action="store_true")
    sub = subcommands.add_parser(
        "resume", parents=[common, waiting], help="finish a journal's jobs"
    )
    sub.add_argument("journal_file", metavar="FILE")
    sub.add_argument(
        "--resubmit-unknown",
        action="store_true",
        help="re-send submissions whose job id was never recorded",
    )
    sub = subcommands.add_parser("journal", help="show a journal's jobs")
    sub.add_argument("journal_file", metavar="FILE")
    sub.add_argument("--json", action="store_true")
    sub = subcommands.add_parser("demo", help="watch it work against a bundled fake ImageKit")
    sub.add_argument("--chaos", action="store_true", help="inject 429s and 5xx along the way")
    sub.add_argument("--quiet", "-q", action="store_true")
    sub.add_argument("--json", action="store_true")
    return parser


# -- configuration ---------------------------------------------------------------------------


def _private_key(args: argparse.Namespace) -> str:
    if args.private_key_file:
        try:
            with open(args.private_key_file, encoding="utf-8") as handle:
                key = handle.read().strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInputError(
                f"cannot read --private-key-file {args.private_key_file}: {exc.__class__.__name__}"
            ) from None
        if not key:
            raise InvalidInputError(f"--private-key-file {args.private_key_file} is empty")
        return key
    key = os.environ.get(KEY_ENV, "").strip()
    if not key:
        raise InvalidInputError(
            f"no ImageKit private key: set {KEY_ENV} or pass --private-key-file PATH"
        )
    return key


def _client(args: argparse.Namespace) -> BulkJobClient:
    return BulkJobClient(
        _private_key(args),
        base_url=args.base_url,
        max_requests_per_second=args.max_requests_per_second,
    )


# -- entry point -----------------------------------------------------------------------------


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise Interrupted("terminated")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = build_parser().parse_args(argv)
    stdout, stderr = sys.stdout, sys.stderr
    if getattr(args, "verbose", False):
        handler = logging.StreamHandler(stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger = logging.getLogger("imagekit_jobs")
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    out = Output(stdout, as_json=getattr(args, "json", False), clock=time.monotonic)
    progress = Progress.for_stream(stderr, quiet=getattr(args, "quiet", False))
    try:
        if args.command == "journal":
            return commands.journal_table(args, stdout)
        if args.command == "demo":
            from ._demo import run_demo

            return run_demo(chaos=args.chaos, out=out, progress=progress)

        def make_client() -> BulkJobClient:
            return _client(args)

        if args.command == "status":
            return commands.status(args, make_client, out)
        if args.command == "wait":
            return commands.wait(args, make_client, out, progress)
        if args.command == "resume":
            return commands.resume(args, make_client, out, progress)
        return commands.submit(args, make_client, out, progress)
    except (KeyboardInterrupt, Interrupted) as exc:
        if not isinstance(exc, Interrupted) or exc.args != ():
            progress.message("interrupted")
        return exit_code(exc)
    except Exception as exc:  # every failure becomes a line on stderr and an exit code
        code = exit_code(exc)
        if args.command == "status" and not isinstance(exc, InvalidInputError):
            out.result(getattr(exc, "job_id", None), job_type=None, status=None, polls=1, error=exc)
        stderr.write(f"imagekit-jobs: {_describe(exc)}\n")
        return code
    finally:
        signal.signal(signal.SIGTERM, previous)


def _describe(exc: BaseException) -> str:
    kind = kind_of(exc)
    if kind == "internal_error":
        return f"internal error: {type(exc).__name__}: {exc}"
    # usage errors may span lines (every bad CSV row); API errors fit on one
    return str(exc) if kind == "invalid_input" else " ".join(str(exc).split())
