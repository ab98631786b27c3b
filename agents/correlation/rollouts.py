"""Recent rollouts whose Pods look healthy but whose change broke the service: the new template
names the very host the logs now fail to reach, or the service's error ratio stepped up right
after the rollout. Ready Pods do not clear a release; a rollback does."""

from __future__ import annotations

from agents.analyzers.objects import parse_time
from agents.correlation.candidate import (
    DEPENDENCY_LOGS,
    POD_FAILURES,
    Candidate,
    find_all,
    services_of,
)
from agents.correlation.workloads import undo
from agents.models import Category, Finding

STEP_AFTER_ROLLOUT_SLACK = 120.0  # seconds: metrics are sampled, rollouts take a moment
CONFIG_FIELDS = ("env", "envFrom", "command", "args", "volumes", "ports")


def risky_rollouts(findings: list[Finding]) -> list[Candidate]:
    """A candidate per recent rollout that its own logs or its Service's errors implicate."""
    out = []
    for i, r in enumerate(findings):
        if "rollout" not in r.tags or "recent" not in r.tags or not r.resource:
            continue
        if any(POD_FAILURES & set(f.tags) for f in findings if f.resource == r.resource):
            continue  # failing Pods: the workload rule already weighs this rollout
        diff = r.data.get("diff") or []
        if not diff:
            continue
        named = _logs_naming_the_change(findings, r.resource, diff)
        steps = _steps_after(findings, r)
        if not named and not steps:
            continue
        score = 0.85 if named else 0.7
        score += 0.03 if named and steps else 0.0
        changed = {c["field"] for c in diff}
        category = (
            Category.CODE_DEFECT
            if changed <= {"image"} and not named
            else Category.MISCONFIGURATION
        )
        changes = "; ".join(c["text"] for c in diff)
        why = [findings[j].summary for j in named[:1] + steps[:1]]
        headline = f"revision {r.data['revision']} changed {changes}; since then: {' / '.join(why)}"
        out.append(
            Candidate(
                r.resource,
                category,
                score,
                headline,
                [i] + named + steps,
                [undo(r.resource, r, changes)],
            )
        )
    return out


def _logs_naming_the_change(findings: list[Finding], workload: str, diff: list[dict]) -> list[int]:
    """The workload's dependency-error log findings whose target appears in a changed value."""
    new_values = " ".join(str(c.get("new")) for c in diff if c["field"] in CONFIG_FIELDS)
    out = []
    for j, f in enumerate(findings):
        if f.resource != workload or not DEPENDENCY_LOGS & set(f.tags):
            continue
        hosts = [t.get("host") for t in f.data.get("targets") or [] if t.get("host")]
        if any(h in new_values for h in hosts):
            out.append(j)
    return out


def _steps_after(findings: list[Finding], rollout: Finding) -> list[int]:
    """Error-ratio steps on the rollout's Services that began after the rollout started."""
    created = parse_time(rollout.data.get("created"))
    if created is None or not rollout.resource:
        return []
    out = []
    for svc in services_of(findings, rollout.resource):
        for j in find_all(findings, "error_ratio_step", svc):
            at = findings[j].data.get("at_ts")
            if at is not None and at >= created.timestamp() - STEP_AFTER_ROLLOUT_SLACK:
                out.append(j)
    return out
