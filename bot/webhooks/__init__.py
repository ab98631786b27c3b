"""Webhook receivers (PagerDuty v3, Alertmanager v4), independent of the HTTP framework.

Each receiver takes the request's headers and raw body and returns a `WebhookResponse`, so the
Starlette app, the Lambda handler and `sre-bot deliveries replay` share one code path.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field

from approvals.store import DeadLetter, StateStore
from bot.metrics import BotMetrics


class WebhookResponse(BaseModel):
    """What the HTTP layer sends back: a status code and a small JSON body."""

    status: int
    body: dict[str, Any] = Field(default_factory=dict)


class MalformedDelivery(Exception):
    """The body authenticated but is not a payload we understand; the message says why."""


def lower_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Header names lower-cased, so lookups do not depend on the framework's casing."""
    return {k.lower(): v for k, v in headers.items()}


def parse_json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object, or MalformedDelivery with the parser's position."""
    try:
        data = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise MalformedDelivery(f"body is not UTF-8: {e}") from e
    except json.JSONDecodeError as e:
        raise MalformedDelivery(
            f"body is not valid JSON: {e.msg} at line {e.lineno} column {e.colno}"
        ) from e
    if not isinstance(data, dict):
        raise MalformedDelivery(f"body must be a JSON object, got {type(data).__name__}")
    return data


# Headers worth keeping with a dead letter: enough to replay and to audit, no tokens.
_KEPT_HEADERS = ("content-type", "user-agent", "x-webhook-id", "x-pagerduty-signature")


def dead_letter(
    store: StateStore,
    metrics: BotMetrics,
    *,
    source: str,
    reason: str,
    headers: Mapping[str, str],
    body: bytes,
    status: int,
) -> WebhookResponse:
    """Keep a delivery we could not process, and say so (with the dead letter's id)."""
    kept = {k: v for k, v in lower_headers(headers).items() if k in _KEPT_HEADERS}
    letter_id = store.add_dead_letter(
        DeadLetter(source=source, reason=reason, headers=kept, body=body.decode("utf-8", "replace"))
    )
    metrics.webhooks.labels(source, "dead_letter").inc()
    return WebhookResponse(
        status=status,
        body={"ok": False, "error": reason, "dead_letter": letter_id},
    )
