"""`/sre` slash commands: investigate, status, list, audit, help (and help for anything else).

The ack answers within Slack's 3 seconds from the store alone; opening an incident (posting
the root message, starting the investigation) runs in a lazy listener after the ack.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from agents.models import Trigger, TriggerSource
from approvals.audit import AuditLog
from approvals.store import StateStore
from bot import blocks
from bot.audit_summary import audit_blocks
from bot.incidents import IncidentService
from bot.workers import OpenRequest


def parse(text: str | None) -> tuple[str, str]:
    """'/sre investigate checkout is down' -> ('investigate', 'checkout is down')."""
    sub, _, rest = (text or "").strip().partition(" ")
    return sub.lower(), rest.strip()


def register(app: App, service: IncidentService, store: StateStore, audit: AuditLog) -> None:
    """Attach the `/sre` command to the app."""

    def ack_sre(ack: Ack, command: dict[str, Any]) -> None:
        sub, rest = parse(command.get("text"))
        if sub == "investigate" and rest:
            ack(
                response_type="ephemeral", text=f":mag: investigating… {blocks.truncate(rest, 200)}"
            )
        elif sub == "investigate":
            ack(
                blocks=blocks.help_blocks(
                    "Tell me what is wrong: `/sre investigate checkout returns 500s`"
                )
            )
        elif sub == "status":
            ack(blocks=_status(store, rest))
        elif sub == "list":
            ack(blocks=blocks.list_blocks(store.list_incidents(open_only=True, limit=20)))
        elif sub == "audit":
            ack(blocks=[blocks.section(_audit_ack(store, rest))])
        elif sub in ("help", ""):
            ack(blocks=blocks.help_blocks())
        else:
            ack(blocks=blocks.help_blocks(f"I don't know `/sre {blocks.truncate(sub, 50)}`."))

    def after_ack(command: dict[str, Any]) -> None:
        # One lazy listener for every subcommand: on Lambda each lazy function is its own
        # invocation, so unrelated subcommands must not cost one each.
        sub, rest = parse(command.get("text"))
        if sub == "investigate" and rest:
            open_incident(command, rest)
        elif sub == "audit" and rest:
            post_audit(rest)

    def open_incident(command: dict[str, Any], text: str) -> None:
        trigger = Trigger(
            source=TriggerSource.SLASH, text=text, requested_by=command.get("user_id")
        )
        # With worker processes the root message, too, is posted from a worker; a failure
        # to open reaches the requester through the command's response_url either way.
        service.open_later(
            OpenRequest(
                trigger=trigger,
                channel=command["channel_id"],
                title=text,
                response_url=command.get("response_url"),
            )
        )

    def post_audit(incident_id: str) -> None:
        record = store.get_incident(incident_id)
        if record is None:
            return
        text, blocks_ = audit_blocks(record.id, audit.events(record.id))
        service.reply(record, text, blocks_)

    app.command("/sre")(ack=ack_sre, lazy=[after_ack])


def _audit_ack(store: StateStore, incident_id: str) -> str:
    if not incident_id:
        return "Which incident? `/sre audit <incident id>` (ids are in `/sre list`)."
    if store.get_incident(incident_id) is None:
        return f"No incident `{blocks.truncate(incident_id, 80)}`. Try `/sre list`."
    return f":scroll: Posting the audit trail of `{incident_id}` in its thread."


def _status(store: StateStore, incident_id: str) -> list[dict[str, Any]]:
    if incident_id:
        record = store.get_incident(incident_id)
        if record is None:
            return [
                blocks.section(
                    f"No incident `{blocks.truncate(incident_id, 80)}`. Try `/sre list`."
                )
            ]
    else:
        latest = store.list_incidents(limit=1)
        if not latest:
            return [
                blocks.section(
                    "No incidents yet. Start one with `/sre investigate <what is wrong>`."
                )
            ]
        record = latest[0]
    return [blocks.section(blocks.status_line(record))]
