"""A real Prometheus for tests: backfill series with promtool, serve them, stop it afterwards.

    with RealPrometheus.backfilled(series, workdir) as prom:
        httpx.get(prom.url + "/api/v1/query", params={"query": "up", "time": t})

`prom.url` ends in `/prometheus` (the server runs with --web.route-prefix=/prometheus,
as the sandbox serves its API). Series may not hold staleness markers: OpenMetrics
cannot express them.
"""

from __future__ import annotations

import math
import shutil
import socket
import subprocess
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from sandbox.series import Series, is_stale
from tests.support.serve_process import stop_process

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"


class PrometheusStartError(RuntimeError):
    """Prometheus or promtool failed; the message carries their output."""


def _om_value(v: float) -> str:
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    return repr(float(v))


def _om_labels(labels: dict[str, str]) -> str:
    pairs = []
    for k, v in sorted(labels.items()):
        if k == "__name__":
            continue
        escaped = v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        pairs.append(f'{k}="{escaped}"')
    return "{" + ",".join(pairs) + "}" if pairs else ""


def openmetrics(series: Iterable[Series]) -> str:
    """OpenMetrics text with timestamps, one family's series kept together, samples ascending."""
    lines = []
    for s in sorted(series, key=lambda s: (s.labels.get("__name__", ""), sorted(s.labels.items()))):
        name = s.labels["__name__"]
        for t, v in sorted(s.samples):
            if is_stale(v):
                raise ValueError(f"{name}: OpenMetrics cannot express staleness markers")
            lines.append(f"{name}{_om_labels(s.labels)} {_om_value(v)} {t:.3f}")
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RealPrometheus:
    """A running prometheus process serving backfilled blocks."""

    url: str
    process: subprocess.Popen[bytes]

    @classmethod
    @contextmanager
    def backfilled(
        cls, series: Iterable[Series], workdir: Path, timeout: float = 30.0
    ) -> Iterator[RealPrometheus]:
        """Backfill `series` into a fresh TSDB under `workdir`, serve it, and stop it on exit."""
        data = workdir / "data"
        data.mkdir(parents=True)
        source = workdir / "series.om"
        source.write_text(openmetrics(series))
        done = subprocess.run(
            [PROMTOOL, "tsdb", "create-blocks-from", "openmetrics", "-q", str(source), str(data)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode != 0:
            raise PrometheusStartError(f"promtool failed: {done.stdout}{done.stderr}")
        config = workdir / "prometheus.yml"
        config.write_text("global:\n  scrape_interval: 1h\n")
        last_error = ""
        for _attempt in range(3):  # a freed port can be taken again before prometheus binds it
            port = _free_port()
            log = (workdir / f"prometheus-{port}.log").open("wb")
            proc = subprocess.Popen(
                [
                    PROMETHEUS,
                    f"--config.file={config}",
                    f"--storage.tsdb.path={data}",
                    f"--web.listen-address=127.0.0.1:{port}",
                    "--web.route-prefix=/prometheus",
                    "--storage.tsdb.retention.time=3650d",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            url = f"http://127.0.0.1:{port}/prometheus"
            try:
                if _wait_ready(url, proc, timeout):
                    try:
                        yield cls(url, proc)
                    finally:
                        stop_process(proc, timeout=10)
                        log.close()
                    return
                last_error = (workdir / f"prometheus-{port}.log").read_text(errors="replace")
            finally:
                if proc.poll() is None:
                    stop_process(proc, timeout=10)
                log.close()
        raise PrometheusStartError(f"prometheus did not become ready:\n{last_error[-3000:]}")


def _wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            if httpx.get(url + "/-/ready", timeout=1.0).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.05)  # polling interval while waiting for readiness, not synchronisation
    return False
