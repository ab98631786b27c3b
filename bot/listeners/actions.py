"""Approve / Reject buttons on a proposal.

The approval gate (approvals issue) owns what a press does. Until it lands, a press is acked,
checked against the stored incident (so buttons keep working after a restart) and recorded in
the store for the gate to pick up. Replace `record_press` here when the gate arrives.
"""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App, Respond

from approvals.store import ButtonPress, StateStore


def register(app: App, store: StateStore) -> None:
    """Attach the approve/reject action handlers."""

    def record_press(
        ack: Ack, action: dict[str, Any], body: dict[str, Any], respond: Respond
    ) -> None:
        ack()
        try:
            value = json.loads(action.get("value") or "{}")
            incident_id, index = str(value["incident_id"]), int(value["proposal"])
        except (ValueError, KeyError, TypeError):
            respond(
                response_type="ephemeral",
                replace_original=False,
                text=":x: This button carries no incident.",
            )
            return
        if store.get_incident(incident_id) is None:
            respond(
                response_type="ephemeral",
                replace_original=False,
                text=f":x: Incident `{incident_id}` is unknown to this bot (was its store reset?).",
            )
            return
        user = (body.get("user") or {}).get("id")
        store.record_press(
            ButtonPress(
                incident_id=incident_id,
                action_id=action["action_id"],
                proposal_index=index,
                user=user,
            )
        )
        verb = "approval" if action["action_id"] == "approve" else "rejection"
        respond(
            response_type="ephemeral",
            replace_original=False,
            text=f"Recorded your {verb} of fix #{index + 1} for `{incident_id}`.",
        )

    app.action("approve")(record_press)
    app.action("reject")(record_press)
