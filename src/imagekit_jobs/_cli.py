"""The ``imagekit-jobs`` command: argument parsing, key loading, exit codes."""

from __future__ import annotations

import argparse
import logging
import math
import os
import shlex
import signal
import sys
import time
from collections.abc import Sequence
from types import FrameType
from typing import Any, TextIO

from . import __version__
from ._client import BASE_URL_ENV, KEY_ENV, BulkJobClient
from ._csvfile import read_pairs
from ._errors import ConflictError, InvalidInputError, SubmissionUnknownError
from ._journal import Journal
from ._outcomes import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    TABLE,
    Interrupted,
    exit_code,
    overall_exit,
)
from ._progress import Progress
from ._run import Output, WaitSettings, wait_and_report
from ._submit import KINDS, Submission, submit_all
from ._validate import check_job_id

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
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--base-url", help=f"API base URL (default: ${BASE_URL_ENV} or ImageKit's)")
    common.add_argument(
        "--private-key-file", metavar="PATH", help=f"read the key from PATH (default: ${KEY_ENV})"
    )
    common.add_argument("--json", action="store_true", help="one JSON object per job on stdout")
    common.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")
    common.add_argument("--verbose", "-v", action="store_true", help="debug log on stderr")

    waiting = argparse.ArgumentParser(add_help=False)
    waiting.add_argument(
        "--timeout",
        type=_timeout,
        default=600.0,
        metavar="SECONDS",
        help="give up after SECONDS (default 600; 0: one status read, then 124 if running)",
    )
    waiting.add_argument("--initial-interval", type=_positive, default=1.0, metavar="SECONDS")
    waiting.add_argument("--max-interval", type=_positive, default=60.0, metavar="SECONDS")
    waiting.add_argument("--journal", metavar="FILE", help="record every job in this SQLite file")

    submitting = argparse.ArgumentParser(add_help=False, parents=[common, waiting])
    submitting.add_argument("--no-wait", action="store_true", help="submit, print, do not wait")

    parser = _Parser(
        prog="imagekit-jobs",
        description="Wait for ImageKit bulk jobs (copy, move, rename folder) to finish.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    sub = commands.add_parser(
        "wait", parents=[common, waiting], help="wait until every job finishes", epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub.add_argument("job_ids", nargs="+", metavar="JOB_ID")
    sub = commands.add_parser("status", parents=[common], help="read a job's status once")
    sub.add_argument("job_id", metavar="JOB_ID")
    for name, what in (("copy-folder", "copy"), ("move-folder", "move")):
        sub = commands.add_parser(name, parents=[submitting], help=f"submit a folder {what}")
        sub.add_argument("source", nargs="?", metavar="SRC")
        sub.add_argument("destination", nargs="?", metavar="DEST")
        sub.add_argument(
            "--from-csv", metavar="FILE", help="submit every source,destination row of FILE"
        )
        if name == "copy-folder":
            sub.add_argument("--include-versions", action="store_true")
    sub = commands.add_parser("rename-folder", parents=[submitting], help="submit a folder rename")
    sub.add_argument("folder", metavar="FOLDER")
    sub.add_argument("new_name", metavar="NEW_NAME")
    sub.add_argument("--purge-cache", action="store_true")
    sub = commands.add_parser("resume", parents=[common, waiting], help="finish a journal's jobs")
    sub.add_argument("journal_file", metavar="FILE")
    sub.add_argument(
        "--resubmit-unknown",
        action="store_true",
        help="re-send submissions whose job id was never recorded",
    )
    sub = commands.add_parser("journal", help="show a journal's jobs")
    sub.add_argument("journal_file", metavar="FILE")
    sub.add_argument("--json", action="store_true")
    sub = commands.add_parser("demo", help="watch it work against a bundled fake ImageKit")
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
    return BulkJobClient(_private_key(args), base_url=args.base_url)


def _settings(args: argparse.Namespace) -> WaitSettings:
    return WaitSettings(
        timeout=args.timeout, initial_interval=args.initial_interval, max_interval=args.max_interval
    )


def _open_journal(args: argparse.Namespace) -> Journal | None:
    path = getattr(args, "journal", None)
    return Journal(path) if path else None


# -- commands --------------------------------------------------------------------------------


def _cmd_status(args: argparse.Namespace, out: Output) -> int:
    job_id = check_job_id(args.job_id)
    with _client(args) as client:
        job = client.get_job(job_id)
    out.result(job.job_id, job_type=job.type, status=job.status, polls=1)
    return EXIT_OK


def _cmd_wait(args: argparse.Namespace, out: Output, progress: Progress) -> int:
    ids = [check_job_id(job_id) for job_id in args.job_ids]
    journal = _open_journal(args)
    resume = f"imagekit-jobs resume {shlex.quote(args.journal)}" if journal else ""
    try:
        with _client(args) as client:
            codes = wait_and_report(
                client, ids, settings=_settings(args), output=out, progress=progress,
                journal=journal, resume_command=resume,
            )
    finally:
        if journal is not None:
            journal.close()
    return overall_exit(codes)


def _submissions(args: argparse.Namespace) -> list[Submission]:
    if args.command == "rename-folder":
        params = {"folder_path": args.folder, "new_folder_name": args.new_name}
        if args.purge_cache:
            params["purge_cache"] = True
        return [Submission("rename_folder", params)]
    kind = args.command.replace("-", "_")
    extra = {"include_versions": True} if getattr(args, "include_versions", False) else {}
    if args.from_csv:
        if args.source or args.destination:
            raise InvalidInputError("give either SRC DEST or --from-csv FILE, not both")
        return [
            Submission(
                kind,
                {"source_folder_path": p.source, "destination_path": p.destination, **extra},
                line=p.line,
            )
            for p in read_pairs(args.from_csv)
        ]
    if not args.source or not args.destination:
        raise InvalidInputError(f"{args.command} needs SRC and DEST (or --from-csv FILE)")
    return [
        Submission(
            kind, {"source_folder_path": args.source, "destination_path": args.destination, **extra}
        )
    ]


def _cmd_submit(args: argparse.Namespace, out: Output, progress: Progress) -> int:
    submissions = _submissions(args)  # a bad CSV stops here, before anything is sent
    journal = _open_journal(args)
    try:
        with _client(args) as client:
            return _submit_and_wait(
                client, submissions, args=args, out=out, progress=progress, journal=journal,
            )
    finally:
        if journal is not None:
            journal.close()


def _submit_and_wait(
    client: BulkJobClient,
    submissions: list[Submission],
    *,
    args: argparse.Namespace,
    out: Output,
    progress: Progress,
    journal: Journal | None,
    retry_locked: bool = True,
) -> int:
    start = time.monotonic()
    timeout = args.timeout
    deadline = math.inf if timeout is None else start + timeout

    def submitted(sub: Submission) -> None:
        progress.message(f"submitted {sub.job_type} job {sub.job_id}{_where(sub)}")

    def deferred(sub: Submission, delay: float) -> None:
        progress.message(f"{sub.job_type}{_where(sub)}: {sub.error}; retrying in {delay:.1f}s")

    try:
        submit_all(
            client, submissions, journal=journal, deadline=deadline, clock=time.monotonic,
            sleep=time.sleep, on_submitted=submitted, on_deferred=deferred,
            retry_locked=retry_locked,
        )
    except (KeyboardInterrupt, Interrupted):
        _report_interrupted_submission(submissions, progress, journal)
        raise Interrupted from None
    codes: list[int] = []
    for sub in submissions:
        if sub.job_id is None and sub.error is not None:
            out.result(None, job_type=sub.job_type, status=None, polls=0, error=sub.error,
                       extra=_request_json(sub))
            codes.append(exit_code(sub.error))
            if isinstance(sub.error, (SubmissionUnknownError, ConflictError)):
                progress.message(f"{sub.job_type}{_where(sub)}: {sub.error}")
    ids = [sub.job_id for sub in submissions if sub.job_id is not None]
    if getattr(args, "no_wait", False):
        for sub in submissions:
            if sub.job_id is not None:
                out.result(sub.job_id, job_type=sub.job_type, status="Submitted", polls=0,
                           extra=_request_json(sub))
        return overall_exit(codes)
    if ids:
        left = None if timeout is None else max(0.0, deadline - time.monotonic())
        settings = WaitSettings(left, args.initial_interval, args.max_interval)
        resume = f"imagekit-jobs resume {shlex.quote(journal.path)}" if journal else ""
        types = {s.job_id: s.job_type for s in submissions if s.job_id is not None}
        codes += wait_and_report(
            client, ids, settings=settings, output=out, progress=progress, journal=journal,
            resume_command=resume, job_types=types,
        )
    return overall_exit(codes)


def _report_interrupted_submission(
    submissions: list[Submission], progress: Progress, journal: Journal | None
) -> None:
    sent = [s.job_id for s in submissions if s.job_id is not None]
    unsent = [s for s in submissions if s.job_id is None and s.error is None]
    lines = [f"interrupted while submitting: {len(sent)} job(s) submitted: {' '.join(sent)}"]
    if unsent:
        where = ", ".join(str(s.line) for s in unsent if s.line is not None)
        lines.append(f"{len(unsent)} not submitted" + (f" (CSV lines {where})" if where else ""))
    if journal is not None:
        lines.append(f"resume with: imagekit-jobs resume {shlex.quote(journal.path)}")
    elif sent:
        lines.append("resume with: " + shlex.join(["imagekit-jobs", "wait", *sent]))
    progress.message("\n".join(lines))


def _where(sub: Submission) -> str:
    return f" (CSV line {sub.line})" if sub.line is not None else ""


def _request_json(sub: Submission) -> dict[str, Any]:
    extra: dict[str, Any] = {"request": dict(sub.params)}
    if sub.line is not None:
        extra["line"] = sub.line
    return extra


def _cmd_resume(args: argparse.Namespace, out: Output, progress: Progress) -> int:
    args.journal = args.journal_file
    journal = Journal(args.journal_file)
    try:
        unknown = journal.unknown_submissions()
        codes: list[int] = []
        with _client(args) as client:
            if unknown and args.resubmit_unknown:
                subs = [Submission(e.kind, e.params, entry=e.entry) for e in unknown]
                codes.append(_submit_and_wait(
                    client, subs, args=args, out=out, progress=progress, journal=journal,
                    retry_locked=False,
                ))
            for entry in [] if args.resubmit_unknown else unknown:
                error = SubmissionUnknownError(
                    "submitted, id unknown: the process stopped before the API's answer was "
                    "recorded; check the folder, then re-run with --resubmit-unknown to re-send",
                    status_code=None,
                )
                out.result(None, job_type=KINDS[entry.kind][0], status=None, polls=0, error=error,
                           extra={"request": dict(entry.params), "entry": entry.entry})
                progress.message(f"entry {entry.entry} ({entry.kind} {dict(entry.params)}): {error}")
                codes.append(EXIT_FAILED)
            pending = [e.job_id for e in journal.pending() if e.job_id is not None]
            if pending:
                codes += wait_and_report(
                    client, pending, settings=_settings(args), output=out, progress=progress,
                    journal=journal, resume_command=f"imagekit-jobs resume {shlex.quote(args.journal_file)}",
                )
            elif not unknown:
                progress.message(f"{args.journal_file}: nothing left to wait for")
        return overall_exit(codes)
    finally:
        journal.close()


def _cmd_journal(args: argparse.Namespace, stdout: TextIO) -> int:
    import json

    with Journal(args.journal_file, readonly=True) as journal:
        entries = journal.entries()
    if args.json:
        for e in entries:
            stdout.write(json.dumps({
                "entry": e.entry, "kind": e.kind, "request": dict(e.params), "jobId": e.job_id,
                "state": e.state, "lastStatus": e.last_status, "outcome": e.outcome,
                "submittedAt": e.submitted_at, "lastChecked": e.last_checked,
                "finishedAt": e.finished_at, "error": dict(e.error) if e.error else None,
            }) + "\n")
        return EXIT_OK
    header = f"{'#':>5}  {'kind':<13} {'job id':<26} {'state':<9} {'last status':<16} outcome / request"
    stdout.write(header + "\n")
    for e in entries:
        detail = e.outcome or ""
        if e.error and e.state != "done":
            detail = f"{e.error.get('kind')}: {e.error.get('message')}"
        request = " ".join(f"{k}={v}" for k, v in e.params.items())
        stdout.write(
            f"{e.entry:>5}  {e.kind:<13} {e.job_id or '(unknown)':<26} {e.state:<9} "
            f"{e.last_status or '-':<16} {detail}  {request}".rstrip() + "\n"
        )
    return EXIT_OK


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
        if args.command == "status":
            return _cmd_status(args, out)
        if args.command == "wait":
            return _cmd_wait(args, out, progress)
        if args.command == "resume":
            return _cmd_resume(args, out, progress)
        if args.command == "journal":
            return _cmd_journal(args, stdout)
        if args.command == "demo":
            from ._demo import run_demo

            return run_demo(chaos=args.chaos, out=out, progress=progress)
        return _cmd_submit(args, out, progress)
    except (KeyboardInterrupt, Interrupted) as exc:
        if not isinstance(exc, Interrupted) or exc.args != ():
            progress.message("interrupted")
        return exit_code(exc)
    except BaseException as exc:  # noqa: BLE001 - every failure becomes a line and an exit code
        if isinstance(exc, SystemExit):
            raise
        code = exit_code(exc)
        if args.command in ("status",) and not isinstance(exc, InvalidInputError):
            out.result(getattr(exc, "job_id", None), job_type=None, status=None, polls=1, error=exc)
        stderr.write(f"imagekit-jobs: {_describe(exc)}\n")
        return code
    finally:
        signal.signal(signal.SIGTERM, previous)


def _describe(exc: BaseException) -> str:
    for cls, _, kind in TABLE:
        if isinstance(exc, cls):
            if kind == "internal_error":
                return f"internal error: {type(exc).__name__}: {exc}"
            return " ".join(str(exc).split()) if kind != "invalid_input" else str(exc)
    return str(exc)  # pragma: no cover
