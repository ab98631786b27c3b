"""Runbooks specialist, rules mode: the runbooks that best match the incident's words and alert."""

from __future__ import annotations

from agents.models import Evidence, Finding, Incident, Severity
from agents.specialists.scope import call
from agents.tools.base import Tool


def collect(incident: Incident, tools: list[Tool], question: str | None = None) -> list[Finding]:
    """One informational finding per matching runbook (tag `runbook`)."""
    query = " ".join(p for p in (incident.title, incident.text, question or "") if p)
    res = call(tools, "runbooks_search", query=query or "incident", alert=incident.alert_name, k=2)
    if not res:
        return []
    return [
        Finding(
            specialist="runbooks",
            title=f"Runbook: {hit['title']}",
            severity=Severity.INFO,
            evidence=[Evidence(kind="runbook", source=hit["path"], text=hit["title"])],
            summary=f"{hit['title']} ({hit['id']}, score {hit['score']:.2f})",
            tags=["runbook"],
            data=hit,
        )
        for hit in res.data["hits"]
    ]
