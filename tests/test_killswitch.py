"""The kill switch keeps a fix that proves itself and rolls back one that does not, exactly once."""

from __future__ import annotations

import threading
import time

import pytest

from agents.models import Proposal, Verb
from agents.tools.cluster import Cluster
from approvals.executor import Executor
from approvals.killswitch import KillSwitch, WatchState
from approvals.policy import Confirmation
from sandbox.server import Sandbox
from tests.conftest import SHARED_SCENARIOS

CHECKOUT = "Deployment/shop/checkout-api"
UNDO = Proposal(verb=Verb.ROLLOUT_UNDO, target=CHECKOUT, rationale="crash loop since revision 7")
# A restart changes the template but keeps DATABASE_URL missing: it cannot heal.
RESTART = Proposal(verb=Verb.ROLLOUT_RESTART, target=CHECKOUT, rationale="try a restart")


@pytest.fixture
def sandbox():
    sb = Sandbox(SHARED_SCENARIOS / "checkout-missing-env.yaml", speed=1.0).start()
    yield sb
    sb.stop()


@pytest.fixture
def executor(sandbox):
    return Executor(Cluster.connect(sandbox.kubeconfig, sandbox.prometheus_url).api)


def _template_image(sandbox) -> str:
    with sandbox.world.store.lock:
        sandbox.world.sync()
        dep = sandbox.world.store.get("Deployment", "shop", "checkout-api")
        return dep["spec"]["template"]["spec"]["containers"][0]["image"]


def _restarted_at(sandbox) -> str | None:
    with sandbox.world.store.lock:
        sandbox.world.sync()
        dep = sandbox.world.store.get("Deployment", "shop", "checkout-api")
        ann = dep["spec"]["template"]["metadata"].get("annotations") or {}
        return ann.get("kubectl.kubernetes.io/restartedAt")


def _sweep_until(ks: KillSwitch, fix_id: str, timeout: float = 20.0) -> WatchState:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        ks.sweep()
        state = ks.get(fix_id).state
        if state != WatchState.WATCHING:
            return state
        time.sleep(0.2)
    return ks.get(fix_id).state


def test_a_fix_confirmed_healthy_before_its_deadline_is_kept(sandbox, executor, stores_at):
    audit = stores_at("s").audit
    seen = []
    ks = KillSwitch(stores_at("s").deadlines, executor, audit=audit, notify=seen.append)
    record = executor.execute(UNDO, approved_by="U1")
    ks.arm("inc-1:0", "inc-1", record, window_seconds=30)
    assert _sweep_until(ks, "inc-1:0") == WatchState.KEPT
    assert _template_image(sandbox).endswith(":2.13.2")
    assert not any(sandbox.world.faults_present().values())
    assert [f.state for f in seen] == [WatchState.KEPT]
    assert [e.action for e in audit.events("inc-1")] == ["killswitch.armed", "fix.confirmed"]


def test_a_fix_that_never_gets_healthy_is_rolled_back_at_the_deadline(sandbox, executor, stores_at):
    ks = KillSwitch(stores_at("s").deadlines, executor)
    assert _restarted_at(sandbox) is None
    record = executor.execute(RESTART, approved_by="U1")
    assert _restarted_at(sandbox) is not None
    fix = ks.arm("inc-1:0", "inc-1", record, window_seconds=1.0)
    ks.sweep(now=fix.armed_at + 0.5)  # before the deadline: still watching
    assert ks.get("inc-1:0").state == WatchState.WATCHING
    changed = ks.sweep(now=fix.deadline + 0.1)
    assert [f.state for f in changed] == [WatchState.ROLLED_BACK]
    assert "not confirmed healthy" in changed[0].reason
    assert _restarted_at(sandbox) is None


def test_in_human_mode_only_keep_saves_a_healthy_fix(sandbox, executor, stores_at):
    ks = KillSwitch(stores_at("s").deadlines, executor)
    record = executor.execute(UNDO, approved_by="U1")
    fix = ks.arm("inc-1:0", "inc-1", record, window_seconds=60, confirmation=Confirmation.HUMAN)
    ks.sweep(now=fix.armed_at + 1)
    assert ks.get("inc-1:0").state == WatchState.WATCHING
    decided, kept = ks.keep("inc-1:0", "U2")
    assert decided and kept.state == WatchState.KEPT and kept.decided_by == "U2"
    assert ks.keep("inc-1:0", "U3")[0] is False
    assert ks.roll_back_now("inc-1:0", "U3")[0] is False
    assert _template_image(sandbox).endswith(":2.13.2")


def test_roll_back_now_restores_the_snapshot_at_once(sandbox, executor, stores_at):
    ks = KillSwitch(stores_at("s").deadlines, executor)
    record = executor.execute(UNDO, approved_by="U1")
    assert _template_image(sandbox).endswith(":2.13.2")
    ks.arm("inc-1:0", "inc-1", record, window_seconds=600, confirmation=Confirmation.HUMAN)
    acted, fix = ks.roll_back_now("inc-1:0", "U2")
    assert acted and fix.state == WatchState.ROLLED_BACK and fix.decided_by == "U2"
    assert _template_image(sandbox).endswith(":2.14.0")


def test_two_sweepers_at_the_deadline_roll_back_once(sandbox, executor, stores_at):
    sweepers = [
        KillSwitch(stores_at("s").deadlines, executor, owner=f"replica-{i}") for i in range(3)
    ]
    record = executor.execute(RESTART, approved_by="U1")
    fix = sweepers[0].arm("inc-1:0", "inc-1", record, window_seconds=0.5)
    barrier = threading.Barrier(3)
    results: list[list] = []

    def sweep(ks: KillSwitch) -> None:
        barrier.wait()
        results.append(ks.sweep(now=fix.deadline + 1))

    threads = [threading.Thread(target=sweep, args=(ks,)) for ks in sweepers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    fired = [f for r in results for f in r if f.state == WatchState.ROLLED_BACK]
    assert len(fired) == 1


def test_a_dead_sweepers_claim_is_taken_over_after_its_lease(sandbox, executor, stores_at):
    dead = KillSwitch(stores_at("s").deadlines, executor, owner="dead", lease_seconds=5)
    alive = KillSwitch(stores_at("s").deadlines, executor, owner="alive", lease_seconds=5)
    record = executor.execute(RESTART, approved_by="U1")
    fix = dead.arm("inc-1:0", "inc-1", record, window_seconds=1)
    # The dead replica claimed the deadline and vanished before rolling back.
    assert dead._claim("inc-1:0", fix.deadline + 0.1)
    assert alive.sweep(now=fix.deadline + 1) == []  # lease still held
    changed = alive.sweep(now=fix.deadline + 10)  # lease expired: taken over
    assert [f.state for f in changed] == [WatchState.ROLLED_BACK]
