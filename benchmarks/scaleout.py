"""Benchmark: many concurrent incidents across several `sre-bot serve --http` replicas on one Redis.

    .venv/bin/python benchmarks/scaleout.py [--incidents 200] [--replicas 3] [--window 30]

One real `redis-server`, N real `sre-bot serve --http` subprocesses, a Slack Web API double and
one sandbox serving a generated cluster with one broken `checkout-api` per namespace (the
`checkout-missing-env` fault: the last release dropped DATABASE_URL; `rollout undo` heals).
Each incident is opened by a signed `/sre investigate` on replica i mod N and approved by a
signed button press on the next replica. Then, by incident number mod 4:
  0, 1  the previous revision is healthy: the kill switch confirms the fix (kept);
  2     the previous revision never gets Ready: rolled back when the deadline passes;
  3     likewise, but "Roll back now" is pressed on a third replica before the deadline.
Reports: lost or doubled executions (audit log and the sandbox's served writes, per proposal),
deadline-to-rollback delay p50/p99, `/sre investigate` ack latency p99, and wall time.
Exits 1 when an execution is lost or doubled, or an incident ends other than planned.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
import yaml  # noqa: E402

from approvals.stores import open_stores  # noqa: E402
from benchmarks.scaleout_checks import APPROVERS, OUTCOMES, POLL, Tracked, settle  # noqa: E402
from benchmarks.scaleout_replicas import ReplicaStartError, serving_replicas  # noqa: E402
from benchmarks.scaleout_world import (  # noqa: E402
    DEADLINE,
    ROLL_BACK_NOW,
    namespace_of,
    plan_of,
    scenario,
)
from sandbox.server import Sandbox  # noqa: E402
from tests.support.bot_runtime import BOT_TOKEN, SIGNING_SECRET, BotHarness  # noqa: E402
from tests.support.redis_server import running_redis  # noqa: E402
from tests.support.slack_double import SlackDouble  # noqa: E402


class BenchmarkError(RuntimeError):
    """The benchmark could not run to the end (an incident stalled, a replica died)."""


# -- one incident, as the driver follows it -----------------------------------------------


@dataclass
class ScaleoutResult:
    """The figures of one run, and every invariant violation found."""

    incidents: int
    replicas: int
    window: float
    wall_seconds: float
    ack_seconds: list[float]
    rollback_delays: list[float]
    outcomes: Counter = field(default_factory=Counter)
    refused: Counter = field(default_factory=Counter)
    violations: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No lost or doubled execution, and every incident ended as planned."""
        return not self.violations

    def report(self) -> str:
        """The lines the benchmark prints (and README records)."""
        lines = [
            f"incidents: {self.incidents}  replicas: {self.replicas}  "
            f"kill-switch window: {self.window:g} s",
            "outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(self.outcomes.items())),
            f"/sre investigate ack latency: p50 {_ms(pct(self.ack_seconds, 50))}  "
            f"p99 {_ms(pct(self.ack_seconds, 99))}  max {_ms(max(self.ack_seconds, default=0))}",
            f"deadline-to-rollback delay ({len(self.rollback_delays)} deadline rollbacks): "
            f"p50 {_ms(pct(self.rollback_delays, 50))}  p99 {_ms(pct(self.rollback_delays, 99))}",
            "button presses refused and pressed again: "
            + (", ".join(f"{k} x{v}" for k, v in sorted(self.refused.items())) or "none"),
            f"lost or doubled executions: {len(self.violations)}",
            f"wall time: {self.wall_seconds:.1f} s",
        ]
        lines += [f"  VIOLATION {v}" for v in self.violations[:20]]
        return "\n".join(lines)


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank); 0 when there are no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


# -- the driver -------------------------------------------------------------------------------

PRESS_ATTEMPTS, PRESS_AGAIN = 5, 1.0  # a refused press is pressed again, as a person would


def _button_value(blocks: list[dict[str, Any]], action_id: str) -> str | None:
    for block in blocks or []:
        for el in block.get("elements") or []:
            if el.get("action_id") == action_id:
                return el["value"]
    return None


class Driver:
    """Opens every incident, presses its buttons on other replicas, and watches it end."""

    def __init__(self, bots: list[BotHarness], slack: SlackDouble, stores: Any, n: int) -> None:
        self.bots, self.slack, self.stores = bots, slack, stores
        self.tracked = [Tracked(i, plan_of(i), i % len(bots)) for i in range(n)]
        self._by_channel = {t.channel: t for t in self.tracked}
        self._by_thread: dict[str, Tracked] = {}
        self._cursor = 0
        self._pending_thread: list[Any] = []  # thread replies whose incident is not seen yet
        self._errors: list[str] = []
        self.refused: Counter = Counter()  # presses the bot did not ack, by action and answer
        self._lock = threading.Lock()

    def run(self, timeout: float) -> float:
        """Drive every incident to its end; returns the wall time from the first command."""
        with ThreadPoolExecutor(max_workers=min(64, len(self.tracked))) as pool:
            start = time.perf_counter()
            for t in self.tracked:
                pool.submit(self._open, t)
            end = time.monotonic() + timeout
            while not all(t.outcome for t in self.tracked):
                self._look(pool)
                stalled = [t for t in self.tracked if t.status in ("diagnosed", "failed")]
                if stalled or self._errors:
                    detail = [f"{namespace_of(t.i)}: {t.status}" for t in stalled[:5]]
                    raise BenchmarkError("; ".join(self._errors[:5] + detail))
                if time.monotonic() > end:
                    raise BenchmarkError(f"not finished in {timeout:.0f} s: {self._progress()}")
                time.sleep(POLL)
            return time.perf_counter() - start

    def _progress(self) -> str:
        c = Counter(
            "ended"
            if t.outcome
            else "armed"
            if t.fix_id
            else "approved"
            if t.approved_on is not None
            else "opened"
            if t.thread_ts
            else "not opened"
            for t in self.tracked
        )
        return ", ".join(f"{k} {v}" for k, v in sorted(c.items()))

    # -- requests, from the pool ----------------------------------------------------------

    def _open(self, t: Tracked) -> None:
        text = f"investigate checkout-api in {namespace_of(t.i)} is throwing 500s since 10:05"
        began = time.perf_counter()
        try:
            r = self.bots[t.opener].slash(text, channel=t.channel, user="U111")
        except httpx.HTTPError as e:
            self._fail(f"/sre investigate for {namespace_of(t.i)} failed: {e!r}")
            return
        t.ack_seconds = time.perf_counter() - began
        if r.status_code != 200:
            self._fail(
                f"/sre investigate for {namespace_of(t.i)}: HTTP {r.status_code} {r.text[:200]}"
            )

    def _press(self, t: Tracked, replica: int, action_id: str, value: str, user: str) -> None:
        """Press as a person would: when Slack shows an error, press again a moment later."""
        for _attempt in range(PRESS_ATTEMPTS):
            try:
                r = self.bots[replica].press(
                    action_id, value, channel=t.channel, message_ts=t.thread_ts or "1.1", user=user
                )
            except httpx.HTTPError as e:
                self._fail(f"{action_id} for {namespace_of(t.i)} failed: {e!r}")
                return
            if r.status_code == 200:
                return
            with self._lock:
                self.refused[f"{action_id}: HTTP {r.status_code} {r.text[:60]}"] += 1
            time.sleep(PRESS_AGAIN)  # the person's pause before pressing again
        self._fail(f"{action_id} for {namespace_of(t.i)} refused {PRESS_ATTEMPTS} times")

    def _fail(self, message: str) -> None:
        with self._lock:
            self._errors.append(message)

    # -- one look at Slack and the store --------------------------------------------------

    def _look(self, pool: ThreadPoolExecutor) -> None:
        if any(t.thread_ts is None or not t.approve_value for t in self.tracked):
            for rec in self.stores.state.list_incidents(limit=len(self.tracked) + 10):
                t = self._by_channel.get(rec.channel or "")
                if t is not None and rec.thread_ts:
                    t.incident_id, t.thread_ts, t.status = rec.id, rec.thread_ts, rec.status
                    self._by_thread[rec.thread_ts] = t
        calls = self.slack.calls[self._cursor :]  # a slice of a list is atomic under the GIL
        self._cursor += len(calls)
        for call in calls:
            if call.method != "chat.postMessage" or not call.args.get("thread_ts"):
                continue
            self._pending_thread.append(call)
        waiting = []
        for call in self._pending_thread:
            t = self._by_thread.get(call.args["thread_ts"])
            if t is None:
                waiting.append(call)  # its incident record is not seen yet
                continue
            blocks = call.args.get("blocks") or []
            if t.approve_value is None and (value := _button_value(blocks, "approve")):
                t.approve_value, t.approved_on = value, (t.opener + 1) % len(self.bots)
                pool.submit(self._press, t, t.approved_on, "approve", value, APPROVERS[0])
            value = _button_value(blocks, "roll_back_now")
            if value and t.plan == ROLL_BACK_NOW and not t.pressed_roll_back:
                t.pressed_roll_back = True
                other = (t.opener + 2) % len(self.bots)
                pool.submit(self._press, t, other, "roll_back_now", value, APPROVERS[1])
        self._pending_thread = waiting
        by_incident: dict[str, list[Any]] = {}
        for e in self.stores.audit.events():
            by_incident.setdefault(e.incident_id, []).append(e)
        for t in self.tracked:
            for e in by_incident.get(t.incident_id or "", []):
                if e.action == "killswitch.armed" and t.fix_id is None:
                    t.fix_id, t.deadline = e.detail["fix"], float(e.detail["deadline"])
                elif e.action in OUTCOMES and t.outcome is None:
                    t.outcome, t.outcome_at = e.action, e.at.timestamp()


# -- the run ------------------------------------------------------------------------------


def run(
    incidents: int = 200,
    replicas: int = 3,
    window: float = 30.0,
    timeout: float = 900.0,
    settle_seconds: float = 2.0,
    logs: Path | None = None,
) -> ScaleoutResult:
    """Start Redis, the sandbox, the Slack double and the replicas; drive; check; stop them."""
    if incidents < 1 or replicas < 3:
        raise ValueError("at least 1 incident and 3 replicas (open, approve, roll back)")
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="scaleout-")))
        path = tmp / "scenario.yaml"
        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        path.write_text(yaml.dump(scenario(incidents), Dumper=dumper, sort_keys=False))
        sb = Sandbox(path, port=0).start()
        stack.callback(sb.stop)
        redis_server = stack.enter_context(running_redis(tmp / "redis"))
        url = redis_server.url_with_prefix()
        stores = open_stores(url)
        stack.callback(stores.close)
        slack = stack.enter_context(SlackDouble())
        env = {
            "SRE_BOT_STORE": url,
            "SRE_BOT_SLACK_API_URL": slack.base_url,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "KUBECONFIG": str(sb.kubeconfig),
            "SRE_BOT_PROMETHEUS_URL": sb.prometheus_url,
            "SRE_BOT_APPROVERS": ",".join(APPROVERS),
            "SRE_BOT_KILL_SWITCH_SECONDS": str(int(window)),
            "SRE_BOT_ENGINE": "rules",
        }
        if logs is not None:
            logs.mkdir(parents=True, exist_ok=True)
        ports = stack.enter_context(serving_replicas(replicas, env, logs or tmp))
        limits = httpx.Limits(max_connections=256, max_keepalive_connections=64)
        http = stack.enter_context(httpx.Client(timeout=120, limits=limits))
        bots = [
            BotHarness(bot=None, url=f"http://127.0.0.1:{p}", slack=slack, http=http) for p in ports
        ]  # type: ignore[arg-type]
        driver = Driver(bots, slack, stores, incidents)
        wall = driver.run(timeout)
        found = settle(driver.tracked, stores, sb.world, settle_seconds)
        tracked = driver.tracked
        return ScaleoutResult(
            incidents=incidents,
            replicas=replicas,
            window=float(int(window)),
            wall_seconds=wall,
            ack_seconds=[t.ack_seconds for t in tracked if t.ack_seconds is not None],
            rollback_delays=[
                t.outcome_at - t.deadline
                for t in tracked
                if t.plan == DEADLINE and t.outcome_at is not None and t.deadline is not None
            ],
            outcomes=Counter(_outcome(t) for t in tracked),
            refused=driver.refused,
            violations=found,
        )


def _outcome(t: Tracked) -> str:
    if t.outcome == "fix.rolled_back":
        return "rolled back (pressed)" if t.plan == ROLL_BACK_NOW else "rolled back (deadline)"
    return (t.outcome or "none").removeprefix("fix.")


def main(argv: list[str] | None = None) -> int:
    """The command line; prints the report; exits 1 on any violation."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--incidents", type=int, default=200)
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--window", type=float, default=30.0, help="kill-switch seconds")
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--logs", type=Path, help="keep the replicas' logs in this folder")
    parser.add_argument("--json", action="store_true", help="one JSON line instead of text")
    args = parser.parse_args(argv)
    try:
        result = run(args.incidents, args.replicas, args.window, args.timeout, logs=args.logs)
    except (BenchmarkError, ReplicaStartError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(
            json.dumps(
                {
                    "incidents": result.incidents,
                    "replicas": result.replicas,
                    "ack_p99_s": pct(result.ack_seconds, 99),
                    "rollback_delay_p50_s": pct(result.rollback_delays, 50),
                    "rollback_delay_p99_s": pct(result.rollback_delays, 99),
                    "wall_s": result.wall_seconds,
                    "violations": result.violations,
                }
            )
        )
    else:
        print(result.report())
    return 0 if result.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
