"""`@sre-bot ...` in an incident thread: another investigation round with the thread's findings."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, Say

from bot.incidents import IncidentService

_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")


def hint_of(text: str | None) -> str:
    """The mention's words without the @-mentions themselves."""
    return _MENTION.sub("", text or "").strip()


def register(app: App, service: IncidentService) -> None:
    """Attach the app_mention handler."""

    def ack_mention(ack: Ack) -> None:
        ack()

    def follow_up(event: dict[str, Any], say: Say) -> None:
        thread_ts = event.get("thread_ts")
        hint = hint_of(event.get("text"))
        if not thread_ts:
            say(
                text="Mention me inside an incident thread for another round, "
                "or start one with `/sre investigate <what is wrong>`.",
                thread_ts=event.get("ts"),
            )
            return
        started = service.follow_up(
            event["channel"], thread_ts, hint or "another look", event.get("user")
        )
        if started is None:
            say(
                text="This thread is not an incident I opened. Use `/sre investigate`.",
                thread_ts=thread_ts,
            )

    app.event("app_mention")(ack=ack_mention, lazy=[follow_up])
