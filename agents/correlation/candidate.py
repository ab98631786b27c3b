"""A candidate root cause, and the lookups every correlation rule uses over the findings."""

from __future__ import annotations

from dataclasses import dataclass, field

from agents.analyzers.logs import DEPENDENCY_CLASSES
from agents.models import Category, Finding, Proposal

POD_FAILURES = {
    "crashloop",
    "oomkilled",
    "image_pull",
    "config_error",
    "not_ready",
    "unschedulable",
}
DEPENDENCY_LOGS = {f"log_{c}" for c in DEPENDENCY_CLASSES}


@dataclass
class Candidate:
    """One possible root cause with its score, the findings behind it and its fix."""

    resource: str
    category: Category
    score: float
    headline: str
    cited: list[int] = field(default_factory=list)
    proposals: list[Proposal] = field(default_factory=list)


def find(findings: list[Finding], tag: str, resource: str) -> int | None:
    """Index of the first finding about `resource` carrying `tag`."""
    return next(
        (i for i, f in enumerate(findings) if tag in f.tags and f.resource == resource), None
    )


def find_all(findings: list[Finding], tag: str, resource: str) -> list[int]:
    """Indexes of every finding about `resource` carrying `tag`."""
    return [i for i, f in enumerate(findings) if tag in f.tags and f.resource == resource]


def has(findings: list[Finding], tag: str, resource: str) -> bool:
    """True when some finding about `resource` carries `tag`."""
    return find(findings, tag, resource) is not None


def callers(findings: list[Finding], service_ref: str) -> list[int]:
    """Log findings of callers that fail to reach this Service (by DNS name or cluster IP)."""
    _, ns, name = (service_ref.split("/") + ["", ""])[:3]
    out = []
    for i, f in enumerate(findings):
        if DEPENDENCY_LOGS & set(f.tags):
            caller_ns = (f.resource or "//").split("/")[1]
            for t in f.data.get("targets") or []:
                if t.get("service") == name and (t.get("namespace") or caller_ns) == ns:
                    out.append(i)
                    break
    return out


def services_of(findings: list[Finding], workload: str) -> list[str]:
    """Services whose selected Pods belong to `workload` (from the Service findings' backends);
    a Service named like the workload in its namespace counts too, as it nearly always is."""
    refs = {
        f.resource
        for f in findings
        if f.resource
        and f.resource.startswith("Service/")
        and workload in f.data.get("backends", [])
    }
    _, ns, name = (workload.split("/") + ["", ""])[:3]
    refs.add(f"Service/{ns}/{name}")
    return sorted(refs)


def workload_callers(findings: list[Finding], workload: str) -> list[int]:
    """Log findings of callers failing to reach any Service in front of `workload`."""
    out: list[int] = []
    for svc in services_of(findings, workload):
        out += [i for i in callers(findings, svc) if i not in out]
    return [i for i in out if findings[i].resource != workload]


def name_of(ref: str) -> str:
    """The name part of a Kind/namespace/name ref."""
    return ref.rsplit("/", 1)[-1]


def ns_of(ref: str) -> str:
    """The namespace part of a ref ('' for cluster-scoped kinds)."""
    parts = ref.split("/")
    return parts[1] if len(parts) == 3 else ""


def kref(ref: str) -> str:
    """kubectl's `kind/name` for a ref."""
    kind, _, rest = ref.partition("/")
    return f"{kind.lower()}/{rest.rsplit('/', 1)[-1]}"
