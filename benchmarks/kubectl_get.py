"""Benchmark: `kubectl get pods -A` against a sandbox holding 5,000 pods in 100 namespaces.

Target: median under 300 ms. Uses `sandbox.generate` when it exists; otherwise builds the
objects itself into a bare World-like object (the API layer needs only store, clock, sync).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sandbox.clock import SandboxClock  # noqa: E402
from sandbox.server import Sandbox  # noqa: E402
from sandbox.store import ObjectStore  # noqa: E402

PODS, NAMESPACES, RUNS = 5000, 100, 7


class _GeneratedWorld:
    """Objects only: no controllers, so every request measures the API layer itself."""

    def __init__(self) -> None:
        self.store = ObjectStore()
        self.clock = SandboxClock(datetime.now(UTC))
        self.executed: list[tuple[str, str]] = []
        stamp = self.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
        for n in range(NAMESPACES):
            ns = f"team-{n:03d}"
            self.store.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
            for i in range(PODS // NAMESPACES):
                self.store.create(_pod(ns, f"web-{i:03d}-abcde", stamp), now=stamp)

    def sync(self) -> None:
        """Nothing changes by itself here."""

    def record_write(self, verb: str, ref: str) -> None:
        """Writes are not benchmarked, but keep the contract."""
        self.executed.append((verb, ref))


def _pod(ns: str, name: str, stamp: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "labels": {"app": "web"}},
        "spec": {"nodeName": "node-a", "containers": [{"name": "app", "image": "web:1"}]},
        "status": {
            "phase": "Running",
            "podIP": "10.0.0.1",
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [
                {
                    "name": "app",
                    "ready": True,
                    "restartCount": 0,
                    "state": {"running": {"startedAt": stamp}},
                }
            ],
        },
    }


def _world():
    try:
        from sandbox import generate  # type: ignore[attr-defined]
    except ImportError:
        return _GeneratedWorld()
    return generate.world(pods=PODS, namespaces=NAMESPACES)  # pragma: no cover - when present


def main() -> int:
    """Run the benchmark and print the median; exit 1 when over the target."""
    world = _world()
    with Sandbox.for_world(world) as sb, tempfile.TemporaryDirectory() as cache:
        cmd = [
            "kubectl",
            f"--kubeconfig={sb.kubeconfig}",
            f"--cache-dir={cache}",
            "get",
            "pods",
            "-A",
        ]
        subprocess.run(cmd, capture_output=True, check=True)  # warm the discovery cache
        times = []
        for _ in range(RUNS):
            t0 = time.perf_counter()
            p = subprocess.run(cmd, capture_output=True, text=True, check=True)
            times.append(time.perf_counter() - t0)
        rows = len(p.stdout.splitlines()) - 1
    median = statistics.median(times) * 1000
    print(
        f"kubectl get pods -A: {rows} pods, median {median:.0f} ms over {RUNS} runs "
        f"(min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f}); target < 300 ms"
    )
    return 0 if median < 300 and rows == PODS else 1


if __name__ == "__main__":
    sys.exit(main())
