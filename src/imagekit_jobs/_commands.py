"""What each command does, once its arguments are parsed and its client is built."""

from __future__ import annotations

import json
import math
import shlex
import time
from argparse import Namespace
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any, TextIO

from ._budget import DEFAULT_MAX_REQUESTS_PER_SECOND
from ._client import BulkJobClient
from ._csvfile import read_pairs
from ._errors import ConflictError, InvalidInputError, SubmissionUnknownError
from ._journal import Journal
from ._outcomes import EXIT_FAILED, EXIT_OK, Interrupted, exit_code, overall_exit
from ._progress import Progress
from ._run import Output, WaitSettings, wait_and_report, wait_command
from ._submit import KINDS, Submission, submit_all
from ._validate import check_job_id

__all__ = ["DEFAULTS", "journal_table", "resume", "status", "submit", "wait", "wait_options"]

ClientFactory = Callable[[], BulkJobClient]

#: The command line's defaults (also left out of a printed resume command).
DEFAULTS: dict[str, float] = {
    "timeout": 600.0,
    "initial_interval": 1.0,
    "max_interval": 60.0,
    "max_requests_per_second": DEFAULT_MAX_REQUESTS_PER_SECOND,
}


def _settings(args: Namespace, deadline: float) -> WaitSettings:
    left = None if math.isinf(deadline) else max(0.0, deadline - time.monotonic())
    if args.timeout == 0:
        left = 0.0  # one status read, whatever the submission took
    return WaitSettings(left, args.initial_interval, args.max_interval)


def _deadline(args: Namespace) -> float:
    return math.inf if args.timeout is None else time.monotonic() + args.timeout


def wait_options(args: Namespace) -> list[str]:
    """The options of this run that a ``wait`` resuming it needs, as given."""
    options: list[str] = []
    for flag in (
        "base_url",
        "private_key_file",
        "timeout",
        "initial_interval",
        "max_interval",
        "max_requests_per_second",
    ):
        value = getattr(args, flag, None)
        if value is not None and value != DEFAULTS.get(flag):
            options += [
                "--" + flag.replace("_", "-"),
                f"{value:g}" if isinstance(value, float) else str(value),
            ]
    options += [f"--{flag}" for flag in ("json", "quiet") if getattr(args, flag, False)]
    return options


def _open_journal(path: str | None) -> AbstractContextManager[Journal | None]:
    return Journal(path) if path else nullcontext()


def _resume_command(journal: Journal | None) -> str:
    return f"imagekit-jobs resume {shlex.quote(journal.path)}" if journal else ""


def _wait_phase(
    client: BulkJobClient,
    ids: list[str],
    *,
    args: Namespace,
    deadline: float,
    out: Output,
    progress: Progress,
    journal: Journal | None,
    types: dict[str, str] | None = None,
) -> list[int]:
    if not ids:
        return []
    return wait_and_report(
        client,
        ids,
        settings=_settings(args, deadline),
        output=out,
        progress=progress,
        journal=journal,
        resume_command=_resume_command(journal),
        job_types=types,
        wait_options=wait_options(args),
    )


# -- status and wait ---------------------------------------------------------------------


def status(args: Namespace, make_client: ClientFactory, out: Output) -> int:
    """``status JOB_ID``: one read; exit 0 whenever the read succeeded."""
    job_id = check_job_id(args.job_id)
    with make_client() as client:
        job = client.get_job(job_id)
    out.result(job.job_id, job_type=job.type, status=job.status, polls=1)
    return EXIT_OK


def wait(args: Namespace, make_client: ClientFactory, out: Output, progress: Progress) -> int:
    """``wait JOB_ID...``: until every job finishes or the deadline passes."""
    ids = [check_job_id(job_id) for job_id in args.job_ids]
    deadline = _deadline(args)
    with _open_journal(args.journal) as journal, make_client() as client:
        codes = _wait_phase(
            client,
            ids,
            args=args,
            deadline=deadline,
            out=out,
            progress=progress,
            journal=journal,
        )
    return overall_exit(codes)


# -- submissions ---------------------------------------------------------------------------


def _submissions(args: Namespace) -> list[Submission]:
    if args.command == "rename-folder":
        params: dict[str, Any] = {"folder_path": args.folder, "new_folder_name": args.new_name}
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
    params = {"source_folder_path": args.source, "destination_path": args.destination, **extra}
    return [Submission(kind, params)]


def _where(sub: Submission) -> str:
    if sub.line is not None:
        return f" (CSV line {sub.line})"
    return f" (journal entry {sub.entry})" if sub.entry is not None else ""


def _request_json(sub: Submission) -> dict[str, Any]:
    extra: dict[str, Any] = {"request": dict(sub.params)}
    if sub.line is not None:
        extra["line"] = sub.line
    if sub.entry is not None:
        extra["entry"] = sub.entry
    return extra


def _submit_phase(
    client: BulkJobClient,
    submissions: list[Submission],
    *,
    deadline: float,
    out: Output,
    progress: Progress,
    journal: Journal | None,
    retry_locked: bool = True,
    wait_options: Sequence[str] = (),
) -> list[int]:
    """Send every submission; print a line for each one that failed; return their codes.

    On Ctrl-C or SIGTERM, names what was sent and how to resume (``wait_options`` are the
    options of a ``wait`` resuming it without a journal).
    """

    def submitted(sub: Submission) -> None:
        progress.message(f"submitted {sub.job_type} job {sub.job_id}{_where(sub)}")

    def deferred(sub: Submission, delay: float) -> None:
        progress.message(f"{sub.job_type}{_where(sub)}: {sub.error}; retrying in {delay:.1f}s")

    try:
        submit_all(
            client,
            submissions,
            journal=journal,
            deadline=deadline,
            clock=time.monotonic,
            sleep=time.sleep,
            on_submitted=submitted,
            on_deferred=deferred,
            retry_locked=retry_locked,
        )
    except (KeyboardInterrupt, Interrupted):
        _report_interrupted(submissions, progress, journal, wait_options)
        raise Interrupted from None
    codes = []
    for sub in submissions:
        if sub.job_id is None and sub.error is not None:
            with progress.above():
                out.result(
                    None,
                    job_type=sub.job_type,
                    status=None,
                    polls=0,
                    error=sub.error,
                    extra=_request_json(sub),
                )
            if isinstance(sub.error, (SubmissionUnknownError, ConflictError)):
                progress.message(f"{sub.job_type}{_where(sub)}: {sub.error}")
            codes.append(exit_code(sub.error))
    return codes


def _report_interrupted(
    submissions: list[Submission],
    progress: Progress,
    journal: Journal | None,
    options: Sequence[str],
) -> None:
    sent = [s.job_id for s in submissions if s.job_id is not None]
    # the POST cut short had been sent: its job may exist
    unanswered = [s for s in submissions if s.job_id is None and s.error is None and s.tries]
    unsent = [s for s in submissions if s.job_id is None and s not in unanswered]
    lines = [f"interrupted while submitting: {len(sent)} job(s) submitted: {' '.join(sent)}"]
    for group, what in ((unanswered, "sent, no answer: the job may exist"), (unsent, "not sent")):
        if group:
            where = ", ".join(str(s.line) for s in group if s.line is not None)
            lines.append(f"{len(group)} {what}" + (f" (CSV lines {where})" if where else ""))
    if journal is not None:
        lines.append(f"resume with: {_resume_command(journal)}")
    elif sent:
        lines.append(f"resume with: {wait_command(options, sent)}")
    progress.message("\n".join(lines))


def submit(args: Namespace, make_client: ClientFactory, out: Output, progress: Progress) -> int:
    """``copy-folder``, ``move-folder``, ``rename-folder``: submit, then wait unless told not to."""
    submissions = _submissions(args)  # a bad CSV stops here, before anything is sent
    deadline = _deadline(args)
    with _open_journal(args.journal) as journal, make_client() as client:
        codes = _submit_phase(
            client,
            submissions,
            deadline=deadline,
            out=out,
            progress=progress,
            journal=journal,
            wait_options=wait_options(args),
        )
        done = [s for s in submissions if s.job_id is not None]
        if args.no_wait:
            for sub in done:
                out.result(
                    sub.job_id,
                    job_type=sub.job_type,
                    status="Submitted",
                    polls=0,
                    extra=_request_json(sub),
                )
            return overall_exit(codes)
        codes += _wait_phase(
            client,
            [s.job_id for s in done if s.job_id],
            args=args,
            deadline=deadline,
            out=out,
            progress=progress,
            journal=journal,
            types={s.job_id: s.job_type for s in done if s.job_id},
        )
    return overall_exit(codes)


# -- the journal ---------------------------------------------------------------------------


def resume(args: Namespace, make_client: ClientFactory, out: Output, progress: Progress) -> int:
    """``resume FILE``: send what was never sent, report what is unknown, wait on the rest."""
    deadline = _deadline(args)
    with Journal(args.journal_file) as journal:
        queued = [Submission(e.kind, e.params, entry=e.entry) for e in journal.queued()]
        unknown = journal.unknown_submissions()
        codes: list[int] = []
        with make_client() as client:
            codes += _submit_phase(
                client, queued, deadline=deadline, out=out, progress=progress, journal=journal
            )
            if args.resubmit_unknown:
                again = [Submission(e.kind, e.params, entry=e.entry) for e in unknown]
                codes += _submit_phase(
                    client,
                    again,
                    deadline=deadline,
                    out=out,
                    progress=progress,
                    journal=journal,
                    retry_locked=False,
                )
            else:
                codes += [
                    _report_unknown(entry.entry, entry.kind, entry.params, out, progress)
                    for entry in unknown
                ]
            pending = [e.job_id for e in journal.pending() if e.job_id is not None]
            if not pending and not unknown and not queued:
                progress.message(f"{args.journal_file}: nothing left to wait for")
            codes += _wait_phase(
                client,
                pending,
                args=args,
                deadline=deadline,
                out=out,
                progress=progress,
                journal=journal,
            )
        return overall_exit(codes)


def _report_unknown(entry: int, kind: str, params: Any, out: Output, progress: Progress) -> int:
    error = SubmissionUnknownError(
        "submitted, id unknown: the run stopped before the API's answer was recorded; "
        "check the destination, then resume with --resubmit-unknown to send it again",
        status_code=None,
    )
    with progress.above():
        out.result(
            None,
            job_type=KINDS[kind][0],
            status=None,
            polls=0,
            error=error,
            extra={"request": dict(params), "entry": entry},
        )
    progress.message(f"journal entry {entry} ({kind} {json.dumps(dict(params))}): {error}")
    return EXIT_FAILED


def journal_table(args: Namespace, stdout: TextIO) -> int:
    """``journal FILE``: every entry, as a table or one JSON object per line."""
    with Journal(args.journal_file, readonly=True) as journal:
        entries = journal.entries()
    if args.json:
        for e in entries:
            record = {
                "entry": e.entry,
                "kind": e.kind,
                "request": dict(e.params),
                "jobId": e.job_id,
                "state": e.state,
                "lastStatus": e.last_status,
                "outcome": e.outcome,
                "submittedAt": e.submitted_at,
                "lastChecked": e.last_checked,
                "finishedAt": e.finished_at,
                "error": dict(e.error) if e.error else None,
            }
            stdout.write(json.dumps(record) + "\n")
        return EXIT_OK
    stdout.write(
        f"{'#':>5}  {'kind':<13} {'job id':<26} {'state':<9} {'last status':<16} outcome\n"
    )
    for e in entries:
        detail = e.outcome or ""
        if e.error and e.state not in ("done", "failed"):
            detail = f"{e.error.get('kind')}: {e.error.get('message')}"
        request = " ".join(f"{k}={v}" for k, v in e.params.items())
        line = (
            f"{e.entry:>5}  {e.kind:<13} {e.job_id or '(unknown)':<26} {e.state:<9} "
            f"{e.last_status or '-':<16} {detail}  {request}"
        )
        stdout.write(line.rstrip() + "\n")
    return EXIT_OK
