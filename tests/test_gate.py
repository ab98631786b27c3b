"""The gate: who may decide, exactly-once decisions, expiry, the two-person rule, routes by policy."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from agents.models import Proposal, Verb
from approvals.gate import Gate, RequestStatus, Route
from approvals.policy import ApprovalPolicy, Approvers, Autonomy, AutonomyRule, Match

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _policy(**kw) -> ApprovalPolicy:
    return ApprovalPolicy(
        approvers=Approvers(users=["UAPPROVER", "UOTHER"], groups=["@oncall"]), **kw
    )


def _undo(target="Deployment/shop/web") -> Proposal:
    return Proposal(verb=Verb.ROLLOUT_UNDO, target=target, rationale="crash loop since the rollout")


def _delete() -> Proposal:
    return Proposal(verb=Verb.DELETE, target="Pod/shop/web-abc12", rationale="stuck")


@pytest.fixture
def gate(stores_at):
    stores = stores_at("state")
    return Gate(stores.approvals, _policy(), stores.audit)


def test_an_approvers_press_decides_once_and_the_second_press_is_told_who_decided(gate):
    req = gate.submit("inc-1", 0, _undo(), requested_by="UREQ", now=T0)
    assert req.route == Route.NEEDS_APPROVAL and req.status == RequestStatus.PENDING
    first = gate.decide(req.id, "UAPPROVER", approve=True, now=T0 + timedelta(seconds=5))
    assert first.fresh and first.status == RequestStatus.APPROVED
    second = gate.decide(req.id, "UOTHER", approve=True, now=T0 + timedelta(seconds=6))
    assert not second.fresh
    assert "Already approved by <@UAPPROVER> at 2026-11-23 12:00:05 UTC" in second.message
    reject_after = gate.decide(req.id, "UOTHER", approve=False, now=T0 + timedelta(seconds=7))
    assert not reject_after.fresh and reject_after.status == RequestStatus.APPROVED


def test_an_unauthorised_press_changes_nothing(gate):
    req = gate.submit("inc-1", 0, _undo(), now=T0)
    d = gate.decide(req.id, "URANDOM", approve=True, now=T0)
    assert not d.fresh and "not allowed" in d.message
    assert gate.get(req.id).status == RequestStatus.PENDING


def test_a_member_of_an_approver_group_may_decide(gate):
    req = gate.submit("inc-1", 0, _undo(), now=T0)
    assert gate.decide(
        req.id, "UX", approve=False, user_groups=["@oncall"], reason="not now", now=T0
    ).fresh
    assert gate.get(req.id).reason == "not now"


def test_a_press_after_expiry_changes_nothing(gate):
    req = gate.submit("inc-1", 0, _undo(), now=T0)
    d = gate.decide(req.id, "UAPPROVER", approve=True, now=T0 + timedelta(minutes=31))
    assert not d.fresh and d.status == RequestStatus.EXPIRED and "expired" in d.message


def test_the_requester_cannot_approve_their_own_destructive_change(gate):
    req = gate.submit("inc-1", 0, _delete(), requested_by="UAPPROVER", now=T0)
    d = gate.decide(req.id, "UAPPROVER", approve=True, now=T0)
    assert not d.fresh and "someone other than the requester" in d.message
    assert gate.decide(req.id, "UOTHER", approve=True, now=T0).fresh


def test_two_approvers_at_the_same_instant_produce_one_decision(stores_at):
    # Two Gate objects on one store stand for two processes; many threads press at once.
    gates = [Gate(stores_at("s").approvals, _policy()) for _ in range(2)]
    req = gates[0].submit("inc-1", 0, _undo(), now=T0)
    barrier = threading.Barrier(8)
    results = []

    def press(i: int) -> None:
        barrier.wait()
        user = "UAPPROVER" if i % 2 else "UOTHER"
        results.append(gates[i % 2].decide(req.id, user, approve=True, now=T0))

    threads = [threading.Thread(target=press, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert len(results) == 8
    assert sum(r.fresh for r in results) == 1


def test_requests_survive_a_restart(stores_at):
    first = stores_at("s")
    g1 = Gate(first.approvals, _policy())
    req = g1.submit("inc-1", 0, _undo(), now=T0)
    first.close()
    g2 = Gate(stores_at("s").approvals, _policy())
    assert g2.get(req.id).proposal == _undo()
    assert g2.decide(req.id, "UAPPROVER", approve=True, now=T0).fresh


@pytest.mark.parametrize(
    ("autonomy", "proposal", "route", "status"),
    [
        (Autonomy.OBSERVE, _undo(), Route.REFUSED, RequestStatus.PENDING),
        (Autonomy.ADVISE, _undo(), Route.ADVICE, RequestStatus.PENDING),
        (Autonomy.APPROVE, _undo(), Route.NEEDS_APPROVAL, RequestStatus.PENDING),
        (Autonomy.AUTO, _undo(), Route.AUTO, RequestStatus.APPROVED),
        (Autonomy.AUTO, _delete(), Route.NEEDS_APPROVAL, RequestStatus.PENDING),
    ],
)
def test_the_autonomy_level_decides_the_route(stores_at, autonomy, proposal, route, status):
    policy = _policy(autonomy=[AutonomyRule(match=Match(namespaces=["shop"]), autonomy=autonomy)])
    g = Gate(stores_at("s").approvals, policy)
    req = g.submit("inc-1", 0, proposal, now=T0)
    assert (req.route, req.status) == (route, status)
    if route != Route.NEEDS_APPROVAL:
        assert not g.decide(req.id, "UAPPROVER", approve=True, now=T0).fresh


def test_protected_targets_are_refused_whatever_the_autonomy(stores_at):
    g = Gate(stores_at("s").approvals, _policy(default_autonomy=Autonomy.AUTO))
    req = g.submit("inc-1", 0, _undo("Deployment/kube-system/coredns"), now=T0)
    assert req.route == Route.REFUSED


def test_every_request_and_decision_is_audited(stores_at):
    stores = stores_at("s")
    audit = stores.audit
    g = Gate(stores.approvals, _policy(), audit)
    req = g.submit("inc-9", 0, _undo(), requested_by="UREQ", now=T0)
    g.decide(req.id, "URANDOM", approve=True, now=T0)
    g.decide(req.id, "UAPPROVER", approve=True, now=T0)
    actions = [(e.action, e.actor) for e in audit.events("inc-9")]
    assert actions == [
        ("approval.requested", "UREQ"),
        ("approval.refused", "URANDOM"),
        ("proposal.approved", "UAPPROVER"),
    ]


def test_pending_requests_past_their_ttl_expire(gate):
    req = gate.submit("inc-1", 0, _undo(), now=T0)
    assert gate.expire_due(T0 + timedelta(minutes=10)) == []
    expired = gate.expire_due(T0 + timedelta(minutes=30))
    assert [r.id for r in expired] == [req.id]
    assert gate.get(req.id).status == RequestStatus.EXPIRED


def test_an_approved_request_may_be_executed_once_even_when_two_callers_race(tmp_path):
    gates = [Gate(tmp_path / "s.db", _policy()) for _ in range(2)]
    req = gates[0].submit("inc-1", 0, _undo(), now=T0)
    assert not gates[0].claim_execution(req.id), "a pending request may not execute"
    gates[0].decide(req.id, "UAPPROVER", approve=True, now=T0)
    barrier = threading.Barrier(6)
    wins = []

    def claim(i: int) -> None:
        barrier.wait()
        wins.append(gates[i % 2].claim_execution(req.id))

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert sorted(wins) == [False] * 5 + [True]
    assert gates[1].get(req.id).status == RequestStatus.APPROVED


def test_the_audit_log_says_where_each_decision_came_from(stores_at):
    stores = stores_at("s")
    audit = stores.audit
    g = Gate(stores.approvals, _policy(), audit)
    req = g.submit("inc-7", 0, _undo(), requested_by="UREQ", now=T0, via="slack:C42")
    g.decide(req.id, "UAPPROVER", approve=True, now=T0, via="slack:C42")
    g.expire_due(T0)
    assert [(e.action, e.via) for e in audit.events("inc-7")] == [
        ("approval.requested", "slack:C42"),
        ("proposal.approved", "slack:C42"),
    ]
