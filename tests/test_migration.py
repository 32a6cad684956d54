"""Bulk submission from CSV with a journal: bad rows, 423s, kill -9 at every stage, resume."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest

from imagekit_jobs._journal import Journal
from imagekit_jobs.testing import FakeImageKit

from .cli_helpers import SCRIPT, assert_no_key, cli_env, run_cli
from .conftest import CANARY_KEY

FAST = ("--initial-interval", "0.1", "--max-interval", "0.3", "--max-requests-per-second", "400")


def write_csv(path: Path, rows: int, *, header: bool = True) -> Path:
    lines = ["source,destination"] if header else []
    lines += [f"/src/{i},/dst/{i}" for i in range(rows)]
    path.write_text("\n".join(lines) + "\n")
    return path


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def start(*args: str, url: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [SCRIPT, *args],
        env=cli_env(url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
    )


def start_copy(
    csv: Path, journal: Path, url: str, *extra: str, command: str = "copy-folder"
) -> subprocess.Popen[str]:
    """Start ``copy-folder --from-csv CSV --journal JOURNAL`` with the fast test options."""
    return start(command, "--from-csv", str(csv), "--journal", str(journal), *extra, *FAST, url=url)


def wait_until(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.01)


def kill9(proc: subprocess.Popen[str]) -> tuple[str, str]:
    proc.kill()
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    assert_no_key(out, err)
    return out, err


def entries(path: Path):
    with Journal(path, readonly=True) as journal:
        return journal.entries()


def test_bad_rows_are_reported_by_line_before_anything_is_sent(tmp_path):
    """Bad rows: exit 2, each named by line, zero requests, no journal written."""
    csv = tmp_path / "m.csv"
    csv.write_text("source,destination\n/a,/b\n,/c\n/d\n")
    with FakeImageKit(private_key=CANARY_KEY) as fake:
        proc = run_cli(
            "copy-folder",
            "--from-csv",
            str(csv),
            "--journal",
            str(tmp_path / "j.db"),
            base_url=fake.url,
        )
        assert fake.count() == 0
    assert proc.returncode == 2
    assert "line 3: empty source" in proc.stderr
    assert "line 4: expected 2 columns (source,destination), found 1" in proc.stderr
    assert not (tmp_path / "j.db").exists()


def test_rows_on_one_folder_wait_for_each_other_through_423(tmp_path):
    """Two moves of one folder: the second gets 423, backs off, then goes through."""
    csv = tmp_path / "m.csv"
    csv.write_text("/a,/b\n/a,/c\n")
    with FakeImageKit(private_key=CANARY_KEY, job_duration=0.5) as fake:
        proc = run_cli("move-folder", "--from-csv", str(csv), "--json", *FAST, base_url=fake.url)
        posts = [r.status for r in fake.requests() if r.method == "POST"]
    assert proc.returncode == 0, proc.stderr
    assert posts[:2] == [200, 423]
    assert posts[-1] == 200
    assert [r["status"] for r in json_lines(proc.stdout)] == ["Completed", "Completed"]
    assert "(CSV line 2): HTTP 423" in proc.stderr


def test_thousand_folders_survive_kill_9_halfway(tmp_path):
    """1,000 rows, kill -9 mid-submission, resume: every row accounted for exactly once."""
    csv = write_csv(tmp_path / "m.csv", 1000)
    journal = tmp_path / "j.db"
    with FakeImageKit(private_key=CANARY_KEY, job_duration=0.5, rate_limit=1000) as fake:
        proc = start_copy(csv, journal, fake.url, "--json")
        wait_until(lambda: fake.count(method="POST") >= 500)
        first_out, _ = kill9(proc)
        resumed = run_cli("resume", str(journal), "--json", *FAST, base_url=fake.url)
        server_jobs = fake.jobs()
        assert fake.count(status=429) == 0
    rows = entries(journal)
    assert len(rows) == 1000
    assert (
        len({(r.params["source_folder_path"], r.params["destination_path"]) for r in rows}) == 1000
    )
    unknown = [r for r in rows if r.state == "intent"]
    done = [r for r in rows if r.state == "done"]
    assert len(unknown) <= 1
    assert len(done) + len(unknown) == 1000
    assert all(r.outcome == "Completed" for r in done)
    # the server holds exactly the journal's jobs, plus at most the one whose answer was lost
    assert {r.job_id for r in done} <= set(server_jobs)
    assert len(server_jobs) - len(done) == len(unknown) or len(server_jobs) == len(done)
    # nothing is reported twice across the two runs
    first_ids = [r["jobId"] for r in json_lines(first_out) if r.get("jobId")]
    second = json_lines(resumed.stdout)
    second_ids = [r["jobId"] for r in second if r.get("jobId")]
    assert len(second_ids) == len(set(second_ids))
    assert not set(first_ids) & set(second_ids)
    assert len(set(first_ids) | set(second_ids)) == len(done)
    assert resumed.returncode == (1 if unknown else 0), resumed.stderr
    assert [r["error"]["kind"] for r in second if r.get("error")] == ["submission_unknown"] * len(
        unknown
    )


def test_kill_9_between_post_and_recorded_id(tmp_path):
    """Killed while the POST is unanswered: resume reports it, sends the rest, never re-sends it."""
    csv = write_csv(tmp_path / "m.csv", 3, header=False)
    journal = tmp_path / "j.db"
    with FakeImageKit(private_key=CANARY_KEY, job_duration=0.3, hang_seconds=60) as fake:
        fake.inject("hang", method="POST")
        proc = start_copy(csv, journal, fake.url)
        wait_until(lambda: fake.count(method="POST") == 1)
        kill9(proc)
        assert [r.state for r in entries(journal)] == ["intent", "queued", "queued"]
        (hung_job,) = fake.jobs()
        fake.set_status(hung_job, "Pending")  # the lost submission is still running
        resumed = run_cli("resume", str(journal), "--json", *FAST, base_url=fake.url)
        assert resumed.returncode == 1
        records = json_lines(resumed.stdout)
        assert [r["error"]["kind"] for r in records if r.get("error")] == ["submission_unknown"]
        assert sorted(r["status"] for r in records if r["jobId"]) == ["Completed", "Completed"]
        assert len(fake.jobs()) == 3  # row 1 was not sent again
        again = run_cli(
            "resume", str(journal), "--resubmit-unknown", "--json", *FAST, base_url=fake.url
        )
        assert again.returncode == 1
        assert "an earlier submission is probably still running" in again.stderr
        assert len(fake.jobs()) == 3
    assert [r.state for r in entries(journal)] == ["intent", "done", "done"]


def test_kill_9_while_backing_off_from_423_leaves_the_row_queued(tmp_path):
    """Killed while waiting to retry a 423: nothing was created, so resume simply sends it."""
    csv = tmp_path / "m.csv"
    csv.write_text("/a,/b\n/a,/c\n")
    journal = tmp_path / "j.db"
    with FakeImageKit(private_key=CANARY_KEY, job_duration=1.0) as fake:
        proc = start_copy(csv, journal, fake.url, command="move-folder")
        wait_until(lambda: fake.count(status=423) == 1)
        # the 423 proved nothing was created: the row goes back to "queued" for its backoff
        wait_until(lambda: [r.state for r in entries(journal)] == ["submitted", "queued"])
        kill9(proc)
        assert fake.count(method="POST") == 2
        resumed = run_cli("resume", str(journal), "--json", *FAST, base_url=fake.url)
        assert len(fake.jobs()) == 2
    assert resumed.returncode == 0, resumed.stderr
    assert [r.outcome for r in entries(journal)] == ["Completed", "Completed"]


def test_kill_9_mid_wait_then_resume(tmp_path):
    """Killed while waiting: resume waits on exactly the unfinished jobs, each reported once."""
    csv = write_csv(tmp_path / "m.csv", 20)
    journal = tmp_path / "j.db"
    with FakeImageKit(private_key=CANARY_KEY, job_duration=3600) as fake:
        proc = start_copy(csv, journal, fake.url, "--json")
        wait_until(lambda: fake.count(method="GET") >= 25)
        early = list(fake.jobs())[:5]
        for job_id in early:
            fake.set_status(job_id, "Completed")
        wait_until(lambda: sum(1 for r in entries(journal) if r.state == "done") == 5)
        first_out, _ = kill9(proc)
        for job_id in fake.jobs():
            fake.set_status(job_id, "Completed")
        resumed = run_cli("resume", str(journal), "--json", *FAST, base_url=fake.url)
    assert resumed.returncode == 0, resumed.stderr
    first = {r["jobId"] for r in json_lines(first_out)}
    second = [r["jobId"] for r in json_lines(resumed.stdout)]
    assert first == set(early)
    assert len(second) == 15
    assert not first & set(second)
    assert all(r.outcome == "Completed" for r in entries(journal))


def test_sigint_during_csv_submission(tmp_path):
    """Ctrl-C mid-submission: exit 130, submitted ids and the resume command; resume finishes."""
    csv = write_csv(tmp_path / "m.csv", 5, header=False)
    journal = tmp_path / "j.db"
    with FakeImageKit(private_key=CANARY_KEY, job_duration=0.2, hang_seconds=60) as fake:
        fake.inject("hang", method="POST", after=2)  # the third POST gets no answer
        proc = start_copy(csv, journal, fake.url)
        wait_until(lambda: any(r.fault == "hang" for r in fake.requests()))
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
        assert_no_key(out, err)
        assert proc.returncode == 130
        assert "interrupted while submitting" in err
        assert f"resume with: imagekit-jobs resume {journal}" in err
        states = [r.state for r in entries(journal)]
        assert states.count("intent") == 1
        resumed = run_cli("resume", str(journal), "--json", *FAST, base_url=fake.url)
    assert resumed.returncode == 1  # the interrupted POST is reported, not re-sent
    final = [r.state for r in entries(journal)]
    assert final.count("done") == 4
    assert final.count("intent") == 1


def test_second_run_on_a_journal_in_use_exits_2(tmp_path):
    """While one run holds the journal, a second is refused with exit 2 and a clear message."""
    journal = tmp_path / "j.db"
    with FakeImageKit(private_key=CANARY_KEY, job_duration=3600) as fake:
        job_id = fake.add_job()
        proc = start("wait", job_id, "--journal", str(journal), *FAST, url=fake.url)
        wait_until(lambda: fake.count() >= 1)
        second = run_cli("wait", job_id, "--journal", str(journal), base_url=fake.url)
        table = run_cli("journal", str(journal))
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=20)
    assert second.returncode == 2
    assert "is in use by another process" in second.stderr
    assert table.returncode == 0
    assert job_id in table.stdout


@pytest.mark.parametrize("as_json", [False, True])
def test_journal_command_lists_every_entry(tmp_path, as_json):
    """journal FILE shows each entry with its state and outcome."""
    journal = tmp_path / "j.db"
    with FakeImageKit(private_key=CANARY_KEY, job_duration=0.1) as fake:
        run_cli("copy-folder", "/a", "/b", "--journal", str(journal), *FAST, base_url=fake.url)
    proc = run_cli("journal", str(journal), *(["--json"] if as_json else []))
    assert proc.returncode == 0
    if as_json:
        (record,) = json_lines(proc.stdout)
        assert (record["kind"], record["state"], record["outcome"]) == (
            "copy_folder",
            "done",
            "Completed",
        )
        assert record["request"] == {"destination_path": "/b", "source_folder_path": "/a"}
    else:
        header, row = proc.stdout.splitlines()
        assert header.split()[:5] == ["#", "kind", "job", "id", "state"]
        assert row.split()[:3] == ["1", "copy_folder", entries(journal)[0].job_id]
        assert "done" in row
        assert "Completed" in row


def test_row_still_locked_at_the_deadline_stays_queued_for_resume(tmp_path):
    """A row still locked at --timeout is reported, kept queued, and sent by resume."""
    csv = tmp_path / "m.csv"
    csv.write_text("/a,/b\n/a,/c\n")
    journal = tmp_path / "j.db"
    with FakeImageKit(private_key=CANARY_KEY, job_duration=3600) as fake:
        first = run_cli(
            "move-folder",
            "--from-csv",
            str(csv),
            "--journal",
            str(journal),
            "--timeout",
            "1.5",
            "--json",
            *FAST,
            base_url=fake.url,
        )
        records = json_lines(first.stdout)
        assert first.returncode == 1  # the refused row outranks the timed-out job
        assert sorted(r["error"]["kind"] for r in records) == ["conflict", "timeout"]
        assert [r.state for r in entries(journal)] == ["submitted", "queued"]
        (running,) = fake.jobs()
        fake.set_status(running, "Completed")  # the first move finishes; the folder frees up
        fake.job_duration = 0.0  # and the move sent by resume finishes at once
        resumed = run_cli("resume", str(journal), "--json", *FAST, base_url=fake.url)
    assert resumed.returncode == 0, resumed.stderr
    assert [r.outcome for r in entries(journal)] == ["Completed", "Completed"]


def test_sigint_during_submission_without_journal_prints_a_wait_command(tmp_path):
    """No journal: the interrupted submission names the ids sent and the wait that resumes them."""
    csv = write_csv(tmp_path / "m.csv", 4, header=False)
    with FakeImageKit(private_key=CANARY_KEY, job_duration=0.2, hang_seconds=60) as fake:
        fake.inject("hang", method="POST", after=2)  # the third POST gets no answer
        proc = start("copy-folder", "--from-csv", str(csv), *FAST, url=fake.url)
        wait_until(lambda: any(r.fault == "hang" for r in fake.requests()))
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
        sent = list(fake.jobs())[:2]
    assert_no_key(out, err)
    assert proc.returncode == 130
    assert f"interrupted while submitting: 2 job(s) submitted: {sent[0]} {sent[1]}" in err
    assert "1 sent, no answer: the job may exist (CSV lines 3)" in err
    assert "1 not sent (CSV lines 4)" in err
    resume = (
        "imagekit-jobs wait --initial-interval 0.1 --max-interval 0.3 "
        f"--max-requests-per-second 400 {sent[0]} {sent[1]}"
    )
    assert f"resume with: {resume}\n" in err
