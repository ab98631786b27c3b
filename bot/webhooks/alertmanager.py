"""Alertmanager webhooks (version 4) at `POST /webhooks/alertmanager`.

Alertmanager authenticates with `Authorization: Bearer <SRE_BOT_ALERTMANAGER_TOKEN>`
(`http_config.authorization` in its receiver). It re-sends a group on every
`repeat_interval`, so a group is keyed by `groupKey`: a repeat adds to the open thread.
"""

from __future__ import annotations

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

SOURCE = "alertmanager"


def _validate(payload: dict[str, Any]) -> None:
    if str(payload.get("version")) != "4":
        raise MalformedDelivery(
            f'`version` must be "4" (Alertmanager webhook v4), got {payload.get("version")!r}'
        )
    if not isinstance(payload.get("groupKey"), str) or not payload["groupKey"]:
        raise MalformedDelivery("`groupKey` must be a non-empty string")
    if payload.get("status") not in ("firing", "resolved"):
        raise MalformedDelivery(
            f"`status` must be firing or resolved, got {payload.get('status')!r}"
        )
    alerts = payload.get("alerts")
    if not isinstance(alerts, list) or not all(isinstance(a, dict) for a in alerts):
        raise MalformedDelivery("`alerts` must be a list of alert objects")


def _title(payload: dict[str, Any]) -> str:
    labels = payload.get("commonLabels") or {}
    notes = payload.get("commonAnnotations") or {}
    name = labels.get("alertname") or "Alert"
    summary = notes.get("summary") or notes.get("description") or ""
    return f"{name}: {summary}" if summary else str(name)


def _severity(payload: dict[str, Any]) -> Severity:
    value = str((payload.get("commonLabels") or {}).get("severity", "")).lower()
    if value in ("critical", "page", "error"):
        return Severity.CRITICAL
    return Severity.INFO if value in ("info", "none") else Severity.WARNING


def _link(payload: dict[str, Any]) -> str | None:
    for alert in payload.get("alerts") or []:
        if alert.get("generatorURL"):
            return str(alert["generatorURL"])
    return payload.get("externalURL")


def _alert_lines(payload: dict[str, Any]) -> str:
    lines = []
    for alert in (payload.get("alerts") or [])[:10]:
        labels = alert.get("labels") or {}
        summary = (alert.get("annotations") or {}).get("summary", "")
        name = labels.get("alertname", "alert")
        lines.append(f"• {alert.get('status', '?')} `{name}` {summary}".rstrip())
    return "\n".join(lines)


class AlertmanagerReceiver(WebhookReceiver):
    """Checks the bearer token and maps alert groups onto incident threads."""

    source = SOURCE

    def handle(self, headers: Mapping[str, str], body: bytes) -> WebhookResponse:
        """One delivery: 401 without the token, 400 malformed, 202 accepted."""
        h = lower_headers(headers)
        if self.settings.alertmanager_token is None:
            return self._unauthorized("SRE_BOT_ALERTMANAGER_TOKEN is not set; refusing alerts")
        scheme, _, token = h.get("authorization", "").partition(" ")
        expected = self.settings.alertmanager_token.get_secret_value()
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip(), expected):
            return self._unauthorized(
                "Authorization: Bearer <SRE_BOT_ALERTMANAGER_TOKEN> is missing or wrong"
            )
        try:
            payload = parse_json_object(body)
            _validate(payload)
        except MalformedDelivery as e:
            return self._dead_letter(str(e), h, body, status=400)
        try:
            result = self._process(payload)
        except IncidentError as e:
            return self._dead_letter(str(e), h, body, status=503)
        return self._accepted(result)

    def replay(self, letter: DeadLetter) -> WebhookResponse:
        """Process a dead letter again (its token was checked when it arrived)."""
        try:
            payload = parse_json_object(letter.body.encode())
            _validate(payload)
            result = self._process(payload)
        except (IncidentError, MalformedDelivery) as e:
            return WebhookResponse(status=400, body={"ok": False, "error": str(e)})
        return WebhookResponse(status=202, body={"ok": True, **result})

    def _process(self, payload: dict[str, Any]) -> dict[str, Any]:
        key = f"alertmanager:{payload['groupKey']}"
        # One lock so concurrent repeats of a group cannot open two threads.
        with self._lock:
            record = self.store.find_by_external_key(key)
            if record is not None and record.is_open:
                if payload["status"] == "resolved":
                    self.service.reply(
                        record,
                        ":white_check_mark: Alertmanager: resolved\n" + _alert_lines(payload),
                    )
                    self.service.set_status(record.id, "resolved")
                    return {"incident": record.id, "resolved": True}
                self.service.reply(
                    record, ":repeat: Alertmanager: still firing\n" + _alert_lines(payload)
                )
                return {"incident": record.id, "repeat": True}
            if payload["status"] == "resolved":
                return {"ignored": "resolved group with no open incident"}
            if not self.settings.incident_channel:
                raise IncidentError(
                    "SRE_BOT_INCIDENT_CHANNEL is not set; set it to the channel ID for incidents"
                )
            record, _ = self.service.open(
                Trigger(source=TriggerSource.ALERTMANAGER, payload=payload),
                channel=self.settings.incident_channel,
                title=_title(payload),
                severity=_severity(payload),
                link=_link(payload),
                external_key=key,
            )
            return {"incident": record.id}
