"""The approval gate in Slack, end to end: signed presses on the proposal's buttons change the
real sandbox cluster exactly once, and the kill switch keeps or rolls back what was applied."""

from __future__ import annotations

import json
import threading

from tests.conftest import SHARED_SCENARIOS
from tests.support.bot_runtime import (
    INCIDENT_CHANNEL,
    sandbox_for,
    scenario_trigger,
)
from tests.support.slack_flow import (
    PAYMENTS,
    applied_in,
    approving_bot,
    block_text,
    button_value,
    payments_that_never_heal,
    press_button,
    proposal_in,
    world_get,
)

CHECKOUT = SHARED_SCENARIOS / "checkout-missing-env.yaml"


def _checkout_image(sandbox) -> str:
    dep = world_get(sandbox, "Deployment", "shop", "checkout-api")
    return dep["spec"]["template"]["spec"]["containers"][0]["image"]


def _payments_selector(sandbox) -> str:
    return world_get(sandbox, "Service", "billing", "payments-api")["spec"]["selector"]["app"]


def _slash_incident(h):
    h.slash("investigate checkout is throwing 500s since 10:05")
    record = h.slack.wait_for(lambda: h.bot.store.list_incidents())[0]
    return _proposed(h, record)


def _alert_incident(h, scenario):
    h.alertmanager(scenario_trigger(scenario)["alertmanager"])
    record = h.slack.wait_for(lambda: h.bot.store.list_incidents())[0]
    return _proposed(h, record)


def _proposed(h, record):
    return record, proposal_in(h, record.thread_ts)


def _ephemerals(h) -> list[str]:
    return [c.args.get("text", "") for c in h.slack.calls_of("respond")]


def test_the_proposal_shows_diff_dry_run_risk_undo_verification_and_expiry(slack, tmp_path):
    with sandbox_for(CHECKOUT) as sb, approving_bot(slack, sb, tmp_path / "bot.db") as h:
        _, proposal = _slash_incident(h)
        text = block_text(proposal)
        assert (
            "before → after" in text
            and "+        image: registry.example.com/shop/checkout:2.13.2" in text
        )
        assert "Server-side dry run*: accepted" in text
        assert "risk: *reversible*" in text
        assert "*Undo*" in text and "--to-revision=7" in text
        assert "*Verified by*" in text and "expires <!date^" in text
        assert button_value(proposal, "approve") and button_value(proposal, "reject")
        # The secret the new template references is never shown in Slack.
        assert "s3cr3t" not in slack.all_text()


def test_two_approvers_pressing_at_once_execute_the_fix_exactly_once(slack, tmp_path):
    with sandbox_for(CHECKOUT) as sb, approving_bot(slack, sb, tmp_path / "bot.db") as h:
        record, proposal = _slash_incident(h)
        assert _checkout_image(sb).endswith(":2.14.0")
        presses = [
            threading.Thread(target=press_button, args=(h, record, proposal, "approve", user))
            for user in ("U222", "U333")
        ]
        for t in presses:
            t.start()
        for t in presses:
            t.join()
        applied_in(h, record.thread_ts)
        h.slack.wait_for(lambda: any("Already approved by" in t for t in _ephemerals(h)))
        assert _checkout_image(sb).endswith(":2.13.2")
        h.wait_status(record.thread_ts, "resolved", timeout=30)
        applied = [r for r in h.replies(record.thread_ts) if "*Applied*" in block_text(r)]
        assert len(applied) == 1
        actions = [e.action for e in h.bot.approvals.flow.audit.events(record.id)]
        assert actions.count("execution.applied") == 1
        assert actions.count("proposal.approved") == 1
        assert "fix.confirmed" in actions
        # A press after the decision changes nothing and says who decided, and when.
        press_button(h, record, proposal, "approve", user="U333")
        h.slack.wait_for(lambda: sum("Already approved by" in t for t in _ephemerals(h)) == 2)


def test_an_unauthorised_press_gets_an_ephemeral_refusal_and_changes_nothing(slack, tmp_path):
    with sandbox_for(CHECKOUT) as sb, approving_bot(slack, sb, tmp_path / "bot.db") as h:
        record, proposal = _slash_incident(h)
        press_button(h, record, proposal, "approve", user="U999")
        h.slack.wait_for(lambda: any("is not allowed to decide" in t for t in _ephemerals(h)))
        assert h.slack.calls_of("respond")[-1].args["response_type"] == "ephemeral"
        assert _checkout_image(sb).endswith(":2.14.0")
        assert h.bot.approvals.flow.gate.get(f"{record.id}:0").status == "pending"


def test_reject_asks_for_a_reason_in_a_modal_and_records_it(slack, tmp_path):
    with sandbox_for(CHECKOUT) as sb, approving_bot(slack, sb, tmp_path / "bot.db") as h:
        record, proposal = _slash_incident(h)
        press_button(h, record, proposal, "reject")
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
                "Rejected by <@U222>: we roll forward instead" in block_text(r)
                for r in h.replies(record.thread_ts)
            )
        )
        req = h.bot.approvals.flow.gate.get(f"{record.id}:0")
        assert (req.status, req.decided_by, req.reason) == (
            "rejected",
            "U222",
            "we roll forward instead",
        )
        press_button(h, record, proposal, "approve", user="U333")
        h.slack.wait_for(lambda: any("Already rejected by <@U222>" in t for t in _ephemerals(h)))
        assert _checkout_image(sb).endswith(":2.14.0")


def test_keep_fix_confirms_the_change_in_human_confirmation_mode(slack, tmp_path):
    policy = tmp_path / "policy.yaml"
    policy.write_text("confirmation: human\n")
    with (
        sandbox_for(CHECKOUT) as sb,
        approving_bot(slack, sb, tmp_path / "bot.db", policy=policy) as h,
    ):
        record, proposal = _slash_incident(h)
        press_button(h, record, proposal, "approve")
        applied = applied_in(h, record.thread_ts)
        assert "unless someone presses *Keep fix*" in block_text(applied)
        press_button(h, record, applied, "keep_fix")
        h.wait_status(record.thread_ts, "resolved", timeout=20)
        assert any("kept (<@U222>)" in block_text(r) for r in h.replies(record.thread_ts))
        assert _checkout_image(sb).endswith(":2.13.2")


def test_roll_back_now_restores_the_snapshot(slack, tmp_path):
    with sandbox_for(PAYMENTS) as sb, approving_bot(slack, sb, tmp_path / "bot.db") as h:
        record, proposal = _alert_incident(h, PAYMENTS)
        assert _payments_selector(sb) == "payments-api"
        press_button(h, record, proposal, "approve")
        applied = applied_in(h, record.thread_ts)
        assert _payments_selector(sb) == "payments"
        press_button(h, record, applied, "roll_back_now")
        h.wait_status(record.thread_ts, "rolled back", timeout=30)
        assert _payments_selector(sb) == "payments-api"
        texts = [block_text(r) for r in h.replies(record.thread_ts)]
        assert any("rolled back (<@U222>)" in t for t in texts), texts[-3:]


def test_a_fix_that_does_not_heal_is_rolled_back_at_its_deadline(slack, tmp_path):
    scenario = payments_that_never_heal(tmp_path)
    with (
        sandbox_for(scenario) as sb,
        approving_bot(slack, sb, tmp_path / "bot.db", kill_switch_seconds=2) as h,
    ):
        record, proposal = _alert_incident(h, scenario)
        press_button(h, record, proposal, "approve")
        applied_in(h, record.thread_ts)
        h.wait_status(record.thread_ts, "rolled back", timeout=30)
        assert _payments_selector(sb) == "payments-api"
        outcome = next(
            r for r in h.replies(record.thread_ts) if "rolled back (sre-bot)" in block_text(r)
        )
        assert "not confirmed healthy before the deadline" in block_text(outcome)


def test_buttons_in_an_old_thread_still_work_after_a_restart(slack, tmp_path):
    db = tmp_path / "bot.db"
    with sandbox_for(PAYMENTS) as sb:
        with approving_bot(slack, sb, db) as first:
            record, proposal = _alert_incident(first, PAYMENTS)
        with approving_bot(slack, sb, db) as second:
            assert second.bot.store.get_incident(record.id).channel == INCIDENT_CHANNEL
            press_button(second, record, proposal, "approve")
            applied_in(second, record.thread_ts)
            assert _payments_selector(sb) == "payments"
            second.wait_status(record.thread_ts, "resolved", timeout=30)


def test_an_approval_whose_delivery_was_lost_is_executed_by_the_sweeper_once(slack, tmp_path):
    """A press recorded at the gate while the graph was not yet waiting must not be lost."""
    with sandbox_for(CHECKOUT) as sb, approving_bot(slack, sb, tmp_path / "bot.db") as h:
        record, _ = _slash_incident(h)
        flow = h.bot.approvals.flow
        req = flow.gate.get(f"{record.id}:0")
        # The decision is recorded, but nobody delivers it to the waiting graph.
        assert flow.decide(req.id, "U222", approve=True, via="slack:test").fresh
        assert _checkout_image(sb).endswith(":2.14.0")
        h.bot.approvals.redeliver(min_age_seconds=0)
        applied_in(h, record.thread_ts)
        assert _checkout_image(sb).endswith(":2.13.2")
        h.bot.approvals.redeliver(min_age_seconds=0)  # a second pass changes nothing
        actions = [e.action for e in flow.audit.events(record.id)]
        assert actions.count("execution.applied") == 1
        assert flow.gate.approved_unexecuted() == []
