"""`sre-bot serve --http` as a real subprocess on an ephemeral loopback port: the same entry
point the container image, the Deployment and every replica run. Shared by the deployment,
approval and replica tests and by the benchmarks."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SRE_BOT = REPO / ".venv" / "bin" / "sre-bot"
_LISTENING = re.compile(r"Uvicorn running on http://127\.0\.0\.1:(\d+)")
_WORKERS_READY = re.compile(r"investigation worker processes ready")


class ServeStartError(RuntimeError):
    """`sre-bot serve` exited or never bound its port; the message ends with its log."""


def start_serve(env: dict[str, str], log: Path, *, new_session: bool = False) -> subprocess.Popen:
    """Start `sre-bot serve --http --port 0` with `env` added to ours, its output in `log`.
    Unless `env` says otherwise, it drains for 2 s when stopped (tests stop it mid-round)."""
    with log.open("w") as out:  # the child keeps its own descriptor
        return subprocess.Popen(
            [str(SRE_BOT), "serve", "--http", "--host", "127.0.0.1", "--port", "0"],
            env={**os.environ, "SRE_BOT_DRAIN_SECONDS": "2", **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=new_session,
        )


def port_of(proc: subprocess.Popen, log: Path, timeout: float = 60.0) -> int:
    """The port the process bound: uvicorn logs it; poll the log for it (not a blind sleep)."""
    return int(wait_for_log(proc, log, _LISTENING, timeout, "report its port")[1])


def workers_ready(proc: subprocess.Popen, log: Path, timeout: float = 120.0) -> None:
    """Wait until `serve` says its investigation worker processes are ready."""
    wait_for_log(proc, log, _WORKERS_READY, timeout, "start its investigation workers")


def wait_for_log(
    proc: subprocess.Popen, log: Path, pattern: re.Pattern[str], timeout: float, what: str
) -> re.Match[str]:
    """Poll the log for `pattern`; ServeStartError if the process exits or time runs out."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        m = pattern.search(log.read_text())
        if m:
            return m
        if proc.poll() is not None:
            raise ServeStartError(f"sre-bot serve exited at start-up:\n{log.read_text()[-2000:]}")
        time.sleep(0.05)  # polling interval while the process starts
    raise ServeStartError(f"sre-bot serve did not {what} in {timeout:.0f} s")


def stop_process(proc: subprocess.Popen, timeout: float = 20.0) -> None:
    """Terminate, then kill if it does not go within `timeout`."""
    if proc.poll() is None:
        proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def serve_http(
    env: dict[str, str],
    timeout: float = 30.0,
    log: Path | None = None,
    *,
    wait_workers: bool = False,
) -> Iterator[int]:
    """Run `sre-bot serve --http --port 0`; yields its port; stops it. Logs to `log` if given.
    With `wait_workers`, yields only once its investigation workers are ready too."""
    with tempfile.TemporaryDirectory() as tmp:
        log = log or Path(tmp) / "serve.log"
        proc = start_serve(env, log)
        try:
            port = port_of(proc, log, timeout)
            if wait_workers:
                workers_ready(proc, log, timeout)
            yield port
        finally:
            stop_process(proc)
