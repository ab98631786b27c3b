"""Real `sre-bot serve --http` replicas for the scale-out benchmark, each logging to a file."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.serve_process import ServeStartError, port_of, start_serve, stop_process

# The benchmark reports a replica that cannot start under this name.
ReplicaStartError = ServeStartError


@contextmanager
def serving_replicas(n: int, env: dict[str, str], logs: Path) -> Iterator[list[int]]:
    """Start `n` `sre-bot serve --http --port 0` processes at once; yield their ports; stop them."""
    procs: list[tuple[subprocess.Popen, Path]] = []
    try:
        for i in range(n):
            log = logs / f"replica-{i}.log"
            procs.append((start_serve(env, log), log))
        yield [port_of(proc, log, timeout=120) for proc, log in procs]
    finally:
        for proc, _ in procs:
            stop_process(proc)
