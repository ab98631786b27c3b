"""Benchmark: one rules-engine investigation per bundled scenario, and parallel fan-out.

    .venv/bin/python benchmarks/investigation.py [--runs 3] [--latency 0.3]

Prints the median wall time of `investigate()` per bundled scenario and the median over all
of them (target <= 2 s), then,
with latency injected into every sandbox API response, the fan-out's wall time against the
slowest specialist (target <= 1.3x: the specialists run in parallel, not one after another).
Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from agents.investigation import investigate  # noqa: E402
from agents.models import ProgressEvent  # noqa: E402
from agents.tools.cluster import Cluster  # noqa: E402
from bot.eval import trigger_of  # noqa: E402
from sandbox.scenario import bundled_scenarios, load_scenario  # noqa: E402
from sandbox.server import Sandbox  # noqa: E402

TARGET_SECONDS = 2.0
TARGET_FAN_OUT_RATIO = 1.3


def median_investigation(path: Path, runs: int) -> float:
    """Median seconds of `investigate()` for one scenario (sandbox start not counted)."""
    scenario = load_scenario(path)
    sb = Sandbox(path, port=0).start()
    try:
        cluster = Cluster.connect(sb.kubeconfig, sb.prometheus_url)
        trigger = trigger_of(scenario, sb.world)
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            investigate(trigger, cluster)
            times.append(time.perf_counter() - t0)
        return statistics.median(times)
    finally:
        sb.stop()


def fan_out(path: Path, latency: float) -> tuple[float, dict[str, float]]:
    """Wall time of the first round's fan-out and each specialist's own time."""
    lock = threading.Lock()
    started: dict[str, float] = {}
    done: dict[str, float] = {}

    def on_progress(e: ProgressEvent) -> None:
        with lock:
            if e.kind == "specialist_started":
                started.setdefault(e.specialist, time.perf_counter())
            elif e.kind == "specialist_done":
                done.setdefault(e.specialist, time.perf_counter())

    scenario = load_scenario(path)
    sb = Sandbox(path, port=0, latency=latency).start()
    try:
        cluster = Cluster.connect(sb.kubeconfig, sb.prometheus_url)
        investigate(trigger_of(scenario, sb.world), cluster, on_progress=on_progress, max_rounds=1)
    finally:
        sb.stop()
    each = {n: done[n] - started[n] for n in done}
    return max(done.values()) - min(started.values()), each


def main() -> int:
    """Run both measurements and print them; 1 when a target is missed."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--latency", type=float, default=0.3)
    args = ap.parse_args()
    ok = True
    print(f"rules-engine investigation per bundled scenario, median of {args.runs} runs each")
    per_scenario = []
    for path in bundled_scenarios():
        seconds = median_investigation(path, args.runs)
        per_scenario.append(seconds)
        rounds = "" if seconds <= TARGET_SECONDS else "  (over the target alone)"
        print(f"  {path.stem:45s} {seconds:6.2f} s{rounds}")
    overall = statistics.median(per_scenario)
    ok &= overall <= TARGET_SECONDS
    print(
        f"  median over the bundled scenarios: {overall:.2f} s (target <= {TARGET_SECONDS:.1f} s) "
        f"{'ok' if overall <= TARGET_SECONDS else 'MISSED'}; slowest {max(per_scenario):.2f} s"
    )

    path = bundled_scenarios()[0]
    total, each = fan_out(path, args.latency)
    slowest = max(each.values())
    ratio = total / slowest
    ok &= ratio <= TARGET_FAN_OUT_RATIO
    print(f"fan-out with {args.latency * 1000:.0f} ms API latency ({path.stem}):")
    for name, secs in sorted(each.items(), key=lambda kv: -kv[1]):
        print(f"  {name:12s} {secs:6.2f} s")
    print(
        f"  fan-out {total:.2f} s vs slowest {slowest:.2f} s (sum {sum(each.values()):.2f} s): "
        f"{ratio:.2f}x (target <= {TARGET_FAN_OUT_RATIO}x) {'ok' if ratio <= TARGET_FAN_OUT_RATIO else 'MISSED'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
