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
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
import yaml  # noqa: E402

from approvals.stores import open_stores  # noqa: E402
from sandbox.server import Sandbox  # noqa: E402
from tests.support.bot_runtime import BOT_TOKEN, SIGNING_SECRET, BotHarness  # noqa: E402
from tests.support.redis_server import running_redis  # noqa: E402
from tests.support.serve_process import SRE_BOT  # noqa: E402
from tests.support.slack_double import SlackDouble  # noqa: E402

APPROVERS = ("U222", "U333")
KEPT, DEADLINE, ROLL_BACK_NOW = "kept", "deadline rollback", "roll back now"
PLANS = (KEPT, KEPT, DEADLINE, ROLL_BACK_NOW)


class BenchmarkError(RuntimeError):
    """The benchmark could not run to the end (an incident stalled, a replica died)."""


# -- the world ------------------------------------------------------------------------------


def plan_of(i: int) -> str:
    """How incident `i` is meant to end."""
    return PLANS[i % len(PLANS)]


def namespace_of(i: int) -> str:
    """The namespace holding incident `i`'s broken Deployment."""
    return f"shop-{i:03d}"


def _container(image: str, with_db: bool, ns: str) -> dict[str, Any]:
    env: list[dict[str, Any]] = [{"name": "LOG_LEVEL", "value": "info"}]
    if with_db:
        env.append(
            {"name": "DATABASE_URL", "valueFrom": {"secretKeyRef": {"name": "db", "key": "url"}}}
        )
    return {
        "name": "app",
        "image": image,
        "ports": [{"containerPort": 8080, "name": "http"}],
        "env": env,
        "readinessProbe": {"httpGet": {"path": "/healthz", "port": "http"}},
        "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"memory": "64Mi"}},
    }


def _replica_set(ns: str, name: str, revision: str, replicas: int, stamp: str, db: bool) -> dict:
    image = "registry.example.com/shop/checkout:" + ("2.13.2" if db else "2.14.0")
    labels = {"app": "checkout-api", "pod-template-hash": name.rsplit("-", 1)[1]}
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": name,
            "namespace": ns,
            "creationTimestamp": stamp,
            "labels": labels,
            "annotations": {"deployment.kubernetes.io/revision": revision},
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "name": "checkout-api",
                    "controller": True,
                }
            ],
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [_container(image, db, ns)]},
            },
        },
    }


def scenario(incidents: int) -> dict[str, Any]:
    """One broken checkout-api per namespace; the `deadline`/`roll back now` ones cannot heal."""
    nodes = max(2, -(-incidents * 2 // 100))
    objects: list[dict[str, Any]] = [
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": f"node-{n:03d}",
                "labels": {"kubernetes.io/hostname": f"node-{n:03d}", "kubernetes.io/os": "linux"},
            },
            "status": {
                "conditions": [{"type": "Ready", "status": "True"}],
                "allocatable": {"cpu": "64", "memory": "256Gi", "pods": "110"},
            },
        }
        for n in range(nodes)
    ]
    metrics, logs, faults = [], [], []
    for i in range(incidents):
        ns = namespace_of(i)
        objects += [
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}},
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "db", "namespace": ns},
                "type": "Opaque",
                "data": {"url": "cG9zdGdyZXM6Ly9kYjo1NDMyL2NoZWNrb3V0"},
            },
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {
                    "name": "checkout-api",
                    "namespace": ns,
                    "labels": {"app": "checkout-api"},
                    "annotations": {"deployment.kubernetes.io/revision": "7"},
                },
                "spec": {
                    "replicas": 2,
                    "selector": {"matchLabels": {"app": "checkout-api"}},
                    "template": {
                        "metadata": {"labels": {"app": "checkout-api"}},
                        "spec": {
                            "containers": [
                                _container("registry.example.com/shop/checkout:2.14.0", False, ns)
                            ]
                        },
                    },
                },
            },
            _replica_set(ns, "checkout-api-6b7f9c4d8", "7", 2, "2026-11-20T10:04:12Z", False),
            _replica_set(ns, "checkout-api-5c8d7b9f6", "6", 0, "2026-11-18T16:41:55Z", True),
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "checkout-api", "namespace": ns},
                "spec": {
                    "selector": {"app": "checkout-api"},
                    "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
                },
            },
        ]
        ok = f'http_requests_total{{namespace="{ns}",service="checkout-api",code="200"}}'
        metrics.append({"series": ok, "values": "100000+600x60"})
        logs.append(
            {
                "select": {"namespace": ns, "labels": {"app": "checkout-api"}},
                "text": "2026-11-20T10:29:58Z INFO  checkout-api listening on :8080\n",
            }
        )
        faults.append(
            {
                "name": f"missing-database-url-{i:03d}",
                "when": {
                    "pod": {
                        "namespace": ns,
                        "labels": {"app": "checkout-api"},
                        "env_missing": ["DATABASE_URL"],
                    }
                },
                "state": {"phase": "CrashLoopBackOff", "reason": "Error", "exit_code": 1},
                "logs": "2026-11-20T10:29:51Z FATAL config: required environment variable "
                "DATABASE_URL is not set\n",
                "metrics": [{"series": ok, "values": "100000+600x34 120400+0x25"}],
            }
        )
        if plan_of(i) != KEPT:
            # The previous release never gets Ready either: the undo cannot prove itself.
            faults.append(
                {
                    "name": f"previous-release-unready-{i:03d}",
                    "when": {
                        "pod": {
                            "namespace": ns,
                            "labels": {"app": "checkout-api"},
                            "image": "*:2.13.2",
                        }
                    },
                    "state": {"phase": "NotReady"},
                }
            )
    return {
        "name": f"scaleout-{incidents}",
        "summary": f"{incidents} namespaces, each with a checkout-api that lost DATABASE_URL.",
        "clock": "2026-11-20T10:30:00Z",
        "trigger": {"slash": f"checkout-api in {namespace_of(0)} is throwing 500s"},
        "objects": objects,
        "logs": logs,
        "metrics": metrics,
        "faults": faults,
        "answer": {
            "root_cause": {
                "resource": f"Deployment/{namespace_of(0)}/checkout-api",
                "category": ["Misconfiguration"],
                "evidence": ["DATABASE_URL"],
            },
            "fixed_when": {"healthy": [f"Deployment/{namespace_of(0)}/checkout-api"]},
        },
    }


# -- one incident, as the driver follows it -----------------------------------------------


@dataclass
class Tracked:
    """What the driver knows about one incident, from the Slack double and the shared store."""

    i: int
    plan: str
    opener: int
    ack_seconds: float | None = None
    incident_id: str | None = None
    thread_ts: str | None = None
    approve_value: str | None = None
    approved_on: int | None = None
    fix_id: str | None = None
    deadline: float | None = None
    pressed_roll_back: bool = False
    outcome: str | None = None
    outcome_at: float | None = None
    status: str = "investigating"

    @property
    def channel(self) -> str:
        """Each incident is opened from its own channel, so records map back to it."""
        return f"C{self.i:05d}"


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

OUTCOMES = ("fix.confirmed", "fix.kept", "fix.rolled_back", "fix.rollback_failed")
POLL = 0.25  # seconds between the driver's looks at Slack and the store (a polling interval)


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
            self._fail(f"/sre investigate for {namespace_of(t.i)}: HTTP {r.status_code}")

    def _press(self, t: Tracked, replica: int, action_id: str, value: str, user: str) -> None:
        try:
            r = self.bots[replica].press(
                action_id, value, channel=t.channel, message_ts=t.thread_ts or "1.1", user=user
            )
        except httpx.HTTPError as e:
            self._fail(f"{action_id} for {namespace_of(t.i)} failed: {e!r}")
            return
        if r.status_code != 200:
            self._fail(f"{action_id} for {namespace_of(t.i)}: HTTP {r.status_code}")

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


# -- the invariants -------------------------------------------------------------------------


def violations(tracked: list[Tracked], stores: Any, executed: list[tuple[str, str]]) -> list[str]:
    """Every lost, doubled or unplanned execution: from the audit log and the served writes."""
    by_incident: dict[str, list[Any]] = {}
    for e in stores.audit.events():
        by_incident.setdefault(e.incident_id, []).append(e)
    writes = Counter(ref for _verb, ref in executed)
    found: list[str] = []
    for t in tracked:
        ns, events = namespace_of(t.i), by_incident.get(t.incident_id or "", [])
        actions = Counter(e.action for e in events)
        for action in ("proposal.approved", "execution.applied", "killswitch.armed"):
            if actions[action] != 1:
                found.append(f"{ns}: {action} recorded {actions[action]} times")
        ends = sum(actions[a] for a in OUTCOMES)
        want = "fix.confirmed" if t.plan == KEPT else "fix.rolled_back"
        if ends != 1 or actions[want] != 1:
            found.append(f"{ns}: planned {t.plan}, audit has {dict(actions)}")
        rolled_by = [e.actor for e in events if e.action == "fix.rolled_back"]
        if t.plan == ROLL_BACK_NOW and rolled_by and rolled_by[0] != APPROVERS[1]:
            found.append(f"{ns}: planned roll back now, rolled back by {rolled_by[0]}")
        # The undo is one write to the Deployment; a rollback restores it with one more.
        want_writes = 1 if t.plan == KEPT else 2
        got = writes.pop(f"Deployment/{ns}/checkout-api", 0)
        if got != want_writes:
            found.append(f"{ns}: {got} writes served to the Deployment, expected {want_writes}")
    found += [f"unexpected writes to {ref}: {n}" for ref, n in sorted(writes.items())]
    return found


def settle(tracked: list[Tracked], stores: Any, world: Any, seconds: float) -> list[str]:
    """Keep checking the invariants for a few sweeper passes: an outcome must stay single."""
    end = time.monotonic() + seconds
    while True:
        found = violations(tracked, stores, list(world.executed))
        if found or time.monotonic() >= end:
            return found
        time.sleep(POLL)  # polling interval of an invariant check, not a synchronisation


# -- the run ------------------------------------------------------------------------------


@contextmanager
def serving_replicas(n: int, env: dict[str, str], logs: Path) -> Iterator[list[int]]:
    """Start `n` `sre-bot serve --http --port 0` processes at once; yield their ports; stop them."""
    procs: list[tuple[subprocess.Popen, Path]] = []
    try:
        for i in range(n):
            log = logs / f"replica-{i}.log"
            with log.open("w") as out:  # the child keeps its own descriptor
                cmd = [str(SRE_BOT), "serve", "--http", "--host", "127.0.0.1", "--port", "0"]
                proc = subprocess.Popen(
                    cmd, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT
                )
            procs.append((proc, log))
        yield [_port_of(proc, log) for proc, log in procs]
    finally:
        for proc, _ in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc, _ in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _port_of(proc: subprocess.Popen, log: Path, timeout: float = 120.0) -> int:
    """uvicorn logs the port it bound; poll the log for it (not a blind sleep)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        m = re.search(r"Uvicorn running on http://127\.0\.0\.1:(\d+)", log.read_text())
        if m:
            return int(m[1])
        if proc.poll() is not None:
            raise BenchmarkError(f"a replica exited at start-up:\n{log.read_text()[-2000:]}")
        time.sleep(0.05)  # polling interval while the process starts
    raise BenchmarkError(f"a replica did not report its port in {timeout:.0f} s")


def run(
    incidents: int = 200,
    replicas: int = 3,
    window: float = 30.0,
    timeout: float = 900.0,
    settle_seconds: float = 2.0,
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
        ports = stack.enter_context(serving_replicas(replicas, env, tmp))
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
    parser.add_argument("--json", action="store_true", help="one JSON line instead of text")
    args = parser.parse_args(argv)
    try:
        result = run(args.incidents, args.replicas, args.window, args.timeout)
    except (BenchmarkError, ValueError) as e:
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
