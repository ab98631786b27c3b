"""Did the change reach the state it promised? Health checks, polled until a deadline.

Healthy follows SCENARIOS.md: a workload whose Pods are all updated and Ready at
its desired count; a Node that is Ready (and cordoned or not, as asked); a
Service with at least one ready endpoint; a deleted object gone.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from agents.models import Verb
from approvals.models import Check, ExecutionRecord, VerificationResult
from approvals.resources import KubeRequestError, KubeResources, Obj, Ref
from approvals.verbs import drain_pods

CheckFn = Callable[[], list[Check]]
NAMESPACE_WIDE = frozenset({"ResourceQuota", "LimitRange", "NetworkPolicy"})


def _ready(pod: Obj) -> bool:
    for c in (pod.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return c.get("status") == "True"
    return False


def workload_checks(kube: KubeResources, ref: Ref) -> list[Check]:
    """Rollout complete: every Pod updated and Ready, at the desired count."""
    obj = kube.get_or_none(ref)
    if obj is None:
        return [Check(name=f"{ref} exists", ok=False, detail="not found")]
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    md = obj.get("metadata") or {}
    checks = []
    gen, seen = md.get("generation"), status.get("observedGeneration")
    if gen is not None and seen is not None:
        checks.append(
            Check(
                name=f"{ref} change observed",
                ok=seen >= gen,
                detail=f"observedGeneration {seen} < generation {gen}",
            )
        )
    if ref.kind == "DaemonSet":
        want = status.get("desiredNumberScheduled", 0)
        updated = status.get("updatedNumberScheduled", 0)
        ready = status.get("numberReady", 0)
    else:
        want = spec.get("replicas", 1)
        updated = status.get("updatedReplicas", 0)
        ready = status.get("readyReplicas", 0)
    total = status.get("replicas", 0) if ref.kind != "DaemonSet" else want
    available = status.get(
        "numberAvailable" if ref.kind == "DaemonSet" else "availableReplicas", ready
    )
    checks.append(
        Check(
            name=f"{ref} rolled out",
            ok=updated == want and total == want and available == want,
            detail=f"{updated}/{want} updated, {available} available, {total} total",
        )
    )
    labels = (spec.get("selector") or {}).get("matchLabels") or {}
    selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
    pods = [
        p
        for p in kube.list("Pod", ref.namespace, label_selector=selector or None)
        if not (p.get("metadata") or {}).get("deletionTimestamp")
    ]
    ready_pods = sum(1 for p in pods if _ready(p))
    checks.append(
        Check(
            name=f"{ref} pods Ready",
            ok=ready == want and ready_pods == want == len(pods),
            detail=f"{ready_pods}/{len(pods)} pods Ready, {ready}/{want} ready replicas",
        )
    )
    return checks


def service_checks(kube: KubeResources, ref: Ref) -> list[Check]:
    """A Service is serving when its Endpoints have at least one ready address."""
    ep = kube.get_or_none(Ref("Endpoints", ref.namespace, ref.name))
    ready = sum(len(s.get("addresses") or []) for s in (ep or {}).get("subsets") or [])
    return [Check(name=f"{ref} has ready endpoints", ok=ready > 0, detail=f"{ready} ready")]


def node_checks(kube: KubeResources, ref: Ref, *, cordoned: bool, drained: bool) -> list[Check]:
    """A Node is Ready, cordoned or not as asked, and (after a drain) empty of evictable Pods."""
    node = kube.get_or_none(ref)
    if node is None:
        return [Check(name=f"{ref} exists", ok=False, detail="not found")]
    unsched = bool((node.get("spec") or {}).get("unschedulable"))
    conds = (node.get("status") or {}).get("conditions") or []
    ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in conds)
    checks = [
        Check(name=f"{ref} Ready", ok=ready, detail="NotReady"),
        Check(
            name=f"{ref} {'cordoned' if cordoned else 'schedulable'}",
            ok=unsched == cordoned,
            detail=f"spec.unschedulable={unsched}",
        ),
    ]
    if drained:
        left = [Ref.of(p) for p in drain_pods(kube, ref.name)]
        checks.append(
            Check(
                name=f"{ref} drained",
                ok=not left,
                detail="still running: " + ", ".join(str(r) for r in left),
            )
        )
    return checks


def gone_checks(kube: KubeResources, ref: Ref, old_uid: str | None) -> list[Check]:
    """A deleted object is gone (or, for a controller's Pod, replaced by a new one)."""
    obj = kube.get_or_none(ref)
    uid = ((obj or {}).get("metadata") or {}).get("uid")
    ok = obj is None or (old_uid is not None and uid != old_uid)
    return [Check(name=f"{ref} deleted", ok=ok, detail="still present")]


def exists_checks(kube: KubeResources, ref: Ref) -> list[Check]:
    """The object exists again (after a rollback of a delete)."""
    ok = kube.get_or_none(ref) is not None
    return [Check(name=f"{ref} exists", ok=ok, detail="not found")]


def _references(template: Obj, kind: str, name: str) -> bool:
    """Whether a pod template uses a ConfigMap, Secret or PVC of that name."""
    spec = template.get("spec") or {}
    key = {"ConfigMap": "configMap", "Secret": "secret"}.get(kind)
    for v in spec.get("volumes") or []:
        if (
            kind == "PersistentVolumeClaim"
            and (v.get("persistentVolumeClaim") or {}).get("claimName") == name
        ):
            return True
        if key and (
            (v.get(key) or {}).get("name") == name or (v.get(key) or {}).get("secretName") == name
        ):
            return True
    ref_key = {"ConfigMap": "configMapKeyRef", "Secret": "secretKeyRef"}.get(kind)
    env_key = {"ConfigMap": "configMapRef", "Secret": "secretRef"}.get(kind)
    for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        for e in c.get("env") or []:
            if ref_key and ((e.get("valueFrom") or {}).get(ref_key) or {}).get("name") == name:
                return True
        for e in c.get("envFrom") or []:
            if env_key and (e.get(env_key) or {}).get("name") == name:
                return True
    return False


def related_workloads(kube: KubeResources, ref: Ref) -> list[Ref]:
    """The Deployments whose health shows whether a change to `ref` worked.

    A Service's backends; the users of a ConfigMap, Secret or PVC; every Deployment of the
    namespace for namespace-wide objects (quotas, limit ranges, network policies).
    """
    if not ref.namespace or ref.kind in ("Deployment", "StatefulSet", "DaemonSet", "Pod"):
        return []
    out = []
    svc = kube.get_or_none(ref) if ref.kind == "Service" else None
    selector = ((svc or {}).get("spec") or {}).get("selector") or {}
    for d in kube.list("Deployment", ref.namespace):
        template = (d.get("spec") or {}).get("template") or {}
        labels = (template.get("metadata") or {}).get("labels") or {}
        if (d.get("spec") or {}).get("replicas", 1) == 0:
            continue
        if ref.kind == "Service":
            hit = bool(selector) and all(labels.get(k) == v for k, v in selector.items())
        elif ref.kind in ("ConfigMap", "Secret", "PersistentVolumeClaim"):
            hit = _references(template, ref.kind, ref.name)
        else:
            hit = ref.kind in NAMESPACE_WIDE
        if hit:
            out.append(Ref.of(d))
    return out


def waiting_for_node(kube: KubeResources, node: Obj) -> list[Ref]:
    """Deployments pinned to nodes like this one, or with Pending Pods it could take."""
    labels = (node.get("metadata") or {}).get("labels") or {}
    out: set[Ref] = set()
    # Workloads pinned to nodes like this one (their Pods may already be scheduled here).
    for d in kube.list("Deployment", None):
        tspec = ((d.get("spec") or {}).get("template") or {}).get("spec") or {}
        selector = tspec.get("nodeSelector") or {}
        if selector and all(labels.get(k) == v for k, v in selector.items()):
            out.add(Ref.of(d))
    for pod in kube.list("Pod", None):
        spec = pod.get("spec") or {}
        if spec.get("nodeName") or (pod.get("status") or {}).get("phase") != "Pending":
            continue
        if any(labels.get(k) != v for k, v in (spec.get("nodeSelector") or {}).items()):
            continue
        ns = (pod.get("metadata") or {}).get("namespace")
        for o in (pod.get("metadata") or {}).get("ownerReferences") or []:
            if o.get("kind") != "ReplicaSet":
                continue
            rs = kube.get_or_none(Ref("ReplicaSet", ns, o["name"])) or {}
            for d in (rs.get("metadata") or {}).get("ownerReferences") or []:
                if d.get("kind") == "Deployment":
                    out.add(Ref("Deployment", ns, d["name"]))
    return sorted(out, key=str)


def health_checks(kube: KubeResources, ref: Ref) -> list[Check]:
    """The health of one resource as SCENARIOS.md defines it, whatever its kind.

    For configuration-like objects, the workloads that depend on them must be healthy too:
    that is what a fix to a quota or a ConfigMap is for.
    """
    if ref.kind in ("Deployment", "StatefulSet", "DaemonSet"):
        return workload_checks(kube, ref)
    related = [c for w in related_workloads(kube, ref) for c in workload_checks(kube, w)]
    if ref.kind == "Service":
        return service_checks(kube, ref) + related
    if ref.kind == "Node":
        node = kube.get_or_none(ref) or {}
        return node_checks(
            kube,
            ref,
            cordoned=bool((node.get("spec") or {}).get("unschedulable")),
            drained=False,
        )
    return exists_checks(kube, ref) + related


def after_apply(kube: KubeResources, record: ExecutionRecord) -> CheckFn:
    """The checks that say an applied proposal did what it promised."""
    prop = record.proposal
    ref = Ref.parse(prop.target)
    if prop.verb == Verb.DELETE:
        before = record.snapshot.get(str(ref)) or {}
        uid = (before.get("metadata") or {}).get("uid")
        return lambda: gone_checks(kube, ref, uid)
    if prop.verb in (Verb.CORDON, Verb.DRAIN):
        drained = prop.verb == Verb.DRAIN
        return lambda: node_checks(kube, ref, cordoned=True, drained=drained)
    if prop.verb == Verb.UNCORDON:
        # Decided once, from the before-state: the workloads this node was being waited for.
        waiting = waiting_for_node(kube, record.snapshot.get(str(ref)) or {})
        return lambda: (
            node_checks(kube, ref, cordoned=False, drained=False)
            + [c for w in waiting for c in workload_checks(kube, w)]
        )
    return lambda: health_checks(kube, ref)


def after_rollback(kube: KubeResources, record: ExecutionRecord) -> CheckFn:
    """The checks that say the before-state is back."""
    ref = Ref.parse(record.proposal.target)
    before = record.snapshot.get(str(ref)) or {}
    if ref.kind == "Node":
        cordoned = bool((before.get("spec") or {}).get("unschedulable"))
        return lambda: node_checks(kube, ref, cordoned=cordoned, drained=False)
    if ref.kind in ("Deployment", "StatefulSet", "DaemonSet"):
        # The before-state may itself have been broken (that is why we acted): a rollback
        # is verified by the spec being back and observed, not by the workload being healthy.
        return lambda: restored_checks(kube, ref, before)
    return lambda: exists_checks(kube, ref)


def restored_checks(kube: KubeResources, ref: Ref, before: Obj) -> list[Check]:
    """The workload's template and replica count equal the snapshot's, and the controller saw it."""
    obj = kube.get_or_none(ref)
    if obj is None:
        return [Check(name=f"{ref} exists", ok=False, detail="not found")]
    spec, old = obj.get("spec") or {}, before.get("spec") or {}
    md, status = obj.get("metadata") or {}, obj.get("status") or {}
    gen, seen = md.get("generation"), status.get("observedGeneration")
    return [
        Check(
            name=f"{ref} template restored",
            ok=spec.get("template") == old.get("template"),
            detail="the pod template differs from the snapshot",
        ),
        Check(
            name=f"{ref} replicas restored",
            ok=spec.get("replicas") == old.get("replicas"),
            detail=f"replicas {spec.get('replicas')} != {old.get('replicas')}",
        ),
        Check(
            name=f"{ref} change observed",
            ok=gen is None or seen is None or seen >= gen,
            detail=f"observedGeneration {seen} < generation {gen}",
        ),
    ]


def poll(check: CheckFn, *, timeout: float, interval: float = 0.25) -> VerificationResult:
    """Run `check` until every check holds or `timeout` seconds pass."""
    start = time.monotonic()
    checks: list[Check] = []
    while True:
        try:
            checks = check()
        except KubeRequestError as e:  # a flaky read is a failed check, not a crash
            checks = [Check(name="read state", ok=False, detail=str(e))]
        elapsed = time.monotonic() - start
        if checks and all(c.ok for c in checks):
            return VerificationResult(ok=True, checks=checks, seconds=elapsed)
        if elapsed >= timeout:
            return VerificationResult(ok=False, checks=checks, seconds=elapsed, timed_out=True)
        time.sleep(min(interval, max(0.0, timeout - elapsed)))
