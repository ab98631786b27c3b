"""SCENARIOS.md's "healthy": what `fixed_when.healthy` and the kill switch check."""

from __future__ import annotations

from sandbox.controllers.common import pod_ready
from sandbox.controllers.endpoints import service_healthy
from sandbox.controllers.scheduler import node_ready
from sandbox.faults import RefError, parse_ref
from sandbox.store import ObjectStore


def is_healthy(store: ObjectStore, ref: str) -> bool:
    """A Deployment (StatefulSet, DaemonSet) with all Pods updated and Ready at its desired count
    above zero; a Ready Node; a Service with a ready endpoint; a Ready Pod; any other kind that
    exists."""
    try:
        kind, ns, name = parse_ref(ref)
    except RefError:
        return False
    obj = store.find(kind, ns, name)
    if obj is None:
        return False
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    if kind == "Deployment":
        want = spec.get("replicas", 1) if spec.get("replicas") is not None else 1
        return want > 0 and all(
            status.get(k, 0) == want
            for k in ("replicas", "updatedReplicas", "readyReplicas", "availableReplicas")
        )
    if kind == "StatefulSet":
        want = spec.get("replicas", 1) if spec.get("replicas") is not None else 1
        return (
            want > 0
            and status.get("readyReplicas", 0) == want
            and status.get("updatedReplicas", want) == want
        )
    if kind == "DaemonSet":
        want = status.get("desiredNumberScheduled", 0)
        return (
            want > 0
            and status.get("numberReady", 0) == want
            and status.get("updatedNumberScheduled", want) == want
        )
    if kind == "Node":
        return node_ready(obj)
    if kind == "Service":
        return service_healthy(store, ns, name)
    if kind == "Pod":
        return pod_ready(obj)
    return True
