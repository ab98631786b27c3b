"""Intake: turn a trigger (slash text, Alertmanager v4, PagerDuty v3) into an Incident.

Structured payloads give labels; free text gives words. Words are matched only against
namespaces, workloads and services that exist in the cluster (an `Inventory`), so "checkout
is throwing 500s" finds Deployment shop/checkout-api and never invents a name.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field

from agents.models import Incident, Severity, Trigger, TriggerSource

DEFAULT_LOOKBACK = timedelta(hours=1)
# Alerts fire after their `for:`; the change that caused them is usually shortly before.
ALERT_LEAD = timedelta(minutes=30)
_MAX_LOOKBACK = timedelta(hours=24)
# Name parts too generic to identify a workload on their own.
_GENERIC_PARTS = {"api", "svc", "service", "server", "web", "app", "worker", "v1", "v2", "main"}
_WORD_RE = re.compile(r"[a-z0-9][a-z0-9.-]*[a-z0-9]|[a-z0-9]")


class IntakeError(ValueError):
    """The trigger cannot become an incident (a payload without alerts, say)."""


class InventoryItem(BaseModel):
    """One object intake may match words against."""

    kind: str
    namespace: str | None = None
    name: str


class Inventory(BaseModel):
    """What exists in the cluster, for matching free text against real names."""

    namespaces: list[str] = Field(default_factory=list)
    objects: list[InventoryItem] = Field(default_factory=list)


def new_incident_id() -> str:
    """A short, unique incident id (also the LangGraph thread_id)."""
    return "inc-" + uuid.uuid4().hex[:10]


def intake(
    trigger: Trigger,
    incident_id: str | None = None,
    *,
    inventory: Inventory | None = None,
    hint: str | None = None,
    now: datetime | None = None,
) -> Incident:
    """Read a trigger into an Incident; `hint` is extra free text from the person asking."""
    now = now or datetime.now(UTC)
    incident_id = incident_id or new_incident_id()
    match trigger.source:
        case TriggerSource.ALERTMANAGER:
            fields = _from_alertmanager(trigger.payload or {}, now)
        case TriggerSource.PAGERDUTY:
            fields = _from_pagerduty(trigger.payload or {}, now)
        case _:
            fields = _from_text(trigger.text or "", now)
    words_from = " ".join(p for p in (fields.get("text"), fields.get("title"), hint) if p)
    _fill_from_inventory(fields, words_from, inventory or Inventory())
    if hint and not fields.get("text"):
        fields["text"] = hint
    fields.setdefault("window_end", now)
    fields.setdefault("window_start", now - DEFAULT_LOOKBACK)
    return Incident(
        id=incident_id,
        source=trigger.source,
        requested_by=trigger.requested_by,
        **fields,
    )


def _from_text(text: str, now: datetime) -> dict[str, Any]:
    text = text.strip()
    fields: dict[str, Any] = {"title": _title(text), "text": text}
    low = text.lower()
    if re.search(r"\b(down|outage|everyone|all users|sev ?1|p1|critical)\b", low):
        fields["severity"] = Severity.CRITICAL
    start = _window_start_from_text(low, now)
    if start is not None:
        fields["window_start"] = start
        fields["window_end"] = now
    return fields


def _window_start_from_text(low: str, now: datetime) -> datetime | None:
    """'since 10:05', 'for the last 20 minutes', 'in the past hour', '2h ago'."""
    m = re.search(r"\b(?:since|from|after|at)\s+(?:about\s+|around\s+|~)?(\d{1,2}):(\d{2})", low)
    if m:
        hh, mm = int(m.group(1)), int(m.group(2))
        if hh < 24 and mm < 60:
            start = now.replace(hour=hh, minute=mm, second=0, microsecond=0)
            if start > now:  # "since 23:50" said just after midnight
                start -= timedelta(days=1)
            # A stated time is when it was noticed; look a little earlier for the change.
            return max(start - timedelta(minutes=10), now - _MAX_LOOKBACK)
    m = re.search(
        r"\b(?:last|past|for|since|about|around)?\s*(\d+|an?|one)\s*"
        r"(m|min|mins|minutes?|h|hrs?|hours?)\b(?:\s+ago)?",
        low,
    )
    if m and re.search(r"\b(last|past|ago|for|since)\b", low):
        n = 1 if m.group(1) in ("a", "an", "one") else int(m.group(1))
        unit = timedelta(hours=1) if m.group(2).startswith("h") else timedelta(minutes=1)
        return now - min(n * unit + timedelta(minutes=5), _MAX_LOOKBACK)
    return None


def _from_alertmanager(payload: dict[str, Any], now: datetime) -> dict[str, Any]:
    alerts = payload.get("alerts") or []
    firing = [a for a in alerts if a.get("status", "firing") == "firing"] or alerts
    if not firing:
        raise IntakeError("the Alertmanager payload has no alerts")
    first = firing[0]
    labels = {**(payload.get("commonLabels") or {}), **(first.get("labels") or {})}
    ann = {**(payload.get("commonAnnotations") or {}), **(first.get("annotations") or {})}
    alert_name = labels.get("alertname")
    summary = ann.get("summary") or ann.get("message") or alert_name or "alert"
    words = [summary]
    if ann.get("description"):
        words.append(ann["description"])
    if len(firing) > 1:
        words.append(f"({len(firing)} alerts firing)")
    fields: dict[str, Any] = {
        "title": _title(f"{alert_name}: {summary}" if alert_name else summary),
        "text": "\n".join(words),
        "alert_name": alert_name,
        "labels": {str(k): str(v) for k, v in labels.items()},
        "severity": _severity(labels.get("severity")),
        "link": first.get("generatorURL") or payload.get("externalURL"),
    }
    fields |= _workload_from_labels(labels)
    starts = [_parse_time(a.get("startsAt")) for a in firing]
    starts = [s for s in starts if s is not None]
    if starts:
        fields["window_start"] = max(min(starts) - ALERT_LEAD, now - _MAX_LOOKBACK)
        fields["window_end"] = now
    return {k: v for k, v in fields.items() if v is not None}


def _from_pagerduty(payload: dict[str, Any], now: datetime) -> dict[str, Any]:
    event = payload.get("event") or {}
    data = event.get("data") or payload.get("data") or {}
    if not data:
        raise IntakeError("the PagerDuty payload has no event.data")
    title = data.get("title") or data.get("summary") or "PagerDuty incident"
    service = (data.get("service") or {}).get("summary")
    priority = (data.get("priority") or {}).get("summary")
    words = [title] + ([f"service: {service}"] if service else [])
    sev = Severity.CRITICAL if data.get("urgency") == "high" else Severity.WARNING
    if priority and priority.upper() in ("P1", "P2", "SEV1", "SEV2"):
        sev = Severity.CRITICAL
    fields: dict[str, Any] = {
        "title": _title(title),
        "text": "\n".join(words),
        "severity": sev,
        "link": data.get("html_url"),
        "labels": {k: v for k, v in (("pagerduty_service", service), ("priority", priority)) if v},
    }
    created = _parse_time(data.get("created_at") or event.get("occurred_at"))
    if created is not None:
        fields["window_start"] = max(created - ALERT_LEAD, now - _MAX_LOOKBACK)
        fields["window_end"] = now
    return fields


def _workload_from_labels(labels: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "namespace": labels.get("namespace") or labels.get("kubernetes_namespace")
    }
    out["service"] = labels.get("service") or labels.get("job_name")
    workload = (
        labels.get("deployment")
        or labels.get("statefulset")
        or labels.get("daemonset")
        or labels.get("workload")
        or labels.get("app")
        or labels.get("app_kubernetes_io_name")
    )
    if not workload and labels.get("pod"):
        # checkout-api-6b7f9c4d8-x2x9z -> checkout-api (drop the ReplicaSet hash and pod suffix)
        workload = re.sub(r"(-[a-z0-9]{8,10})?-[a-z0-9]{5}$", "", str(labels["pod"]))
    out["workload"] = workload
    return out


def _fill_from_inventory(fields: dict[str, Any], text: str, inv: Inventory) -> None:
    """Match words against real names; keep what the payload already said when it exists."""
    words = set(_WORD_RE.findall(text.lower()))
    if not fields.get("namespace"):
        named = [ns for ns in inv.namespaces if ns in words]
        if len(named) == 1:
            fields["namespace"] = named[0]
    ns = fields.get("namespace")
    candidates = [o for o in inv.objects if ns is None or o.namespace in (ns, None)]
    if fields.get("workload") or fields.get("service"):
        # Payload labels: resolve to the real object (namespace included) when it exists.
        for key, kinds in (("workload", _WORKLOAD_KINDS), ("service", {"Service"})):
            name = fields.get(key)
            hit = [o for o in candidates if o.name == name and o.kind in kinds]
            if hit and not fields.get("namespace"):
                fields["namespace"] = hit[0].namespace
        if fields.get("service") and not fields.get("workload"):
            same = [
                o for o in candidates if o.name == fields["service"] and o.kind in _WORKLOAD_KINDS
            ]
            if same:
                fields["workload"] = same[0].name
        return
    scored = sorted(
        ((s, o) for o in candidates if (s := _name_score(o.name, words)) > 0),
        key=lambda so: (-so[0], so[1].kind not in _WORKLOAD_KINDS, so[1].name),
    )
    if not scored:
        return
    best = scored[0][0]
    top = [o for s, o in scored if s == best]
    workloads = [o for o in top if o.kind in _WORKLOAD_KINDS]
    services = [o for o in top if o.kind == "Service"]
    if workloads:
        fields["workload"] = workloads[0].name
        fields.setdefault("namespace", workloads[0].namespace)
    if services:
        fields["service"] = services[0].name
        fields["namespace"] = fields.get("namespace") or services[0].namespace


_WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet"}


def _name_score(name: str, words: set[str]) -> int:
    """3: the full name is a word; 2: its distinctive first part is; 1: another distinctive part."""
    if name in words:
        return 3
    parts = [p for p in name.split("-") if p and p not in _GENERIC_PARTS and not p.isdigit()]
    if not parts:
        return 0
    if parts[0] in words or f"{parts[0]}s" in words:
        return 2
    return 1 if any(p in words for p in parts[1:] if len(p) > 3) else 0


def _severity(value: Any) -> Severity:
    v = str(value or "").lower()
    if v in ("critical", "page", "high", "error", "sev1", "p1"):
        return Severity.CRITICAL
    if v in ("info", "none", "low"):
        return Severity.INFO
    return Severity.WARNING


def _parse_time(value: Any) -> datetime | None:
    if not value or str(value).startswith("0001-"):
        return None
    try:
        t = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _title(text: str) -> str:
    line = (text.strip().splitlines() or [""])[0]
    return (line[:117] + "...") if len(line) > 120 else (line or "incident")
