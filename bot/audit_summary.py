"""`/sre audit <incident id>`: the incident's audit trail as a thread reply people can read.

One line per event: when, what, who, and the detail that matters (target, reason, digests).
"""

from __future__ import annotations

from collections.abc import Iterable

from approvals.audit import AuditEvent
from bot.blocks import Block, cap, context, section

# The detail keys worth a person's attention, in the order they are shown.
_SHOWN = ("verb", "target", "route", "why", "reason", "verification", "detail", "via")


def _who(actor: str) -> str:
    # Slack user ids become mentions; 'sre-bot', 'policy:auto' and 'cli:<user>' stay as they are.
    return f"<@{actor}>" if actor[:1] in ("U", "W") and actor.isalnum() else f"`{actor}`"


def event_line(event: AuditEvent) -> str:
    """One event: time (UTC), action, who, and its notable details."""
    parts = [f"`{event.at:%Y-%m-%d %H:%M:%S}` *{event.action}* by {_who(event.actor)}"]
    for key in _SHOWN:
        value = event.detail.get(key)
        if value not in (None, "", [], {}):
            parts.append(f"{key}: {str(value)[:200]}")
    for key in ("before_digest", "after_digest"):
        if event.detail.get(key):
            parts.append(f"{key.split('_')[0]} `{str(event.detail[key])[:19]}…`")
    return " · ".join(parts)


def audit_blocks(incident_id: str, events: Iterable[AuditEvent]) -> tuple[str, list[Block]]:
    """The summary's fallback text and blocks (within Slack's limits)."""
    events = list(events)
    if not events:
        text = f"No audit events for `{incident_id}` yet."
        return text, [section(text)]
    head = f"*Audit trail of `{incident_id}`*: {len(events)} events"
    lines = [event_line(e) for e in events]
    # Ten lines per section keeps each block under 3,000 characters.
    chunks = [section("\n".join(lines[i : i + 10])) for i in range(0, len(lines), 10)]
    blocks_ = cap([section(head), *chunks, context("Full log: `sre-bot audit export --incident`")])
    return head, blocks_
