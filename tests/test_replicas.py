"""Three `sre-bot serve --http` processes on one Redis behave as one bot.

Any replica may take any press, a decision executes exactly once, and a kill-switch
deadline fires exactly once even when the replica that armed it is SIGKILLed mid-window.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from approvals.stores import Stores, open_stores
from tests.conftest import SHARED_SCENARIOS
from tests.support.bot_runtime import (
    ALERTMANAGER_TOKEN,
    BOT_TOKEN,
    INCIDENT_CHANNEL,
    PAGERDUTY_SECRET,
    SIGNING_SECRET,
    BotHarness,
    sandbox_for,
    scenario_trigger,
)
from tests.support.redis_server import new_prefix
from tests.support.slack_double import SlackDouble
from tests.support.slack_flow import (
    block_text,
    payments_that_never_heal,
    press_button,
    proposal_in,
    world_get,
)

CHECKOUT = SHARED_SCENARIOS / "checkout-missing-env.yaml"
SRE_BOT = Path(sys.executable).with_name("sre-bot")


@dataclass
class Replica:
    """One bot process and a harness that talks to it as Slack does."""

    process: subprocess.Popen
    harness: BotHarness
    log: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, log: Path, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"replica exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)  # polling interval while the process starts
    raise RuntimeError(f"replica at {url} not healthy: {log.read_text()[-2000:]}")


@contextmanager
def replicas(
    n: int, *, store: str, slack: SlackDouble, sandbox, tmp: Path, **env: str
) -> Iterator[list[Replica]]:
    """Start `n` real `sre-bot serve --http` processes on one store; stop them after."""
    base = {
        **os.environ,
        "SRE_BOT_STORE": store,
        "SRE_BOT_SLACK_API_URL": slack.base_url,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SRE_BOT_INCIDENT_CHANNEL": INCIDENT_CHANNEL,
        "SRE_BOT_PAGERDUTY_SECRET": PAGERDUTY_SECRET,
        "SRE_BOT_ALERTMANAGER_TOKEN": ALERTMANAGER_TOKEN,
        "KUBECONFIG": str(sandbox.kubeconfig),
        "SRE_BOT_PROMETHEUS_URL": sandbox.prometheus_url,
        "SRE_BOT_APPROVERS": "U222,U333",
        **env,
    }
    started: list[Replica] = []
    with ExitStack() as stack:
        for i in range(n):
            port, log = _free_port(), tmp / f"replica-{i}.log"
            out = stack.enter_context(log.open("w"))
            proc = subprocess.Popen(
                [str(SRE_BOT), "serve", "--http", "--host", "127.0.0.1", "--port", str(port)],
                env=base,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
            http = stack.enter_context(httpx.Client(timeout=30))
            url = f"http://127.0.0.1:{port}"
            started.append(
                Replica(proc, BotHarness(bot=None, url=url, slack=slack, http=http), log)
            )  # type: ignore[arg-type]
        try:
            for r in started:
                _wait_healthy(r.harness.url, r.process, r.log)
            yield started
        finally:
            for r in started:
                if r.process.poll() is None:
                    r.process.terminate()
            for r in started:
                try:
                    r.process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    r.process.kill()
                    r.process.wait()


@pytest.fixture
def shared(redis_server) -> Iterator[tuple[str, Stores]]:
    """A fresh namespace on the test Redis, and the test's own view of it."""
    url = redis_server.url_with_prefix(new_prefix())
    stores = open_stores(url)
    yield url, stores
    stores.close()


def _proposed(h: BotHarness, stores: Stores):
    record = h.slack.wait_for(lambda: stores.state.list_incidents(), timeout=30)[0]
    record = h.slack.wait_for(
        lambda: (r := stores.state.get_incident(record.id)) and r.thread_ts and r, timeout=30
    )
    return record, proposal_in(h, record.thread_ts)


def _actions(stores: Stores, incident_id: str) -> list[str]:
    return [e.action for e in stores.audit.events(incident_id)]


def _writes(sandbox, ref: str) -> list[str]:
    return [verb for verb, r in list(sandbox.world.executed) if r == ref]


def test_approve_pressed_on_two_replicas_at_once_executes_once(slack, shared, tmp_path):
    url, stores = shared
    with (
        sandbox_for(CHECKOUT) as sb,
        replicas(3, store=url, slack=slack, sandbox=sb, tmp=tmp_path) as (one, two, three),
    ):
        one.harness.slash("investigate checkout is throwing 500s since 10:05")
        record, proposal = _proposed(one.harness, stores)
        writes_before = len(_writes(sb, "Deployment/shop/checkout-api"))
        barrier = threading.Barrier(2)

        def press(r: Replica, user: str) -> None:
            barrier.wait()
            press_button(r.harness, record, proposal, "approve", user)

        threads = [
            threading.Thread(target=press, args=(two, "U222")),
            threading.Thread(target=press, args=(three, "U333")),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        slack.wait_for(lambda: "fix.confirmed" in _actions(stores, record.id), timeout=60)
        slack.wait_for(
            lambda: any(
                "Already approved by" in c.args.get("text", "") for c in slack.calls_of("respond")
            )
        )
        actions = _actions(stores, record.id)
        assert actions.count("proposal.approved") == 1
        assert actions.count("execution.applied") == 1
        assert actions.count("killswitch.armed") == 1
        assert actions.count("fix.confirmed") == 1 and "fix.rolled_back" not in actions
        applied = [r for r in one.harness.replies(record.thread_ts) if "*Applied*" in block_text(r)]
        assert len(applied) == 1
        # One rollout undo reached the cluster (dry runs are not writes the world records).
        assert len(_writes(sb, "Deployment/shop/checkout-api")) - writes_before == 1


def test_a_deadline_armed_by_a_replica_that_is_sigkilled_fires_once_on_another(
    slack, shared, tmp_path
):
    url, stores = shared
    scenario = payments_that_never_heal(tmp_path)
    with (
        sandbox_for(scenario) as sb,
        replicas(
            3,
            store=url,
            slack=slack,
            sandbox=sb,
            tmp=tmp_path,
            SRE_BOT_KILL_SWITCH_SECONDS="5",
        ) as (one, two, three),
    ):
        one.harness.alertmanager(scenario_trigger(scenario)["alertmanager"])
        record, proposal = _proposed(one.harness, stores)
        press_button(one.harness, record, proposal, "approve", "U222")
        armed = slack.wait_for(lambda: "killswitch.armed" in _actions(stores, record.id), 30)
        assert armed
        one.process.send_signal(signal.SIGKILL)  # the replica that armed the fix dies mid-window
        one.process.wait(timeout=10)
        selector = world_get(sb, "Service", "billing", "payments-api")["spec"]["selector"]
        assert selector["app"] == "payments"  # the fix is in place while watched

        slack.wait_for(lambda: "fix.rolled_back" in _actions(stores, record.id), timeout=45)
        selector = world_get(sb, "Service", "billing", "payments-api")["spec"]["selector"]
        assert selector["app"] == "payments-api"
        events = list(stores.audit.events(record.id))
        deadline = next(e.detail["deadline"] for e in events if e.action == "killswitch.armed")
        fired = next(e.at.timestamp() for e in events if e.action == "fix.rolled_back")
        assert fired - deadline < 5.0  # on time, though the arming replica is gone
        # Give the surviving sweepers more passes: the outcome must stay single.
        end = time.monotonic() + 2
        while time.monotonic() < end:
            actions = _actions(stores, record.id)
            assert actions.count("fix.rolled_back") == 1
            assert "fix.confirmed" not in actions and "fix.kept" not in actions
            time.sleep(0.2)  # polling interval of an invariant check, not a synchronisation
        assert two.process.poll() is None and three.process.poll() is None
