"""Real `sre-bot serve --http` replicas for the scale-out benchmark, each logging to a file."""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.serve_process import SRE_BOT


class ReplicaStartError(RuntimeError):
    """A replica exited or did not bind a port at start-up; its log says why."""


@contextmanager
def serving_replicas(n: int, env: dict[str, str], logs: Path) -> Iterator[list[int]]:
    """Start `n` `sre-bot serve --http --port 0` processes at once; yield their ports; stop them."""
    procs: list[tuple[subprocess.Popen, Path]] = []
    try:
        for i in range(n):
            log = logs / f"replica-{i}.log"
            with log.open("w") as out:  # the child keeps its own descriptor
                cmd = [str(SRE_BOT), "serve", "--http", "--host", "127.0.0.1", "--port", "0"]
                proc = subprocess.Popen(
                    cmd, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT
                )
            procs.append((proc, log))
        yield [_port_of(proc, log) for proc, log in procs]
    finally:
        for proc, _ in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc, _ in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _port_of(proc: subprocess.Popen, log: Path, timeout: float = 120.0) -> int:
    """uvicorn logs the port it bound; poll the log for it (not a blind sleep)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        m = re.search(r"Uvicorn running on http://127\.0\.0\.1:(\d+)", log.read_text())
        if m:
            return int(m[1])
        if proc.poll() is not None:
            raise ReplicaStartError(f"a replica exited at start-up:\n{log.read_text()[-2000:]}")
        time.sleep(0.05)  # polling interval while the process starts
    raise ReplicaStartError(f"a replica did not report its port in {timeout:.0f} s")
