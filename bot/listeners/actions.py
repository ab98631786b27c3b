"""Buttons and the rejection modal: Approve / Reject on a proposal, Keep fix / Roll back now.

Each press is acked at once; `SlackApprovals` (the gate, executor and kill switch) decides what
it does. Work that touches the cluster runs in a lazy listener, after the ack.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot import approval_blocks as ab
from bot.approval_slack import SlackApprovals


def _ephemeral(respond: Respond):
    def reply(text: str) -> None:
        respond(response_type="ephemeral", replace_original=False, text=text)

    return reply


def register(app: App, approvals: SlackApprovals) -> None:
    """Attach the button and modal handlers."""

    def ack_only(ack: Ack) -> None:
        ack()

    def approve(body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        approvals.approve(body, action, _ephemeral(respond))

    def reject(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        # The modal needs the trigger_id, which Slack honours for 3 seconds only: not lazy.
        approvals.open_reject(body, action, _ephemeral(respond))

    def keep(body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        approvals.keep(body, action, _ephemeral(respond))

    def roll_back(body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        approvals.roll_back(body, action, _ephemeral(respond))

    def rejected(body: dict[str, Any], view: dict[str, Any]) -> None:
        approvals.reject_submitted(body, view)

    app.action(ab.APPROVE)(ack=ack_only, lazy=[approve])
    app.action(ab.REJECT)(reject)
    app.action(ab.KEEP)(ack=ack_only, lazy=[keep])
    app.action(ab.ROLL_BACK)(ack=ack_only, lazy=[roll_back])
    app.view(ab.REJECT_MODAL)(ack=ack_only, lazy=[rejected])
