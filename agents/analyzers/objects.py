"""Reading Kubernetes objects as the API returns them (plain camelCase dicts): refs, owners,
label selection, timestamps. Shared by every analyzer so each reads objects the same way."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from agents.models import Evidence, Finding, Severity

Obj = dict[str, Any]


def field_finding(
    specialist: str,
    resource: str,
    title: str,
    text: str,
    *,
    tags: list[str],
    data: dict[str, Any],
    severity: Severity = Severity.CRITICAL,
) -> Finding:
    """A finding whose evidence is one fact read off the object itself (its spec or status)."""
    return Finding(
        specialist=specialist,
        title=title,
        severity=severity,
        resource=resource,
        evidence=[Evidence(kind="field", source=resource, text=text)],
        summary=text,
        tags=tags,
        data=data,
    )


def meta(obj: Obj) -> Obj:
    """The object's metadata (empty dict when absent)."""
    return obj.get("metadata") or {}


def ref(kind: str, obj_or_ns: Obj | str | None, name: str | None = None) -> str:
    """`Kind/namespace/name` (or `Kind/name` for cluster-scoped objects)."""
    if isinstance(obj_or_ns, dict):
        m = meta(obj_or_ns)
        ns, name = m.get("namespace"), m.get("name")
    else:
        ns = obj_or_ns
    return f"{kind}/{ns}/{name}" if ns else f"{kind}/{name}"


def labels_match(selector: dict[str, str] | None, labels: dict[str, str] | None) -> bool:
    """True when every selector label is present with the same value (an empty selector matches
    nothing, as for Services)."""
    if not selector:
        return False
    labels = labels or {}
    return all(labels.get(k) == v for k, v in selector.items())


def match_labels(selector: Obj | None) -> dict[str, str]:
    """matchLabels of a LabelSelector, or a Service's plain selector map."""
    if not selector:
        return {}
    if "matchLabels" in selector or "matchExpressions" in selector:
        return dict(selector.get("matchLabels") or {})
    return {k: v for k, v in selector.items() if isinstance(v, str)}


def owner(obj: Obj, kind: str) -> str | None:
    """Name of the owner of `kind` in ownerReferences, if any."""
    for o in meta(obj).get("ownerReferences") or []:
        if o.get("kind") == kind:
            return o.get("name")
    return None


def pod_workload(pod: Obj) -> tuple[str, str] | None:
    """(Kind, name) of the workload that owns a Pod: Deployment via its ReplicaSet, else the owner."""
    rs = owner(pod, "ReplicaSet")
    if rs:
        hash_ = (meta(pod).get("labels") or {}).get("pod-template-hash")
        if hash_ and rs.endswith("-" + hash_):
            return "Deployment", rs[: -len(hash_) - 1]
        return "Deployment", rs.rsplit("-", 1)[0] if "-" in rs else rs
    for kind in ("StatefulSet", "DaemonSet", "Job"):
        name = owner(pod, kind)
        if name:
            return kind, name
    return None


def pod_owner_ref(pod: Obj) -> str:
    """The ref to blame for a Pod's trouble: its workload when known, else the Pod itself."""
    wl = pod_workload(pod)
    ns = meta(pod).get("namespace")
    if wl:
        return ref(wl[0], ns, wl[1])
    return ref("Pod", pod)


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 timestamp from the API as an aware datetime (None when absent or bad)."""
    if isinstance(value, datetime):
        return value
    if not value or not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def revision(obj: Obj) -> int:
    """The `deployment.kubernetes.io/revision` annotation as an int (0 when absent)."""
    value = (meta(obj).get("annotations") or {}).get("deployment.kubernetes.io/revision")
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def pod_ready(pod: Obj) -> bool:
    """True when the Pod's Ready condition is True."""
    for c in (pod.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return c.get("status") == "True"
    return False


def containers(template_or_pod: Obj) -> list[Obj]:
    """The containers of a Pod or a pod template."""
    spec = template_or_pod.get("spec") or {}
    if "template" in spec:
        spec = (spec.get("template") or {}).get("spec") or {}
    return list(spec.get("containers") or [])


def pod_spec(obj: Obj) -> Obj:
    """The pod spec of a Pod, or of a workload's template."""
    spec = obj.get("spec") or {}
    if "template" in spec:
        return (spec.get("template") or {}).get("spec") or {}
    return spec
