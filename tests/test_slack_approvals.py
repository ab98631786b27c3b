"""The approval gate in Slack, end to end: signed presses on the proposal's buttons change the
real sandbox cluster exactly once, and the kill switch keeps or rolls back what was applied."""

from __future__ import annotations

import json
import threading

import pytest
import yaml

from sandbox.scenario import bundled_scenarios
from tests.conftest import SHARED_SCENARIOS
from tests.support.bot_runtime import (
    INCIDENT_CHANNEL,
    running_bot,
    sandbox_for,
    scenario_trigger,
    wait_investigated,
)
from tests.support.slack_double import SlackDouble

CHECKOUT = SHARED_SCENARIOS / "checkout-missing-env.yaml"
PAYMENTS = next(p for p in bundled_scenarios() if p.stem == "payments-service-selector-mismatch")
APPROVERS = "U222,U333"


@pytest.fixture
def slack():
    with SlackDouble() as double:
        yield double


def _bot(slack, sandbox, db, **overrides):
    overrides.setdefault("approvers", APPROVERS)
    return running_bot(
        slack,
        db,
        kubeconfig=str(sandbox.kubeconfig),
        prometheus_url=sandbox.prometheus_url,
        **overrides,
    )


def _world_get(sandbox, kind: str, namespace: str, name: str) -> dict:
    with sandbox.world.store.lock:
        sandbox.world.sync()
        return sandbox.world.store.get(kind, namespace, name)


def _checkout_image(sandbox) -> str:
    dep = _world_get(sandbox, "Deployment", "shop", "checkout-api")
    return dep["spec"]["template"]["spec"]["containers"][0]["image"]


def _payments_selector(sandbox) -> str:
    return _world_get(sandbox, "Service", "billing", "payments-api")["spec"]["selector"]["app"]


def _text(call) -> str:
    return json.dumps(call.args.get("blocks"), ensure_ascii=False)


def _button(call, action_id: str) -> str:
    for block in call.args["blocks"]:
        for el in block.get("elements") or []:
            if el.get("action_id") == action_id:
                return el["value"]
    raise AssertionError(f"no {action_id} button in {_text(call)}")


def _slash_incident(h):
    h.slash("investigate checkout is throwing 500s since 10:05")
    record = h.slack.wait_for(lambda: h.bot.store.list_incidents())[0]
    return _proposed(h, record)


def _alert_incident(h, scenario):
    h.alertmanager(scenario_trigger(scenario)["alertmanager"])
    record = h.slack.wait_for(lambda: h.bot.store.list_incidents())[0]
    return _proposed(h, record)


def _proposed(h, record):
    assert wait_investigated(h, record.thread_ts) == "awaiting approval"
    proposal = next(r for r in h.replies(record.thread_ts) if "Proposed fix #1" in _text(r))
    return record, proposal


def _press(h, record, proposal, action_id: str, user: str = "U222", value: str | None = None):
    return h.press(
        action_id,
        value or _button(proposal, action_id),
        channel=record.channel,
        message_ts=proposal.args.get("ts") or "1.1",
        user=user,
    )


def _applied(h, record):
    return h.slack.wait_for(
        lambda: next((r for r in h.replies(record.thread_ts) if "*Applied*" in _text(r)), None)
    )


def _ephemerals(h) -> list[str]:
    return [c.args.get("text", "") for c in h.slack.calls_of("respond")]


def test_the_proposal_shows_diff_dry_run_risk_undo_verification_and_expiry(slack, tmp_path):
    with sandbox_for(CHECKOUT) as sb, _bot(slack, sb, tmp_path / "bot.db") as h:
        _, proposal = _slash_incident(h)
        text = _text(proposal)
        assert (
            "before → after" in text
            and "+        image: registry.example.com/shop/checkout:2.13.2" in text
        )
        assert "Server-side dry run*: accepted" in text
        assert "risk: *reversible*" in text
        assert "*Undo*" in text and "--to-revision=7" in text
        assert "*Verified by*" in text and "expires <!date^" in text
        assert _button(proposal, "approve") and _button(proposal, "reject")
        # The secret the new template references is never shown in Slack.
        assert "s3cr3t" not in slack.all_text()


def test_two_approvers_pressing_at_once_execute_the_fix_exactly_once(slack, tmp_path):
    with sandbox_for(CHECKOUT) as sb, _bot(slack, sb, tmp_path / "bot.db") as h:
        record, proposal = _slash_incident(h)
        assert _checkout_image(sb).endswith(":2.14.0")
        presses = [
            threading.Thread(target=_press, args=(h, record, proposal, "approve", user))
            for user in ("U222", "U333")
        ]
        for t in presses:
            t.start()
        for t in presses:
            t.join()
        _applied(h, record)
        h.slack.wait_for(lambda: any("Already approved by" in t for t in _ephemerals(h)))
        assert _checkout_image(sb).endswith(":2.13.2")
        h.wait_status(record.thread_ts, "resolved", timeout=30)
        applied = [r for r in h.replies(record.thread_ts) if "*Applied*" in _text(r)]
        assert len(applied) == 1
        actions = [e.action for e in h.bot.approvals.flow.audit.events(record.id)]
        assert actions.count("execution.applied") == 1
        assert actions.count("proposal.approved") == 1
        assert "fix.confirmed" in actions
        # A press after the decision changes nothing and says who decided, and when.
        _press(h, record, proposal, "approve", user="U333")
        h.slack.wait_for(lambda: sum("Already approved by" in t for t in _ephemerals(h)) == 2)


def test_an_unauthorised_press_gets_an_ephemeral_refusal_and_changes_nothing(slack, tmp_path):
    with sandbox_for(CHECKOUT) as sb, _bot(slack, sb, tmp_path / "bot.db") as h:
        record, proposal = _slash_incident(h)
        _press(h, record, proposal, "approve", user="U999")
        h.slack.wait_for(lambda: any("is not allowed to decide" in t for t in _ephemerals(h)))
        assert h.slack.calls_of("respond")[-1].args["response_type"] == "ephemeral"
        assert _checkout_image(sb).endswith(":2.14.0")
        assert h.bot.approvals.flow.gate.get(f"{record.id}:0").status == "pending"


def test_reject_asks_for_a_reason_in_a_modal_and_records_it(slack, tmp_path):
    with sandbox_for(CHECKOUT) as sb, _bot(slack, sb, tmp_path / "bot.db") as h:
        record, proposal = _slash_incident(h)
        _press(h, record, proposal, "reject")
        [opened] = h.slack.wait_for(lambda: h.slack.calls_of("views.open"))
        view = (
            json.loads(opened.args["view"])
            if isinstance(opened.args["view"], str)
            else opened.args["view"]
        )
        assert view["callback_id"] == "reject_reason"
        resp = h.submit_view(
            view,
            {
                "reason": {
                    "reason": {"type": "plain_text_input", "value": "we roll forward instead"}
                }
            },
        )
        assert resp.status_code == 200
        h.slack.wait_for(
            lambda: any(
                "Rejected by <@U222>: we roll forward instead" in _text(r)
                for r in h.replies(record.thread_ts)
            )
        )
        req = h.bot.approvals.flow.gate.get(f"{record.id}:0")
        assert (req.status, req.decided_by, req.reason) == (
            "rejected",
            "U222",
            "we roll forward instead",
        )
        _press(h, record, proposal, "approve", user="U333")
        h.slack.wait_for(lambda: any("Already rejected by <@U222>" in t for t in _ephemerals(h)))
        assert _checkout_image(sb).endswith(":2.14.0")


def test_keep_fix_confirms_the_change_in_human_confirmation_mode(slack, tmp_path):
    policy = tmp_path / "policy.yaml"
    policy.write_text("confirmation: human\n")
    with sandbox_for(CHECKOUT) as sb, _bot(slack, sb, tmp_path / "bot.db", policy=policy) as h:
        record, proposal = _slash_incident(h)
        _press(h, record, proposal, "approve")
        applied = _applied(h, record)
        assert "unless someone presses *Keep fix*" in _text(applied)
        _press(h, record, applied, "keep_fix", value=_button(applied, "keep_fix"))
        h.wait_status(record.thread_ts, "resolved", timeout=20)
        assert any("kept (<@U222>)" in _text(r) for r in h.replies(record.thread_ts))
        assert _checkout_image(sb).endswith(":2.13.2")


def test_roll_back_now_restores_the_snapshot(slack, tmp_path):
    with sandbox_for(PAYMENTS) as sb, _bot(slack, sb, tmp_path / "bot.db") as h:
        record, proposal = _alert_incident(h, PAYMENTS)
        assert _payments_selector(sb) == "payments-api"
        _press(h, record, proposal, "approve")
        applied = _applied(h, record)
        assert _payments_selector(sb) == "payments"
        _press(h, record, applied, "roll_back_now", value=_button(applied, "roll_back_now"))
        h.wait_status(record.thread_ts, "rolled back", timeout=30)
        assert _payments_selector(sb) == "payments-api"
        texts = [_text(r) for r in h.replies(record.thread_ts)]
        assert any("rolled back (<@U222>)" in t for t in texts), texts[-3:]


def test_a_fix_that_does_not_heal_is_rolled_back_at_its_deadline(slack, tmp_path):
    # The selector fix now lands on Pods that never get Ready: the fix cannot prove itself.
    doc = yaml.safe_load(PAYMENTS.read_text())
    doc["faults"].append(
        {
            "name": "payments-unready-once-selected",
            "when": {
                "object": {
                    "ref": "Service/billing/payments-api",
                    "path": "spec.selector.app",
                    "equals": "payments",
                }
            },
            "affects": {"namespace": "billing", "labels": {"app": "payments"}},
            "state": {"phase": "NotReady"},
        }
    )
    scenario = tmp_path / "payments-no-heal.yaml"
    scenario.write_text(yaml.safe_dump(doc))
    with (
        sandbox_for(scenario) as sb,
        _bot(slack, sb, tmp_path / "bot.db", kill_switch_seconds=2) as h,
    ):
        record, proposal = _alert_incident(h, scenario)
        _press(h, record, proposal, "approve")
        _applied(h, record)
        h.wait_status(record.thread_ts, "rolled back", timeout=30)
        assert _payments_selector(sb) == "payments-api"
        outcome = next(
            r for r in h.replies(record.thread_ts) if "rolled back (sre-bot)" in _text(r)
        )
        assert "not confirmed healthy before the deadline" in _text(outcome)


def test_buttons_in_an_old_thread_still_work_after_a_restart(slack, tmp_path):
    db = tmp_path / "bot.db"
    with sandbox_for(PAYMENTS) as sb:
        with _bot(slack, sb, db) as first:
            record, proposal = _alert_incident(first, PAYMENTS)
        with _bot(slack, sb, db) as second:
            assert second.bot.store.get_incident(record.id).channel == INCIDENT_CHANNEL
            _press(second, record, proposal, "approve")
            _applied(second, record)
            assert _payments_selector(sb) == "payments"
            second.wait_status(record.thread_ts, "resolved", timeout=30)


def test_an_approval_whose_delivery_was_lost_is_executed_by_the_sweeper_once(slack, tmp_path):
    """A press recorded at the gate while the graph was not yet waiting must not be lost."""
    with sandbox_for(CHECKOUT) as sb, _bot(slack, sb, tmp_path / "bot.db") as h:
        record, _ = _slash_incident(h)
        flow = h.bot.approvals.flow
        req = flow.gate.get(f"{record.id}:0")
        # The decision is recorded, but nobody delivers it to the waiting graph.
        assert flow.decide(req.id, "U222", approve=True, via="slack:test").fresh
        assert _checkout_image(sb).endswith(":2.14.0")
        h.bot.approvals.redeliver(min_age_seconds=0)
        _applied(h, record)
        assert _checkout_image(sb).endswith(":2.13.2")
        h.bot.approvals.redeliver(min_age_seconds=0)  # a second pass changes nothing
        actions = [e.action for e in flow.audit.events(record.id)]
        assert actions.count("execution.applied") == 1
        assert flow.gate.approved_unexecuted() == []
