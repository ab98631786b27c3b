"""The scenario's trigger as the sandbox delivers it: payload times moved to the sandbox clock."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sandbox.scenario_model import Scenario
from sandbox.timeshift import shift_tree


def trigger_payload(scenario: Scenario, offset: timedelta) -> dict[str, Any] | str:
    """The Alertmanager / PagerDuty payload with its times shifted, or the slash command text."""
    t = scenario.trigger
    if t.slash is not None:
        return t.slash
    return shift_tree(t.alertmanager if t.alertmanager is not None else t.pagerduty, offset)


def trigger_text(scenario: Scenario, offset: timedelta) -> str:
    """One line that says what the trigger reports."""
    t = scenario.trigger
    if t.slash is not None:
        return t.slash
    payload = trigger_payload(scenario, offset)
    assert isinstance(payload, dict)
    if t.alertmanager is not None:
        ann = payload.get("commonAnnotations") or {}
        labels = payload.get("commonLabels") or {}
        return str(
            ann.get("summary")
            or ann.get("description")
            or labels.get("alertname")
            or scenario.summary
        )
    incident = (payload.get("event") or {}).get("data") or {}
    return str(incident.get("title") or incident.get("summary") or scenario.summary)
