"""PagerDuty v3 webhooks at `POST /webhooks/pagerduty`.

Signature: `X-PagerDuty-Signature` holds comma-separated `v1=<hex>` HMAC-SHA256 digests of the
raw body with the subscription's secret; any one may match (PagerDuty sends several while a
secret rotates). Deliveries are at least once, so `X-Webhook-Id` is deduplicated.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from agents.models import Severity, Trigger, TriggerSource
from approvals.store import DeadLetter
from bot.incidents import IncidentError
from bot.webhooks import (
    MalformedDelivery,
    WebhookReceiver,
    WebhookResponse,
    lower_headers,
    parse_json_object,
)

SOURCE = "pagerduty"
HANDLED = ("incident.triggered", "incident.acknowledged", "incident.resolved")


def signature_matches(secret: str, body: bytes, header: str | None) -> bool:
    """True when any `v1=` signature in the header is the body's HMAC-SHA256 with `secret`."""
    if not header:
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    for part in header.split(","):
        version, _, digest = part.strip().partition("=")
        if version == "v1" and hmac.compare_digest(digest.strip(), expected):
            return True
    return False


def _event(payload: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    event = payload.get("event")
    if not isinstance(event, dict):
        raise MalformedDelivery("a PagerDuty v3 webhook needs an `event` object")
    event_type = event.get("event_type")
    if not isinstance(event_type, str):
        raise MalformedDelivery("`event.event_type` must be a string such as incident.triggered")
    data = event.get("data")
    if event_type in HANDLED and (not isinstance(data, dict) or not data.get("id")):
        raise MalformedDelivery(f"`event.data.id` is required for {event_type}")
    return event_type, data if isinstance(data, dict) else {}


class PagerDutyReceiver(WebhookReceiver):
    """Verifies, deduplicates and turns PagerDuty incident events into incident threads."""

    source = SOURCE

    def handle(self, headers: Mapping[str, str], body: bytes) -> WebhookResponse:
        """One delivery: 401 unsigned, 400 malformed, 200 duplicate, 202 accepted."""
        h = lower_headers(headers)
        if self.settings.pagerduty_secret is None:
            return self._unauthorized(
                "SRE_BOT_PAGERDUTY_SECRET is not set; refusing unsigned events"
            )
        secret = self.settings.pagerduty_secret.get_secret_value()
        if not signature_matches(secret, body, h.get("x-pagerduty-signature")):
            return self._unauthorized("X-PagerDuty-Signature is missing or matches no v1 signature")
        try:
            payload = parse_json_object(body)
            event_type, data = _event(payload)
        except MalformedDelivery as e:
            return self._dead_letter(str(e), h, body, status=400)
        delivery_id = h.get("x-webhook-id") or str((payload.get("event") or {}).get("id") or "")
        if delivery_id and not self.store.claim_delivery(SOURCE, delivery_id):
            self.metrics.webhooks.labels(SOURCE, "duplicate").inc()
            return WebhookResponse(status=200, body={"ok": True, "duplicate": delivery_id})
        try:
            result = self._process(event_type, data, payload)
        except (IncidentError, MalformedDelivery) as e:
            return self._dead_letter(str(e), h, body, status=503)
        return self._accepted(result)

    def replay(self, letter: DeadLetter) -> WebhookResponse:
        """Process a dead letter again (its signature was checked when it arrived)."""
        try:
            payload = parse_json_object(letter.body.encode())
            event_type, data = _event(payload)
            result = self._process(event_type, data, payload)
        except (IncidentError, MalformedDelivery) as e:
            return WebhookResponse(status=400, body={"ok": False, "error": str(e)})
        return WebhookResponse(status=202, body={"ok": True, **result})

    def _process(
        self, event_type: str, data: dict[str, Any], payload: dict[str, Any]
    ) -> dict[str, Any]:
        if event_type not in HANDLED:
            return {"ignored": event_type}
        key = f"pagerduty:{data['id']}"
        # One lock so two deliveries for the same PagerDuty incident cannot open two threads.
        with self._lock:
            record = self.store.find_by_external_key(key)
            if event_type == "incident.triggered":
                if record is not None and record.is_open:
                    self.service.reply(record, "PagerDuty triggered this incident again.")
                    return {"incident": record.id, "repeat": True}
                if not self.settings.incident_channel:
                    raise IncidentError(
                        "SRE_BOT_INCIDENT_CHANNEL is not set; set it to the channel ID for incidents"
                    )
                title = str(data.get("title") or data.get("summary") or f"PagerDuty {data['id']}")
                record, _ = self.service.open(
                    Trigger(source=TriggerSource.PAGERDUTY, payload=payload),
                    channel=self.settings.incident_channel,
                    title=title,
                    severity=Severity.CRITICAL
                    if data.get("urgency") == "high"
                    else Severity.WARNING,
                    link=data.get("html_url"),
                    external_key=key,
                )
                return {"incident": record.id}
        if record is None:
            return {"ignored": f"{event_type} for an incident this bot never opened"}
        who = ((payload.get("event") or {}).get("agent") or {}).get("summary")
        by = f" by {who}" if who else ""
        if event_type == "incident.acknowledged":
            self.service.reply(record, f":eyes: Acknowledged in PagerDuty{by}.")
            self.service.refresh_root(record)
        else:
            self.service.reply(record, f":white_check_mark: Resolved in PagerDuty{by}.")
            self.service.set_status(record.id, "resolved")
        return {"incident": record.id, "event": event_type}
