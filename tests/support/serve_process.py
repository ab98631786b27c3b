"""`sre-bot serve --http` as a real subprocess on an ephemeral loopback port, for the
deployment tests: the same entry point the container image and the Deployment run."""

from __future__ import annotations

import os
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SRE_BOT = REPO / ".venv" / "bin" / "sre-bot"


@contextmanager
def serve_http(env: dict[str, str], timeout: float = 30.0) -> Iterator[int]:
    """Run `sre-bot serve --http --port 0` with `env` added to ours; yields its port; stops it."""
    proc = subprocess.Popen(
        [str(SRE_BOT), "serve", "--http", "--port", "0", "--host", "127.0.0.1"],
        env={**os.environ, **env},
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stderr or []), daemon=True)
    reader.start()
    try:
        yield _wait_for_port(lines, proc, timeout)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_for_port(lines: list[str], proc: subprocess.Popen[str], timeout: float) -> int:
    """uvicorn logs the port it bound; poll the log for it (not a blind sleep)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in list(lines):
            m = re.search(r"Uvicorn running on http://127\.0\.0\.1:(\d+)", line)
            if m:
                return int(m[1])
        if proc.poll() is not None:
            raise AssertionError("sre-bot serve exited:\n" + "".join(lines))
        time.sleep(0.05)
    raise AssertionError("sre-bot serve did not report its port:\n" + "".join(lines))
