"""Kill-switch delay: from a deadline to its rollback, over N concurrent watched changes.

100 generated Deployments are served by the sandbox; each gets a real `kubectl rollout
restart`-style fix through the executor, armed under the kill switch in `human` mode (nobody
presses Keep, so every fix must be rolled back at its deadline). A sweeper thread runs as
`serve` runs it (every 0.5 s). The delay is `rolled_back_at - deadline`, where
`rolled_back_at` is when the restore was written to the API server.

    .venv/bin/python benchmarks/killswitch_delay.py [--changes 100] [--window 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agents.models import Proposal, Verb  # noqa: E402
from agents.tools.cluster import Cluster  # noqa: E402
from approvals.books import SQLiteDeadlineBook  # noqa: E402
from approvals.executor import Executor  # noqa: E402
from approvals.killswitch import KillSwitch, WatchState  # noqa: E402
from approvals.policy import Confirmation  # noqa: E402
from sandbox.generate import generate_scenario  # noqa: E402
from sandbox.server import Sandbox  # noqa: E402


def main() -> int:
    """Arm N fixes, sweep as serve does, print median and worst deadline-to-rollback delay."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--changes", type=int, default=100)
    ap.add_argument("--window", type=float, default=5.0)
    ap.add_argument("--interval", type=float, default=0.5, help="sweeper interval (serve: 0.5)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ks-bench-"))
    scenario = tmp / "many.yaml"
    doc = generate_scenario(pods=args.changes, namespaces=1, per_deployment=1)
    scenario.write_text(yaml.safe_dump(doc))
    sb = Sandbox(scenario, port=0).start()
    try:
        executor = Executor(Cluster.connect(sb.kubeconfig, sb.prometheus_url).api)
        ks = KillSwitch(SQLiteDeadlineBook(tmp / "bot.db"), executor)
        t0 = time.time()
        records = [
            executor.execute(
                Proposal(
                    verb=Verb.ROLLOUT_RESTART,
                    target=f"Deployment/team-000/app-{i:03d}",
                    rationale="bench",
                )
            )
            for i in range(args.changes)
        ]
        applied = time.time() - t0
        # Armed together, so all the deadlines fall within a few milliseconds of each other.
        t0 = time.time()
        ids = [
            ks.arm(
                f"bench:{i}",
                "bench",
                record,
                window_seconds=args.window,
                confirmation=Confirmation.HUMAN,
            ).id
            for i, record in enumerate(records)
        ]
        armed = time.time() - t0
        stop = threading.Event()

        def sweeper() -> None:  # what ApprovalFlow.run does in serve
            while not stop.is_set():
                ks.sweep()
                stop.wait(args.interval)

        thread = threading.Thread(target=sweeper, daemon=True)
        thread.start()
        end = time.time() + args.window + 120
        while time.time() < end and ks.watching():
            time.sleep(0.2)
        stop.set()
        thread.join(timeout=60)
        delays, states = [], {}
        for fix_id in ids:
            fix = ks.get(fix_id)
            states[fix.state.value] = states.get(fix.state.value, 0) + 1
            if fix.state == WatchState.ROLLED_BACK and fix.record.rolled_back_at:
                delays.append(fix.record.rolled_back_at.timestamp() - fix.deadline)
        ks.close()
    finally:
        sb.stop()
    delays.sort()
    print(f"changes: {args.changes}  window: {args.window}s  sweeper interval: {args.interval}s")
    print(f"applied in {applied:.1f}s, armed in {armed:.2f}s; outcomes: {states}")
    if delays:
        p95 = delays[min(len(delays) - 1, int(0.95 * len(delays)))]
        print(
            f"deadline -> rollback written: median {statistics.median(delays) * 1000:.0f} ms, "
            f"p95 {p95 * 1000:.0f} ms, worst {delays[-1] * 1000:.0f} ms, "
            f"best {delays[0] * 1000:.0f} ms"
        )
    return 0 if delays and len(delays) == args.changes else 1


if __name__ == "__main__":
    raise SystemExit(main())
