"""A real `redis-server` on a free loopback port, for tests (one per xdist worker is enough).

redis-server has no `--port 0`, so we ask the kernel for a free port by binding a socket,
then start the server there; if another process grabbed the port meanwhile we retry.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis

from tests.support.serve_process import stop_process

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


@dataclass
class RedisServer:
    """A running redis-server: its URL, a client, and a way to make unique key prefixes."""

    port: int
    process: subprocess.Popen

    @property
    def url(self) -> str:
        """`redis://127.0.0.1:PORT/0`."""
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        """A fresh client (callers close it)."""
        return redis.Redis(host="127.0.0.1", port=self.port)

    def url_with_prefix(self, prefix: str | None = None) -> str:
        """The URL with a unique `?prefix=` so tests sharing this server do not see each other."""
        return f"{self.url}?prefix={prefix or new_prefix()}"


def new_prefix() -> str:
    """A key prefix no other test uses."""
    return f"t-{uuid.uuid4().hex[:12]}"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_ready(port: int, proc: subprocess.Popen, timeout: float) -> bool:
    """Poll PING until it answers, the process dies, or the timeout passes."""
    deadline = time.monotonic() + timeout
    client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.5)
    try:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                return False
            try:
                if client.ping():
                    return True
            except redis.ConnectionError:
                time.sleep(0.02)  # polling interval while the server starts, not a sync point
        return False
    finally:
        client.close()


@contextmanager
def running_redis(workdir: Path, timeout: float = 10.0) -> Iterator[RedisServer]:
    """Start redis-server (no persistence) on a free port; stop it on exit."""
    workdir.mkdir(parents=True, exist_ok=True)
    for _attempt in range(5):
        port = _free_port()
        proc = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port", str(port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "no",
                "--dir", str(workdir),
                "--logfile", str(workdir / f"redis-{port}.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        if _wait_ready(port, proc, timeout):
            break
        proc.kill()
        proc.wait()
    else:
        raise RuntimeError(f"redis-server did not start; see logs under {workdir}")
    try:
        yield RedisServer(port=port, process=proc)
    finally:
        stop_process(proc, timeout=10)
