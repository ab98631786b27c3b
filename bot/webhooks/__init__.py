"""Webhook receivers (PagerDuty v3, Alertmanager v4), independent of the HTTP framework.

Each receiver takes the request's headers and raw body and returns a `WebhookResponse`, so the
Starlette app, the Lambda handler and `sre-bot deliveries replay` share one code path.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import BaseModel, Field

from approvals.store import DeadLetter, StateStore
from bot.incidents import IncidentService
from bot.metrics import BotMetrics
from bot.settings import Settings


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


class WebhookReceiver:
    """What every receiver shares: its dependencies, its 401s, its dead letters and its 202s.

    Subclasses set `source` (the metrics label and dead-letter source) and implement `handle`
    and `replay`.
    """

    source: ClassVar[str]

    def __init__(
        self, settings: Settings, service: IncidentService, store: StateStore, metrics: BotMetrics
    ) -> None:
        self.settings = settings
        self.service = service
        self.store = store
        self.metrics = metrics
        # One lock so concurrent deliveries about the same incident cannot open two threads.
        self._lock = threading.Lock()

    def _unauthorized(self, reason: str) -> WebhookResponse:
        self.metrics.webhooks.labels(self.source, "unauthorized").inc()
        return WebhookResponse(status=401, body={"ok": False, "error": reason})

    def _dead_letter(
        self, reason: str, headers: Mapping[str, str], body: bytes, status: int
    ) -> WebhookResponse:
        """Keep a delivery we could not process, and say so (with the dead letter's id)."""
        kept = {k: v for k, v in lower_headers(headers).items() if k in _KEPT_HEADERS}
        letter_id = self.store.add_dead_letter(
            DeadLetter(
                source=self.source,
                reason=reason,
                headers=kept,
                body=body.decode("utf-8", "replace"),
            )
        )
        self.metrics.webhooks.labels(self.source, "dead_letter").inc()
        return WebhookResponse(
            status=status,
            body={"ok": False, "error": reason, "dead_letter": letter_id},
        )

    def _accepted(self, result: dict[str, Any]) -> WebhookResponse:
        self.metrics.webhooks.labels(self.source, "accepted").inc()
        return WebhookResponse(status=202, body={"ok": True, **result})
