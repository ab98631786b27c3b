"""ResourceQuotas: exhausted quotas and the FailedCreate events of ReplicaSets they block."""

from __future__ import annotations

import re

from agents.analyzers.objects import Obj, meta, ref
from agents.models import Evidence, Finding, Severity

SPECIALIST = "kubernetes"
_EXCEEDED = re.compile(r"exceeded quota:\s*([a-z0-9.-]+)", re.I)


def analyze_quotas(
    quotas: list[Obj], events: list[Obj], replicasets: list[Obj] | None = None
) -> list[Finding]:
    """Findings for quotas at their hard limit (`quota_exhausted`) and for workloads whose Pods
    are refused by one (`quota_failed_create`, naming the quota)."""
    findings: list[Finding] = []
    blocked: dict[str, list[str]] = {}
    for inv, msg in _refusals(events, replicasets or []):
        m = _EXCEEDED.search(msg)
        quota = m.group(1) if m else None
        owner = _rs_owner(inv, replicasets or [])
        resource = owner or ref(
            inv.get("kind", "ReplicaSet"), inv.get("namespace"), inv.get("name")
        )
        key = f"{resource}|{quota}"
        if key in blocked:
            continue
        blocked[key] = [msg]
        findings.append(
            Finding(
                specialist=SPECIALIST,
                title=f"Pods refused by ResourceQuota: {resource}",
                severity=Severity.CRITICAL,
                resource=resource,
                evidence=[
                    Evidence(kind="event", source=f"{inv.get('kind')}/{inv.get('name')}", text=msg)
                ],
                summary=msg,
                tags=["quota_failed_create"],
                data={
                    "quota": ref("ResourceQuota", inv.get("namespace"), quota) if quota else None,
                    "message": msg,
                    "requested": _requested(msg),
                    "missing_pods": _missing_pods(inv, replicasets or []),
                },
            )
        )
    for q in quotas:
        hard = (q.get("status") or {}).get("hard") or (q.get("spec") or {}).get("hard") or {}
        used = (q.get("status") or {}).get("used") or {}
        full = [k for k in hard if k in used and quantity(used[k]) >= quantity(hard[k])]
        if not full:
            continue
        resource = ref("ResourceQuota", q)
        text = "; ".join(f"{k} used {used[k]} of hard {hard[k]}" for k in full)
        findings.append(
            Finding(
                specialist=SPECIALIST,
                title=f"ResourceQuota exhausted: {resource}",
                severity=Severity.WARNING,
                resource=resource,
                evidence=[Evidence(kind="field", source=resource, text=text)],
                summary=text,
                tags=["quota_exhausted"],
                data={"exhausted": {k: {"used": used[k], "hard": hard[k]} for k in full}},
            )
        )
    return findings


def _refusals(events: list[Obj], replicasets: list[Obj]) -> list[tuple[Obj, str]]:
    """(involved object, message) of every quota refusal: FailedCreate Events, and the
    ReplicaFailure condition the ReplicaSet controller sets (Events expire; it does not)."""
    out: list[tuple[Obj, str]] = []
    for ev in events:
        msg = ev.get("message") or ""
        if ev.get("reason") == "FailedCreate" and "exceeded quota" in msg:
            out.append((ev.get("involvedObject") or {}, msg))
    for rs in replicasets:
        for c in (rs.get("status") or {}).get("conditions") or []:
            msg = c.get("message") or ""
            if c.get("type") == "ReplicaFailure" and "exceeded quota" in msg:
                m = meta(rs)
                inv = {"kind": "ReplicaSet", "name": m.get("name"), "namespace": m.get("namespace")}
                out.append((inv, msg))
    return out


_REQUESTED = re.compile(r"requested:\s*([^,]+(?:,\s*[a-z.]+=[^,]+)*?)(?:,\s*used:|$)")


def _requested(message: str) -> dict[str, str]:
    """What one refused Pod asked for, from "requested: requests.cpu=500m, used: ..."."""
    m = _REQUESTED.search(message)
    if not m:
        return {}
    pairs = (p.strip().partition("=") for p in m.group(1).split(","))
    return {k: v for k, _, v in pairs if k and v}


def _missing_pods(inv: Obj, replicasets: list[Obj]) -> int:
    """How many Pods the refused ReplicaSet still lacks (desired minus created)."""
    for rs in replicasets:
        m = meta(rs)
        if m.get("name") == inv.get("name") and m.get("namespace") == inv.get("namespace"):
            want = (rs.get("spec") or {}).get("replicas") or 0
            have = (rs.get("status") or {}).get("replicas") or 0
            return max(want - have, 1)
    return 1


def _rs_owner(inv: Obj, replicasets: list[Obj]) -> str | None:
    if inv.get("kind") != "ReplicaSet":
        return None
    for rs in replicasets:
        if meta(rs).get("name") == inv.get("name") and meta(rs).get("namespace") == inv.get(
            "namespace"
        ):
            for o in meta(rs).get("ownerReferences") or []:
                if o.get("kind") == "Deployment":
                    return ref("Deployment", inv.get("namespace"), o.get("name"))
    name = inv.get("name") or ""
    if "-" in name:
        return ref("Deployment", inv.get("namespace"), name.rsplit("-", 1)[0])
    return None


_UNITS = {
    "m": 1e-3,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
}


def quantity(value: object) -> float:
    """A Kubernetes quantity ("500m", "2Gi", "10") as a float."""
    text = str(value).strip()
    m = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", text)
    if not m:
        return 0.0
    return float(m.group(1)) * _UNITS.get(m.group(2), 1)
