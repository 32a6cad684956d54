"""The key never leaks; TLS verification is never switched off; http:// stays on loopback."""

from __future__ import annotations

import base64
import logging
import re
import sqlite3
from pathlib import Path

import pytest

from imagekit_jobs import BulkJobClient, ImageKitJobsError, JobWaiter
from imagekit_jobs.testing import FakeImageKit

from .cli_helpers import run_cli
from .conftest import CANARY_KEY
from .figures import record

pytestmark = pytest.mark.reliability

SRC = Path(__file__).resolve().parent.parent / "src" / "imagekit_jobs"
TOKEN = base64.b64encode(f"{CANARY_KEY}:".encode()).decode()


def leaks(text: str) -> bool:
    return CANARY_KEY in text or TOKEN in text


def test_key_absent_from_every_library_path(caplog):
    """Across success, every error kind and every fault: no repr, str or log shows the key."""
    texts: list[str] = []
    with (
        caplog.at_level(logging.DEBUG),
        FakeImageKit(private_key=CANARY_KEY, job_duration=0.05, hang_seconds=0.5) as fake,
    ):
        with BulkJobClient(
            CANARY_KEY, base_url=fake.url, timeout=0.3, max_requests_per_second=None
        ) as client:
            texts += [repr(client), str(client), repr(client._auth), repr(client._session.auth)]
            waiter = JobWaiter(client, timeout=2, initial_interval=0.02)
            texts.append(repr(waiter))
            for fault in (
                "429",
                "500",
                "html",
                "truncated",
                "malformed",
                "drop",
                "hang",
                "redirect",
            ):
                fake.inject(fault)
                try:
                    client.get_job(fake.add_job())
                except ImageKitJobsError as error:
                    texts += [str(error), repr(error), repr(error.__cause__)]
            job = waiter.wait(client.copy_folder("/a", "/b"))
            texts += [repr(job), str(job)]
            for bad in ("../x", ""):
                try:
                    client.get_job(bad)
                except ImageKitJobsError as error:
                    texts += [str(error), repr(error)]
        with BulkJobClient("wrong", base_url=fake.url) as other:
            try:
                other.get_job(fake.add_job())
            except ImageKitJobsError as error:
                texts.append(str(error))
    texts += [record.getMessage() for record in caplog.records]
    texts += [str(record.args) for record in caplog.records]
    assert len(texts) > 30
    assert not [t for t in texts if leaks(t)]
    record_figures("library", len(texts))


def test_key_absent_from_cli_output_and_journal(tmp_path):
    """Every CLI path, including --verbose and errors: stdout, stderr and journal are clean."""
    journal = tmp_path / "j.db"
    csv = tmp_path / "m.csv"
    csv.write_text("/a,/b\n/c,/d\n")
    outputs = 0
    with FakeImageKit(private_key=CANARY_KEY, job_duration=0.1) as fake:
        url = ("--base-url", fake.url)
        fast = ("--initial-interval", "0.05")
        for args in (
            ("copy-folder", "/x", "/y", "--journal", str(journal), "--verbose", *fast),
            ("move-folder", "--from-csv", str(csv), "--journal", str(journal), "--json", *fast),
            ("status", fake.add_job(), "--verbose", "--json"),
            ("wait", "f" * 24, "--json", "--verbose"),
            ("wait", fake.add_job(status="Pending"), "--timeout", "0.3", "--verbose", *fast),
            ("resume", str(journal), "--verbose"),
            ("journal", str(journal), "--json"),
        ):
            run_cli(*args, *(url if args[0] != "journal" else ()))  # asserts no key itself
            outputs += 2  # its stdout and its stderr
    for path in tmp_path.iterdir():
        assert not leaks(path.read_bytes().decode("latin-1")), path
    with sqlite3.connect(journal) as db:
        dump = "\n".join(db.iterdump())
    assert not leaks(dump)
    record_figures("command line (stdout, stderr, journal)", outputs)


def record_figures(where: str, checked: int) -> None:
    record("key canary", **{where.replace(" ", "_"): f"{checked} texts, 0 leaks"})


def test_tls_verification_is_never_disabled():
    """No source file turns certificate verification off; a client verifies by default."""
    offenders = [
        f"{path.name}:{n}"
        for path in SRC.rglob("*.py")
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"verify\s*=\s*False|CERT_NONE|check_hostname\s*=\s*False", line)
    ]
    assert offenders == []
    with BulkJobClient(CANARY_KEY) as client:
        assert client._session.verify is True
    record("TLS", source_files_scanned=len(list(SRC.rglob("*.py"))), verify_false_found=0)


@pytest.mark.parametrize("host", ["api.imagekit.io", "10.0.0.1", "192.168.1.1", "[2001:db8::1]"])
def test_plain_http_off_the_machine_is_refused(host):
    """http:// to anything but loopback raises before a socket is opened."""
    with pytest.raises(ValueError, match="clear text"):
        BulkJobClient(CANARY_KEY, base_url=f"http://{host}")
