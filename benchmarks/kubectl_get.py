"""Benchmark: `kubectl get pods -A` against a sandbox holding 5,000 pods in 100 namespaces.

    .venv/bin/python benchmarks/kubectl_get.py [--pods 5000] [--namespaces 100] [--runs 7]

The world is the generated scenario (`sandbox.generate`) with its controllers live, as
`sre-bot sandbox serve` runs it. Target: median under 300 ms. Exits 1 when missed.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sandbox.generate import write_scenario  # noqa: E402
from sandbox.server import Sandbox  # noqa: E402

TARGET_MS = 300.0


def main() -> int:
    """Serve the generated world, time `kubectl get pods -A`, print the median."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pods", type=int, default=5000)
    parser.add_argument("--namespaces", type=int, default=100)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = write_scenario(Path(tmp) / "generated.yaml", args.pods, args.namespaces)
        with Sandbox(path) as sb:
            cmd = [
                "kubectl",
                f"--kubeconfig={sb.kubeconfig}",
                f"--cache-dir={Path(tmp) / 'kube-cache'}",
                "get",
                "pods",
                "-A",
            ]
            subprocess.run(cmd, capture_output=True, check=True)  # warm the discovery cache
            times = []
            for _ in range(args.runs):
                t0 = time.perf_counter()
                p = subprocess.run(cmd, capture_output=True, text=True, check=True)
                times.append(time.perf_counter() - t0)
            rows = len(p.stdout.splitlines()) - 1
    median = statistics.median(times) * 1000
    print(
        f"kubectl get pods -A: {rows} pods, median {median:.0f} ms over {args.runs} runs "
        f"(min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f}); target < {TARGET_MS:.0f} ms"
    )
    return 0 if median < TARGET_MS and rows == args.pods else 1


if __name__ == "__main__":
    sys.exit(main())
