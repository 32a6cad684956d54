"""The imagekit-jobs console script, run in a subprocess against FakeImageKit."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time

import pytest

from imagekit_jobs.testing import FakeImageKit

from .cli_helpers import SCRIPT, assert_no_key, cli_env, run_cli
from .conftest import CANARY_KEY

FAST = ("--initial-interval", "0.05", "--max-interval", "0.1")


@pytest.fixture
def fake():
    with FakeImageKit(private_key=CANARY_KEY, job_duration=0.3) as server:
        yield server


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def test_wait_completed_prints_one_line_and_exits_0(fake):
    """A job that completes: exit 0, one human line: id, type, status, elapsed."""
    job_id = fake.add_job("MOVE_FOLDER")
    proc = run_cli("wait", job_id, *FAST, base_url=fake.url)
    assert proc.returncode == 0, proc.stderr
    assert re.fullmatch(rf"{job_id}  MOVE_FOLDER  Completed  \d+\.\ds\n", proc.stdout)


def test_wait_json_schema(fake):
    """--json: exactly jobId, type, status, elapsedSeconds, polls."""
    job_id = fake.add_job("COPY_FOLDER")
    proc = run_cli("wait", job_id, "--json", *FAST, base_url=fake.url)
    assert proc.returncode == 0
    (record,) = json_lines(proc.stdout)
    assert set(record) == {"jobId", "type", "status", "elapsedSeconds", "polls"}
    assert (record["jobId"], record["type"], record["status"]) == (
        job_id,
        "COPY_FOLDER",
        "Completed",
    )
    assert isinstance(record["elapsedSeconds"], float)
    assert record["polls"] == fake.count(method="GET")


def test_not_found_exits_1_with_error_object(fake):
    """An unknown job: exit 1 and an error object with kind, statusCode, message, requestId."""
    proc = run_cli("wait", "abcdefabcdefabcdefabcdef", "--json", base_url=fake.url)
    assert proc.returncode == 1
    (record,) = json_lines(proc.stdout)
    assert record["status"] is None
    assert record["polls"] == 1
    error = record["error"]
    assert (error["kind"], error["statusCode"], error["message"]) == (
        "not_found",
        404,
        "The requested job does not exist.",
    )
    assert re.fullmatch(r"[0-9a-f]{32}", error["requestId"])


def test_wrong_key_exits_1_after_one_request(fake):
    """A refused key: exit 1, kind not_authorised, exactly one request."""
    job_id = fake.add_job()
    env = cli_env(fake.url, IMAGEKIT_PRIVATE_KEY="wrong_key")
    proc = run_cli("wait", job_id, "--json", env=env)
    assert proc.returncode == 1
    assert json_lines(proc.stdout)[0]["error"]["kind"] == "not_authorised"
    assert fake.count() == 1


def test_partial_success_exits_1():
    """A rename whose purge failed: exit 1, status 'Partial success', kind partial_success."""
    with FakeImageKit(
        private_key=CANARY_KEY, job_duration=0.0, partial_success_on_purge=True
    ) as fake:
        proc = run_cli(
            "rename-folder", "/a", "b", "--purge-cache", "--json", *FAST, base_url=fake.url
        )
    assert proc.returncode == 1
    (record,) = json_lines(proc.stdout)
    assert (record["status"], record["type"], record["error"]["kind"]) == (
        "Partial success",
        "RENAME_FOLDER",
        "partial_success",
    )


def test_timeout_exits_124(fake):
    """A job still running at the deadline: exit 124, last status Pending."""
    job_id = fake.add_job(status="Pending")
    proc = run_cli("wait", job_id, "--timeout", "0.5", "--json", *FAST, base_url=fake.url)
    assert proc.returncode == 124
    (record,) = json_lines(proc.stdout)
    assert (record["status"], record["error"]["kind"]) == ("Pending", "timeout")


def test_timeout_zero_is_a_single_read(fake):
    """--timeout 0: one status read, then 124 for a running job, 0 for a finished one."""
    running = fake.add_job(status="Pending")
    done = fake.add_job(status="Completed")
    assert run_cli("wait", running, "--timeout", "0", base_url=fake.url).returncode == 124
    assert run_cli("wait", done, "--timeout", "0", base_url=fake.url).returncode == 0
    assert fake.count() == 2


def test_unreachable_until_deadline_exits_1():
    """Nothing listening: no successful read by the deadline is an API error (1), not 124."""
    with FakeImageKit() as gone:
        url = gone.url
    proc = run_cli("wait", "a" * 24, "--timeout", "1", "--json", *FAST, base_url=url)
    assert proc.returncode == 1
    assert json_lines(proc.stdout)[0]["error"]["kind"] == "api_unreachable"


def test_errors_outrank_timeouts_with_several_jobs(fake):
    """One job times out and one is missing: exit 1; a timeout and a success: exit 124."""
    stuck = fake.add_job(status="Pending")
    done = fake.add_job(status="Completed")
    missing = "f" * 24
    args = ("--timeout", "0.5", *FAST)
    assert run_cli("wait", stuck, missing, *args, base_url=fake.url).returncode == 1
    proc = run_cli("wait", stuck, done, *args, "--json", base_url=fake.url)
    assert proc.returncode == 124
    assert [r["jobId"] for r in json_lines(proc.stdout)] == [done, stuck]


def test_status_exits_0_whatever_the_job_status(fake):
    """status: one read, exit 0 even for a Pending job."""
    job_id = fake.add_job(status="Pending")
    proc = run_cli("status", job_id, "--json", base_url=fake.url)
    assert proc.returncode == 0
    assert json_lines(proc.stdout)[0]["status"] == "Pending"
    assert fake.count() == 1


def test_missing_key_exits_2_naming_both_sources(fake):
    """No key: exit 2, a message naming IMAGEKIT_PRIVATE_KEY and --private-key-file."""
    env = cli_env(fake.url)
    del env["IMAGEKIT_PRIVATE_KEY"]
    proc = run_cli("wait", "a" * 24, env=env)
    assert proc.returncode == 2
    assert "IMAGEKIT_PRIVATE_KEY" in proc.stderr
    assert "--private-key-file" in proc.stderr
    assert proc.stdout == ""
    assert fake.count() == 0


def test_private_key_file(fake, tmp_path):
    """--private-key-file supplies the key (whitespace stripped)."""
    key_file = tmp_path / "key"
    key_file.write_text(CANARY_KEY + "\n")
    env = cli_env(fake.url)
    del env["IMAGEKIT_PRIVATE_KEY"]
    proc = run_cli("status", fake.add_job(), "--private-key-file", str(key_file), env=env)
    assert proc.returncode == 0


@pytest.mark.parametrize(
    "args",
    [
        ("wait", "../../etc"),
        ("wait",),
        ("wait", "abc", "--timeout", "-1"),
        ("wait", "abc", "--bogus"),
        ("copy-folder", "/only-one"),
        ("frobnicate",),
    ],
)
def test_usage_errors_exit_2(fake, args):
    """Bad arguments and path-changing ids: exit 2, nothing sent."""
    proc = run_cli(*args, base_url=fake.url)
    assert proc.returncode == 2
    assert fake.count() == 0


def test_plain_http_to_a_remote_host_is_refused():
    """A non-loopback http:// base URL: exit 2 before any connection."""
    proc = run_cli("status", "a" * 24, "--base-url", "http://api.imagekit.io")
    assert proc.returncode == 2
    assert "clear text" in proc.stderr


def test_copy_no_wait_prints_submitted(fake):
    """copy-folder --no-wait: one JSON object with status Submitted; no status read."""
    proc = run_cli("copy-folder", "/a", "/b", "--no-wait", "--json", base_url=fake.url)
    assert proc.returncode == 0
    (record,) = json_lines(proc.stdout)
    assert (record["status"], record["type"], record["polls"]) == ("Submitted", "COPY_FOLDER", 0)
    assert record["jobId"] in fake.jobs()
    assert fake.count(method="GET") == 0


def test_copy_waits_until_completed(fake):
    """copy-folder without --no-wait: submits, waits, exit 0, the job's payload as sent."""
    proc = run_cli(
        "copy-folder", "/a", "/b", "--include-versions", "--json", *FAST, base_url=fake.url
    )
    assert proc.returncode == 0
    (record,) = json_lines(proc.stdout)
    assert record["status"] == "Completed"
    assert fake.jobs()[record["jobId"]].payload == {
        "sourceFolderPath": "/a",
        "destinationPath": "/b",
        "includeVersions": True,
    }


def test_non_tty_progress_is_plain_lines(fake):
    """Progress on a pipe: one line per status change, no carriage return or escape codes."""
    job_id = fake.add_job(duration=0.3)
    proc = run_cli("wait", job_id, *FAST, base_url=fake.url)
    assert "\r" not in proc.stderr
    assert "\x1b" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert [re.sub(r"^\[\s*\d+\.\ds\] ", "", line) for line in lines] == [
        f"{job_id}: Pending",
        f"{job_id}: Completed",
    ]


def test_tty_progress_is_one_live_line_per_job(fake):
    """On a terminal, each job's line is rewritten in place and ends marked Completed."""
    import os
    import pty

    job_id = fake.add_job(duration=0.3)
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [SCRIPT, "wait", job_id, *FAST],
        env=cli_env(fake.url),
        stdout=subprocess.PIPE,
        stderr=slave,
        text=True,
    )
    os.close(slave)
    out, _ = proc.communicate(timeout=30)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # the terminal's other end is closed: all was read
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    err = b"".join(chunks).decode("utf-8", "replace")
    assert_no_key(out, err)
    assert proc.returncode == 0
    assert "\x1b[1F\x1b[J" in err  # the job's line is lifted and redrawn
    assert re.search(rf"{job_id}  Pending +\d+\.\ds  next check in", err)
    assert re.search(rf"{job_id}  Completed +\d+\.\ds", err)
    assert "\r" not in err.replace("\r\n", "\n")


def test_quiet_prints_no_progress(fake):
    """--quiet: stderr is empty."""
    proc = run_cli("wait", fake.add_job(duration=0.1), "--quiet", *FAST, base_url=fake.url)
    assert (proc.returncode, proc.stderr) == (0, "")


def test_verbose_logs_without_the_key(fake):
    """--verbose logs each request at DEBUG; the key still never appears (checked by run_cli)."""
    proc = run_cli("wait", fake.add_job(duration=0.1), "--verbose", *FAST, base_url=fake.url)
    assert proc.returncode == 0
    assert "DEBUG imagekit_jobs: GET /v1/bulkJobs/" in proc.stderr


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_mid_wait_exits_130_naming_pending_jobs(fake, sig):
    """SIGINT/SIGTERM while waiting: exit 130, pending ids and the resume command on stderr."""
    job_id = fake.add_job(status="Pending")
    proc = subprocess.Popen(
        [SCRIPT, "wait", job_id, "--json", *FAST],
        env=cli_env(fake.url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 20
    while fake.count() < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=20)
    assert_no_key(out, err)
    assert proc.returncode == 130
    assert f"interrupted: 1 job(s) still pending: {job_id}" in err
    resume = f"imagekit-jobs wait --initial-interval 0.05 --max-interval 0.1 --json {job_id}"
    assert f"resume with: {resume}\n" in err
    (record,) = json_lines(out)
    assert (record["jobId"], record["status"], record["error"]["kind"]) == (
        job_id,
        "Pending",
        "interrupted",
    )


def test_demo_runs_with_no_setup():
    """demo: no key, no network, exit 0, a copy and a move Completed."""
    env = cli_env(None)
    del env["IMAGEKIT_PRIVATE_KEY"]
    proc = run_cli("demo", "--chaos", "--json", env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    records = json_lines(proc.stdout)
    assert sorted((r["type"], r["status"]) for r in records) == [
        ("COPY_FOLDER", "Completed"),
        ("MOVE_FOLDER", "Completed"),
    ]


def test_python_dash_m_is_the_same_command(fake):
    """python -m imagekit_jobs runs the same CLI."""
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "imagekit_jobs", "status", fake.add_job(), "--json"],
        env=cli_env(fake.url),
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0
    assert json_lines(proc.stdout)[0]["status"] == "Pending"


def test_help_shows_the_exit_code_table():
    """--help lists every exit code."""
    proc = run_cli("--help")
    for code in ("0 ", "1 ", "2 ", "124", "130"):
        assert f"\n  {code}" in proc.stdout
