"""Logs specialist, rules mode: fold each workload's logs into signatures and classify them."""

from __future__ import annotations

from agents.analyzers.logs import analyze_signatures
from agents.models import Finding, Incident
from agents.specialists.scope import call, namespaces
from agents.tools.base import Tool


def collect(incident: Incident, tools: list[Tool], question: str | None = None) -> list[Finding]:
    """Findings for fatal config errors, refused connections/timeouts (with their target), OOM,
    panics and auth failures in the logs of the workloads in scope."""
    findings: list[Finding] = []
    for ns in namespaces(incident, question):
        res = call(tools, "logs_signatures", namespace=ns)
        if not res:
            continue
        by_ip = res.data.get("services_by_ip") or {}
        for ref, sigs in res.data["by_workload"].items():
            findings += analyze_signatures(ref, sigs, services_by_ip=by_ip)
    return findings
