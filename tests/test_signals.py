"""SIGINT and SIGTERM during wait, wait_all and a CSV submission: 130, pending named, resumable."""

from __future__ import annotations

import signal

import pytest

from imagekit_jobs._journal import Journal
from imagekit_jobs.testing import FakeImageKit

from .cli_helpers import assert_no_key, run_cli
from .conftest import CANARY_KEY
from .figures import record
from .test_migration import FAST, start, start_copy, wait_until, write_csv

pytestmark = pytest.mark.reliability


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_during_a_multi_job_wait_with_journal(tmp_path, sig):
    """Three jobs, one done: the signal names the two pending, the journal resumes them."""
    journal = tmp_path / "j.db"
    with FakeImageKit(private_key=CANARY_KEY) as fake:
        done = fake.add_job(status="Completed")
        stuck = [fake.add_job(status="Pending") for _ in range(2)]
        proc = start("wait", done, *stuck, "--journal", str(journal), *FAST, url=fake.url)
        wait_until(lambda: fake.count() >= 6)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=20)
        assert_no_key(out, err)
        assert proc.returncode == 130
        assert f"interrupted: 2 job(s) still pending: {stuck[0]} {stuck[1]}" in err
        assert f"resume with: imagekit-jobs resume {journal}" in err
        assert out.splitlines()[0].startswith(f"{done}  COPY_FOLDER  Completed")
        with Journal(journal, readonly=True) as reader:
            assert sorted(e.job_id for e in reader.pending()) == sorted(stuck)
        for job_id in stuck:
            fake.set_status(job_id, "Completed")
        resumed = run_cli("resume", str(journal), "--json", base_url=fake.url)
    assert resumed.returncode == 0
    assert resumed.stdout.count('"Completed"') == 2
    record(f"signals: {signal.Signals(sig).name} during wait_all", exit_code=130, resumed=2)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_during_csv_submission(tmp_path, sig):
    """Mid-submission: 130, the journal keeps queued rows, resume sends them."""
    csv = write_csv(tmp_path / "m.csv", 6, header=False)
    journal = tmp_path / "j.db"
    with FakeImageKit(private_key=CANARY_KEY, job_duration=0.1, hang_seconds=60) as fake:
        fake.slow_seconds = 5.0
        fake.inject("slow", method="POST", after=2)  # the third POST takes 5 s
        proc = start_copy(csv, journal, fake.url)
        wait_until(lambda: any(r.fault == "slow" for r in fake.requests()))
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=20)
        assert_no_key(out, err)
        assert proc.returncode == 130
        assert "interrupted while submitting" in err
        with Journal(journal, readonly=True) as reader:
            states = [e.state for e in reader.entries()]
        assert len(states) == 6
        assert states.count("queued") >= 1
        resumed = run_cli("resume", str(journal), "--json", *FAST, base_url=fake.url)
    with Journal(journal, readonly=True) as reader:
        final = [e.state for e in reader.entries()]
    # the POST cut short is "id unknown" (reported, not re-sent); every other row finished
    assert final.count("done") + final.count("intent") == 6
    assert final.count("intent") <= 1
    assert resumed.returncode == (1 if "intent" in final else 0)
    record(
        f"signals: {signal.Signals(sig).name} during CSV submission",
        exit_code=130,
        rows=6,
        queued_at_signal=states.count("queued"),
        finished_after_resume=final.count("done"),
    )
