"""Deployments: scaled to zero (with the replica count it had before) and unavailable replicas."""

from __future__ import annotations

import re

from agents.analyzers.objects import Obj, field_finding, meta, ref, revision
from agents.analyzers.services import last_applied, last_edit
from agents.models import Finding

SPECIALIST = "kubernetes"
_SCALED_DOWN = re.compile(r"Scaled down replica set (\S+) from (\d+) to 0\b")


def analyze_deployments(
    deployments: list[Obj], replicasets: list[Obj], events: list[Obj] | None = None
) -> list[Finding]:
    """Findings for Deployments scaled to zero (tag `scaled_to_zero`, data.previous_replicas)."""
    findings = []
    for d in deployments:
        spec = d.get("spec") or {}
        if spec.get("replicas") != 0:
            continue
        prev = previous_replicas(d, replicasets, events)
        resource = ref("Deployment", d)
        text = "spec.replicas is 0: no Pods serve this workload"
        if prev:
            text += f" (it ran {prev} replicas before)"
        if last_edit(d):
            text += f"; last edited at {last_edit(d)}"
        findings.append(
            field_finding(
                SPECIALIST,
                resource,
                f"Deployment scaled to zero: {resource}",
                text,
                tags=["scaled_to_zero"],
                data={"previous_replicas": prev, "edited_at": last_edit(d)},
            )
        )
    return findings


def previous_replicas(
    deployment: Obj, replicasets: list[Obj], events: list[Obj] | None = None
) -> int | None:
    """The replica count a Deployment had before being scaled: from last-applied, then the
    controller's "Scaled down replica set X from N to 0" Event, then the ReplicaSets'
    `deployment.kubernetes.io/desired-replicas` annotation, then their status."""
    applied = last_applied(deployment) or {}
    value = (applied.get("spec") or {}).get("replicas")
    if isinstance(value, int) and value > 0:
        return value
    name, ns = meta(deployment).get("name"), meta(deployment).get("namespace")
    owned = [
        rs
        for rs in replicasets
        if meta(rs).get("namespace") == ns
        and any(o.get("name") == name for o in meta(rs).get("ownerReferences") or [])
    ]
    names = {meta(rs).get("name") for rs in owned}
    for ev in reversed(events or []):
        m = _SCALED_DOWN.search(ev.get("message") or "")
        if m and m.group(1) in names and int(m.group(2)) > 0:
            return int(m.group(2))
    for rs in sorted(owned, key=revision, reverse=True):
        ann = (meta(rs).get("annotations") or {}).get("deployment.kubernetes.io/desired-replicas")
        if ann and ann.isdigit() and int(ann) > 0:
            return int(ann)
    for rs in sorted(owned, key=revision, reverse=True):
        for key in ("replicas", "readyReplicas", "fullyLabeledReplicas"):
            v = (rs.get("status") or {}).get(key)
            if isinstance(v, int) and v > 0:
                return v
    return None
