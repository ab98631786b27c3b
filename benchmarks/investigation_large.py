"""Benchmark: a namespaced rules-engine investigation in the generated 5,000-pod cluster.

    .venv/bin/python benchmarks/investigation_large.py [--pods 5000] [--namespaces 100] [--runs 3]

The sandbox runs in its own process (`sre-bot sandbox serve --json`), so the peak memory
printed is the investigating process's alone, as the bot would see it. Targets: 5 s or less
per investigation, 400 MB or less peak RSS. Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from agents.investigation import investigate  # noqa: E402
from agents.models import Trigger, TriggerSource  # noqa: E402
from agents.tools.cluster import Cluster  # noqa: E402
from sandbox.generate import write_scenario  # noqa: E402

TARGET_SECONDS = 5.0
TARGET_MB = 400.0


def main() -> int:
    """Serve the generated cluster in a subprocess, investigate one namespace, print figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pods", type=int, default=5000)
    parser.add_argument("--namespaces", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = write_scenario(Path(tmp) / "generated.yaml", args.pods, args.namespaces)
        server = subprocess.Popen(
            [str(Path(sys.executable).parent / "sre-bot"), "sandbox", "serve", str(path), "--json"],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            ready = json.loads(server.stdout.readline())  # type: ignore[union-attr]
            cluster = Cluster.connect(ready["kubeconfig"], ready["prometheus"])
            # The generated cluster's one fault: the first Deployment of the first namespace.
            trigger = Trigger(source=TriggerSource.SLASH, text="team-000 app-000 is failing")
            times, result = [], None
            for _ in range(args.runs):
                t0 = time.perf_counter()
                result = investigate(trigger, cluster)
                times.append(time.perf_counter() - t0)
        finally:
            server.terminate()
            server.wait(timeout=30)
    median = statistics.median(times)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert result is not None
    print(f"cluster: {args.pods} pods in {args.namespaces} namespaces (sandbox in its own process)")
    print(
        f"namespaced investigation: median {median:.2f} s over {args.runs} runs "
        f"(min {min(times):.2f}, max {max(times):.2f}); target <= {TARGET_SECONDS:.0f} s"
    )
    print(f"peak RSS of the investigating process: {peak_mb:.0f} MB; target <= {TARGET_MB:.0f} MB")
    d = result.diagnosis
    print(f"diagnosis: {d.root_cause} ({d.category.value}); proposals: {len(result.proposals)}")
    return 0 if median <= TARGET_SECONDS and peak_mb <= TARGET_MB else 1


if __name__ == "__main__":
    sys.exit(main())
