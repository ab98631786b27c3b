"""The incident as one durable graph: it stops at the gate, and a decision resumes it on any
process (a new one, against the same SQLite file and the same sandbox), executing once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from agents.investigation import investigate
from agents.models import Trigger, TriggerSource
from agents.tools.cluster import Cluster
from approvals.audit import AuditEvent
from approvals.executor import Executor
from approvals.gate import Gate, RequestStatus
from approvals.incident_graph import (
    Delivery,
    GateDecision,
    IncidentGraph,
    IncidentRuntime,
    armed_checker,
    kill_switch_execute,
)
from approvals.killswitch import KillSwitch, WatchState
from approvals.policy import ApprovalPolicy, Autonomy, Protected, load_policy
from approvals.stores import open_stores
from sandbox.server import Sandbox
from tests.conftest import REPO, SHARED_SCENARIOS

CHECKOUT = SHARED_SCENARIOS / "checkout-missing-env.yaml"
TRIGGER = Trigger(
    source=TriggerSource.CLI, text="checkout is throwing 500s since 10:05", requested_by="U111"
)
APPROVER = "U222"


def graph_on(db: Path, kubeconfig: str, policy: ApprovalPolicy, *, investigating: bool = True):
    """The incident graph on the SQLite file `db` and the cluster of `kubeconfig`.

    Used by the tests and by the subprocess that resumes a graph a test started.
    Returns (graph, gate, kill switch, stores).
    """
    stores = open_stores(f"sqlite:///{db}")
    cluster = Cluster.connect(Path(kubeconfig), None)

    def executor(incident_id: str) -> Executor:
        def audit(event) -> None:
            stores.audit.append(
                AuditEvent(incident_id=incident_id, action=f"execution.{event.kind}", actor="t")
            )

        return Executor(cluster.api, audit=audit)

    gate = Gate(stores.approvals, policy, stores.audit)
    ks = KillSwitch(stores.deadlines, executor("-"), audit=stores.audit)

    def run_investigation(trigger, incident_id, hint):
        if not investigating:
            raise AssertionError("a resumed graph must not investigate again")
        return investigate(trigger, cluster, incident_id=incident_id, hint=hint)

    runtime = IncidentRuntime(
        gate=gate,
        investigate=run_investigation,
        execute=kill_switch_execute(gate, executor, ks, window_seconds=60),
        is_executed=armed_checker(ks),
    )
    return IncidentGraph(runtime, stores.checkpointer), gate, ks, stores


# What a second process runs: a press is recorded at the gate, then resumes the graph.
RESUME_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from approvals.incident_graph import GateDecision
    from approvals.policy import load_policy
    from tests.test_incident_graph import graph_on

    db, kubeconfig, incident_id, user, approve = sys.argv[1:6]
    policy = load_policy(None, approvers=[user])
    graph, gate, ks, stores = graph_on(db, kubeconfig, policy, investigating=False)
    decision = gate.decide(f"{incident_id}:0", user, approve=approve == "yes")
    delivery = None
    if decision.fresh:
        delivery = graph.deliver(
            incident_id,
            GateDecision(request_id=decision.request.id, user=user, approve=approve == "yes"),
        )
    state = graph.state(incident_id)
    print(json.dumps({
        "fresh": decision.fresh,
        "delivery": delivery,
        "executions": [e.model_dump() for e in state.get("executions", [])],
        "waiting": graph.waiting(incident_id),
    }))
    stores.close()
    """
)


def resume_in_new_process(db: Path, sandbox: Sandbox, incident_id: str, approve: bool) -> dict:
    """Press Approve (or Reject) from a fresh Python process; returns what it saw."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", RESUME_SCRIPT, str(db), str(sandbox.kubeconfig), incident_id]
        + [APPROVER, "yes" if approve else "no"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture
def sandbox():
    sb = Sandbox(CHECKOUT, port=0, speed=1.0).start()
    yield sb
    sb.stop()


@pytest.fixture
def opened(tmp_path):
    """Open graphs on tmp SQLite files, closed after the test."""
    stores = []

    def open_(sandbox: Sandbox, policy: ApprovalPolicy, name: str = "bot.db"):
        graph, gate, ks, st = graph_on(tmp_path / name, str(sandbox.kubeconfig), policy)
        stores.append(st)
        return graph, gate, ks

    yield open_
    for st in stores:
        st.close()


def _image(sandbox: Sandbox) -> str:
    with sandbox.world.store.lock:
        sandbox.world.sync()
        dep = sandbox.world.store.get("Deployment", "shop", "checkout-api")
        return dep["spec"]["template"]["spec"]["containers"][0]["image"]


def _policy(autonomy: Autonomy = Autonomy.APPROVE, **changes) -> ApprovalPolicy:
    return load_policy(None, approvers=[APPROVER]).model_copy(
        update={"default_autonomy": autonomy, **changes}
    )


def _actions(gate: Gate, incident_id: str) -> list[str]:
    return [e.action for e in gate._audit.events(incident_id)]  # noqa: SLF001


def test_the_graph_stops_at_the_gate_with_the_request_in_the_interrupt_and_checkpointed(
    sandbox, opened, tmp_path
):
    graph, gate, ks = opened(sandbox, _policy())
    state = graph.start("inc-gate", TRIGGER, requested_by="U111")
    [waiting] = graph.waiting("inc-gate")
    assert waiting["request"]["id"] == "inc-gate:0"
    assert waiting["request"]["proposal"]["target"] == "Deployment/shop/checkout-api"
    assert waiting["request"]["status"] == "pending"
    assert gate.get("inc-gate:0").status == RequestStatus.PENDING
    assert not state.get("executions") and _image(sandbox).endswith(":2.14.0")
    # The checkpoint on the SQLite file holds the investigation: another process can read it.
    again, _, _ = opened(sandbox, _policy(), name="bot.db")
    saved = again.state("inc-gate")
    assert saved["result"].diagnosis.summary == state["result"].diagnosis.summary
    assert saved["pending"] == ["inc-gate:0"]


def test_an_approval_in_a_new_process_executes_once_and_arms_the_kill_switch(
    sandbox, opened, tmp_path
):
    graph, gate, ks = opened(sandbox, _policy())
    graph.start("inc-resume", TRIGGER, requested_by="U111")
    assert graph.waiting("inc-resume")

    first = resume_in_new_process(tmp_path / "bot.db", sandbox, "inc-resume", approve=True)
    assert first["fresh"] and first["delivery"] == Delivery.RESUMED
    [execution] = first["executions"]
    assert execution["fix_id"] == "inc-resume:0" and execution["error"] is None
    assert first["waiting"] == []
    assert _image(sandbox).endswith(":2.13.2")
    assert ks.get("inc-resume:0").state in (WatchState.WATCHING, WatchState.KEPT)

    # A second press (another process again) decides nothing and executes nothing.
    second = resume_in_new_process(tmp_path / "bot.db", sandbox, "inc-resume", approve=True)
    assert not second["fresh"] and second["delivery"] is None
    assert len(second["executions"]) == 1
    # And a stray resume of the finished graph is a no-op, not a second execution.
    stray = GateDecision(request_id="inc-resume:0", user=APPROVER, approve=True)
    assert graph.deliver("inc-resume", stray) == Delivery.ALREADY
    actions = _actions(gate, "inc-resume")
    assert actions.count("execution.applied") == 1
    assert actions.count("killswitch.armed") == 1
    assert actions.count("proposal.approved") == 1


def test_a_rejection_ends_the_graph_without_executing(sandbox, opened, tmp_path):
    graph, gate, ks = opened(sandbox, _policy())
    graph.start("inc-reject", TRIGGER, requested_by="U111")
    seen = resume_in_new_process(tmp_path / "bot.db", sandbox, "inc-reject", approve=False)
    assert seen["fresh"] and seen["delivery"] == Delivery.RESUMED
    assert seen["executions"] == [] and seen["waiting"] == []
    state = graph.state("inc-reject")
    assert [d.approve for d in state["decisions"]] == [False]
    assert _image(sandbox).endswith(":2.14.0")
    assert "execution.applied" not in _actions(gate, "inc-reject")
    with pytest.raises(KeyError):
        ks.get("inc-reject:0")


def test_a_resume_without_a_recorded_decision_executes_nothing(sandbox, opened):
    graph, gate, ks = opened(sandbox, _policy())
    graph.start("inc-forged", TRIGGER, requested_by="U111")
    forged = GateDecision(request_id="inc-forged:0", user="U999", approve=True)
    assert graph.deliver("inc-forged", forged) == Delivery.RESUMED
    assert graph.waiting("inc-forged"), "the graph still waits for a real decision"
    assert _image(sandbox).endswith(":2.14.0")
    assert gate.get("inc-forged:0").status == RequestStatus.PENDING


def test_auto_route_executes_at_once_without_an_interrupt(sandbox, opened):
    graph, gate, ks = opened(sandbox, _policy(Autonomy.AUTO))
    state = graph.start("inc-auto", TRIGGER, requested_by="U111")
    assert graph.waiting("inc-auto") == []
    [execution] = state["executions"]
    assert execution.fix_id == "inc-auto:0"
    assert gate.get("inc-auto:0").decided_by == "policy:auto"
    assert ks.get("inc-auto:0").state in (WatchState.WATCHING, WatchState.KEPT)
    assert _image(sandbox).endswith(":2.13.2")


@pytest.mark.parametrize(
    "policy",
    [
        pytest.param(_policy(Autonomy.ADVISE), id="advise"),
        pytest.param(_policy(Autonomy.OBSERVE), id="observe"),
        pytest.param(
            _policy(Autonomy.AUTO, protected=Protected(namespaces=["shop"])),
            id="refused-protected",
        ),
    ],
)
def test_nothing_executes_for_advise_observe_or_protected_targets(sandbox, opened, policy):
    graph, gate, ks = opened(sandbox, policy)
    state = graph.start("inc-quiet", TRIGGER, requested_by="U111")
    assert state["result"].proposals, "the investigation still proposes a fix"
    assert graph.waiting("inc-quiet") == [] and not state.get("executions")
    assert gate.get("inc-quiet:0").status == RequestStatus.PENDING
    assert _image(sandbox).endswith(":2.14.0")


def test_a_slack_approval_on_a_restarted_bot_resumes_the_graph_the_first_bot_started(
    sandbox, tmp_path
):
    from tests.support.bot_runtime import running_bot, wait_investigated
    from tests.support.slack_double import SlackDouble

    db = tmp_path / "bot.db"
    settings = {
        "kubeconfig": str(sandbox.kubeconfig),
        "prometheus_url": sandbox.prometheus_url,
        "approvers": APPROVER,
    }

    def approve_value(h, ts: str) -> tuple[dict, str]:
        for reply in h.replies(ts):
            for block in reply.args.get("blocks") or []:
                for el in block.get("elements") or []:
                    if el.get("action_id") == "approve":
                        return reply, el["value"]
        raise AssertionError("no Approve button in the thread")

    with SlackDouble() as slack:
        with running_bot(slack, db, **settings) as first:
            first.slash("investigate checkout is throwing 500s since 10:05")
            record = slack.wait_for(lambda: first.bot.store.list_incidents())[0]
            assert wait_investigated(first, record.thread_ts) == "awaiting approval"
            reply, value = approve_value(first, record.thread_ts)
        # The first bot is gone; its graph thread waits at the gate on the SQLite file.
        graph, gate, ks, stores = graph_on(
            db, str(sandbox.kubeconfig), _policy(), investigating=False
        )
        try:
            [waiting] = graph.waiting(record.id)
            assert waiting["request"]["id"] == f"{record.id}:0"
            with running_bot(slack, db, **settings) as second:
                second.press(
                    "approve",
                    value,
                    channel=record.channel,
                    message_ts=reply.args.get("ts") or "1.1",
                    user=APPROVER,
                )
                second.wait_status(record.thread_ts, "resolved", timeout=30)
            [execution] = graph.state(record.id)["executions"]
            assert execution.fix_id == f"{record.id}:0"
            assert graph.waiting(record.id) == []
            assert _actions(gate, record.id).count("execution.applied") == 1
        finally:
            stores.close()
