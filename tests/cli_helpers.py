"""Running the real console script in a subprocess, with the canary key in its environment."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

from .conftest import CANARY_KEY

SCRIPT = str(Path(sys.executable).with_name("imagekit-jobs"))
CANARY_TOKEN = base64.b64encode(f"{CANARY_KEY}:".encode()).decode()


def cli_env(base_url: str | None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IMAGEKIT", "IMAGE_KIT"))}
    env["IMAGEKIT_PRIVATE_KEY"] = CANARY_KEY
    if base_url is not None:
        env["IMAGE_KIT_BASE_URL"] = base_url
    env.update(extra)
    return env


def assert_no_key(*texts: str) -> None:
    for text in texts:
        assert CANARY_KEY not in text
        assert CANARY_TOKEN not in text


def run_cli(
    *args: str, base_url: str | None = None, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run ``imagekit-jobs ARGS`` to completion; the canary key must appear nowhere."""
    proc = subprocess.run(
        [SCRIPT, *args],
        env=env if env is not None else cli_env(base_url),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert_no_key(proc.stdout, proc.stderr)
    return proc
