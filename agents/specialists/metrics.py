"""Metrics specialist, rules mode: error-ratio and latency change points per service."""

from __future__ import annotations

from agents.analyzers.metrics import analyze_series
from agents.models import Finding, Incident
from agents.specialists.scope import call, namespaces
from agents.tools.base import Tool

ERROR_RATIO_THRESHOLD = 0.05  # 5% 5xx after the step
LATENCY_THRESHOLD = 0.5  # p99 seconds after the step


def collect(incident: Incident, tools: list[Tool], question: str | None = None) -> list[Finding]:
    """Findings for 5xx-ratio and p99-latency step changes (tags error_ratio_step, latency_step)."""
    findings: list[Finding] = []
    for ns in namespaces(incident, question):
        res = call(tools, "metrics_error_ratio", namespace=ns, minutes=60)
        if res:
            for s in res.data["series"]:
                findings += analyze_series(
                    _resource(s["labels"]),
                    _name(s["labels"]),
                    res.data["query"],
                    s["samples"],
                    kind="error_ratio",
                    threshold=ERROR_RATIO_THRESHOLD,
                )
        lat = call(tools, "metrics_latency", namespace=ns, minutes=60)
        if lat:
            for s in lat.data["result"]:
                findings += analyze_series(
                    _resource(s["metric"]),
                    _name(s["metric"]),
                    lat.data["query"],
                    [(t, v) for t, v in s["samples"] if v == v],  # drop NaN (no traffic)
                    kind="latency",
                    threshold=LATENCY_THRESHOLD,
                )
    return findings


def _resource(labels: dict) -> str | None:
    if labels.get("service") and labels.get("namespace"):
        return f"Service/{labels['namespace']}/{labels['service']}"
    return None


def _name(labels: dict) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items())) or "all"
