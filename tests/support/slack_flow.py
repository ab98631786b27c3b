"""Steps of the approval flow as a person does them in Slack, shared by the end-to-end tests:
read a message's blocks, find and press its buttons, wait for the proposal and the *Applied*
reply, and read the sandbox cluster's objects back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from sandbox.scenario import bundled_scenarios
from tests.support.bot_runtime import BotHarness, running_bot_on, wait_investigated

PAYMENTS = next(p for p in bundled_scenarios() if p.stem == "payments-service-selector-mismatch")
APPROVERS = "U222,U333"


def approving_bot(slack, sandbox, db: Path, **overrides: Any):
    """`running_bot_on` the sandbox, with U222 and U333 as approvers."""
    overrides.setdefault("approvers", APPROVERS)
    return running_bot_on(slack, sandbox, db, **overrides)


def block_text(call) -> str:
    """A recorded Slack call's blocks as JSON text, for `in` assertions."""
    return json.dumps(call.args.get("blocks"), ensure_ascii=False)


def button_value(call, action_id: str) -> str:
    """The value of the button `action_id` in a recorded message (fails naming the message)."""
    for block in call.args["blocks"]:
        for el in block.get("elements") or []:
            if el.get("action_id") == action_id:
                return el["value"]
    raise AssertionError(f"no {action_id} button in {block_text(call)}")


def press_button(
    h: BotHarness,
    record,
    message,
    action_id: str,
    user: str = "U222",
    value: str | None = None,
):
    """Press `action_id` on `message` in the incident's channel as `user` (a signed request)."""
    return h.press(
        action_id,
        value or button_value(message, action_id),
        channel=record.channel,
        message_ts=message.args.get("ts") or "1.1",
        user=user,
    )


def proposal_in(h: BotHarness, thread_ts: str):
    """The first proposal posted in the thread, once the investigation awaits approval."""
    assert wait_investigated(h, thread_ts) == "awaiting approval"
    return next(r for r in h.replies(thread_ts) if "Proposed fix #1" in block_text(r))


def applied_in(h: BotHarness, thread_ts: str):
    """Wait for the thread's *Applied* reply and return it."""
    return h.slack.wait_for(
        lambda: next((r for r in h.replies(thread_ts) if "*Applied*" in block_text(r)), None)
    )


def world_get(sandbox, kind: str, namespace: str, name: str) -> dict:
    """One object of the sandbox cluster as it is now (controllers synced first)."""
    with sandbox.world.store.lock:
        sandbox.world.sync()
        return sandbox.world.store.get(kind, namespace, name)


def payments_that_never_heal(tmp_path: Path) -> Path:
    """The payments scenario, but the selector fix lands on Pods that never get Ready:
    the fix cannot prove itself, so the kill switch rolls it back at its deadline."""
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
    path = tmp_path / "payments-no-heal.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path
