"""The rules supervisor's reasoning: findings in, a ranked Diagnosis and the least risky Proposal
out. Rules are generic (they read tags and structured `data` the analyzers attach), never names
of particular services. Each rule (`agents/correlation/`) yields Candidates; a cascade pass
demotes callers whose failures follow from another candidate; the strongest candidate wins."""

from __future__ import annotations

from agents.correlation.candidate import (
    DEPENDENCY_LOGS,
    Candidate,
    callers,
    name_of,
    services_of,
)
from agents.correlation.capacity import network_policies, quotas, scheduling
from agents.correlation.rollouts import risky_rollouts
from agents.correlation.services import scaled_to_zero, service_faults
from agents.correlation.workloads import workload_failures
from agents.models import Category, Diagnosis, Evidence, Finding, Incident, Proposal, Severity

IN_SCOPE_BONUS = 0.02  # the workload the person or alert named wins ties
CASCADE_PENALTY = 0.3  # a caller failing because its dependency fails is a symptom


def correlate(incident: Incident, findings: list[Finding]) -> tuple[Diagnosis, list[Proposal]]:
    """The diagnosis (root cause, category, confidence, cited evidence) and proposals."""
    candidates = (
        workload_failures(findings)
        + risky_rollouts(findings)
        + service_faults(findings)
        + scaled_to_zero(findings)
        + scheduling(findings)
        + quotas(findings)
        + network_policies(findings)
    )
    if not candidates:
        return _fallback(findings), []
    for c in candidates:
        if _in_scope(c.resource, incident):
            c.score += IN_SCOPE_BONUS
    _demote_callers(candidates, findings)
    best = max(candidates, key=lambda c: c.score)
    best.cited += _supporting(best.resource, findings, best.cited)
    cited = list(dict.fromkeys(best.cited))
    evidence: list[Evidence] = []
    for i in cited:
        evidence += findings[i].evidence
    explanation = "\n".join(f"[{i}] {findings[i].title}: {findings[i].summary}" for i in cited)
    others = [c for c in sorted(candidates, key=lambda c: -c.score) if c is not best][:2]
    if others:
        explanation += "\nAlso considered: " + "; ".join(
            f"{c.resource} ({c.score:.2f})" for c in others
        )
    diagnosis = Diagnosis(
        root_cause=best.resource,
        category=best.category,
        confidence=round(max(0.05, min(best.score, 0.99)), 2),
        summary=f"{best.resource}: {best.headline}",
        explanation=explanation,
        evidence=evidence[:12],
        findings_cited=cited,
    )
    return diagnosis, best.proposals


def next_question(incident: Incident, findings: list[Finding]) -> str | None:
    """A follow-up for another bounded round: callers failing to reach a Service in a namespace
    not yet examined -> look at that Service and its Pods."""
    if not incident.namespace:
        return None  # the first round already looked cluster-wide
    seen = {f.resource for f in findings if f.resource}
    for f in findings:
        if not DEPENDENCY_LOGS & set(f.tags):
            continue
        for t in f.data.get("targets") or []:
            if t.get("service") and t.get("namespace") and t["namespace"] != incident.namespace:
                ref = f"Service/{t['namespace']}/{t['service']}"
                if ref not in seen:
                    what = next(tag for tag in f.tags if tag in DEPENDENCY_LOGS)[4:]
                    return f"Look at {ref}: {f.resource} logs '{what}' to {t['host']}:{t['port']}"
    return None


def _demote_callers(candidates: list[Candidate], findings: list[Finding]) -> None:
    """A candidate whose own logs show it failing to reach another candidate is a symptom of
    that candidate (a cascade): it loses to the dependency it cannot reach."""
    for c in candidates:
        for d in candidates:
            if d is c:
                continue
            targets = [d.resource] if d.resource.startswith("Service/") else []
            targets += services_of(findings, d.resource)
            mine = [i for t in targets for i in callers(findings, t)]
            if any(findings[i].resource == c.resource for i in mine):
                c.score -= CASCADE_PENALTY
                break


def _fallback(findings: list[Finding]) -> Diagnosis:
    """No rule fired: blame a resource only on critical evidence; otherwise no fault."""
    serious = [
        (i, f) for i, f in enumerate(findings) if f.severity == Severity.CRITICAL and f.resource
    ]
    if not serious:
        seen = [f.title for f in findings if f.severity != Severity.INFO][:3]
        note = f" Also seen, not a fault now: {'; '.join(seen)}." if seen else ""
        return Diagnosis(
            root_cause=None,
            category=Category.NO_FAULT,
            confidence=0.6,
            summary=(
                "No fault found: workloads, services, nodes, logs and metrics look healthy now."
                + note
            ),
        )
    i, f = serious[0]
    category = (
        Category.DEPENDENCY_FAILURE
        if DEPENDENCY_LOGS & set(f.tags)
        else Category.CODE_DEFECT
        if "log_panic" in f.tags
        else Category.MISCONFIGURATION
    )
    return Diagnosis(
        root_cause=f.resource,
        category=category,
        confidence=0.3,
        summary=f"{f.resource}: {f.summary}",
        explanation=f"[{i}] {f.title}",
        evidence=f.evidence,
        findings_cited=[i],
    )


def _supporting(resource: str, findings: list[Finding], cited: list[int]) -> list[int]:
    """Other findings about the blamed resource (its logs, its config refs)."""
    return [
        i
        for i, f in enumerate(findings)
        if f.resource == resource and i not in cited and f.severity != Severity.INFO
    ][:4]


def _in_scope(resource: str, incident: Incident) -> bool:
    names = {incident.workload, incident.service} - {None}
    return name_of(resource) in names
