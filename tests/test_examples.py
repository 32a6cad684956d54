"""The examples run: the Python ones against FakeImageKit, the shell ones with a fake key."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from imagekit_jobs.testing import FakeImageKit

from .cli_helpers import assert_no_key, cli_env
from .conftest import CANARY_KEY

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run_example(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    env = cli_env(url)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    proc = subprocess.run(
        [*args], env=env, capture_output=True, text=True, timeout=60, check=False, cwd=EXAMPLES
    )
    assert_no_key(proc.stdout, proc.stderr)
    return proc


@pytest.fixture
def fake():
    with FakeImageKit(private_key=CANARY_KEY, job_duration=0.3) as server:
        yield server


def test_deploy_copy_py(fake):
    """examples/deploy_copy.py copies and waits: exit 0, the job Completed on stdout."""
    proc = run_example(sys.executable, "deploy_copy.py", "/releases/v1", "/live", url=fake.url)
    assert proc.returncode == 0, proc.stderr
    (job_id,) = fake.jobs()
    assert proc.stdout == f"{job_id} Completed\n"


def test_official_sdk_submit_py(fake):
    """examples/official_sdk_submit.py: submitted by the official SDK, waited on by ours."""
    pytest.importorskip("imagekitio")
    proc = run_example(sys.executable, "official_sdk_submit.py", "/old", "new", url=fake.url)
    assert proc.returncode == 0, proc.stderr
    (job_id,) = fake.jobs()
    assert proc.stdout == f"{job_id} RENAME_FOLDER Completed\n"


def test_deploy_sh(fake, tmp_path):
    """examples/deploy.sh: exit 0 and the JSON result, for a release copied live."""
    proc = run_example("bash", "deploy.sh", "v41", url=fake.url)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("release v41 is live: {")
    (EXAMPLES / "copy.json").unlink()


def test_migrate_sh(fake, tmp_path):
    """examples/migrate.sh moves the CSV's three folders and shows the journal."""
    journal = tmp_path / "migration.journal"
    env_journal = {"JOURNAL": str(journal)}
    env = cli_env(fake.url, **env_journal)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    proc = subprocess.run(
        ["bash", "migrate.sh", "migrate.csv"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=EXAMPLES,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert sum(1 for line in lines if "MOVE_FOLDER  Completed" in line) == 3  # results
    assert sum(1 for line in lines if " done " in line) == 3  # the journal's rows
    assert len(fake.jobs()) == 3


def test_test_your_script_example_passes():
    """examples/test_your_script.py is itself a passing test module."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            str(EXAMPLES / "test_your_script.py"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout
    assert "3 passed" in proc.stdout
