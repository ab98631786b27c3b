"""AWS Lambda entry point: Slack events through Bolt's `aws_lambda` adapter, plus the webhooks.

Bolt acks within 3 s and re-invokes this function for lazy listeners
(`process_before_response`), so investigations run inline in that second invocation. Point
API Gateway's `/slack/events`, `/webhooks/pagerduty` and `/webhooks/alertmanager` here.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from slack_bolt.adapter.aws_lambda import SlackRequestHandler

from bot.app import Bot, build_bot
from bot.settings import Settings

_bot: Bot | None = None
_slack: SlackRequestHandler | None = None


def _runtime() -> tuple[Bot, SlackRequestHandler]:
    # Built once per Lambda container, on its first request, and reused while it stays warm.
    global _bot, _slack
    if _bot is None or _slack is None:
        _bot = build_bot(Settings(), process_before_response=True, inline=True)
        _slack = SlackRequestHandler(_bot.app)
    return _bot, _slack


def _body(event: dict[str, Any]) -> bytes:
    raw = event.get("body") or ""
    return base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode()


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda function's handler."""
    bot, slack = _runtime()
    path = event.get("rawPath") or event.get("path") or ""
    receivers = {"/webhooks/pagerduty": bot.pagerduty, "/webhooks/alertmanager": bot.alertmanager}
    for suffix, receiver in receivers.items():
        if path.endswith(suffix):
            result = receiver.handle(event.get("headers") or {}, _body(event))
            return {
                "statusCode": result.status,
                "headers": {"Content-Type": "application/json"},
                "body": json.dumps(result.body),
            }
    if path.endswith("/healthz"):
        return {"statusCode": 200, "body": '{"ok": true}'}
    return slack.handle(event, context)
