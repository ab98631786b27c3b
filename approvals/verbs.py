"""From a proposal to the API writes that carry it out, one function per catalogue verb.

Each planner reads the before-state, computes the object the change should
produce, and sends only the difference as a JSON merge patch (RFC 7386), so the
dry run, the apply and the rollback all say exactly the same thing to the server.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from agents.models import Proposal, Verb
from approvals.models import Operation
from approvals.resources import KubeResources, Obj, Ref

# Annotations `kubectl rollout undo` keeps from the Deployment instead of the ReplicaSet.
ROLLBACK_SKIPPED_ANNOTATIONS = frozenset(
    {
        "kubectl.kubernetes.io/last-applied-configuration",
        "deployment.kubernetes.io/revision",
        "deployment.kubernetes.io/revision-history",
        "deployment.kubernetes.io/desired-replicas",
        "deployment.kubernetes.io/max-replicas",
        "deprecated.deployment.rollback.to",
    }
)
REVISION = "deployment.kubernetes.io/revision"
WORKLOADS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"})


class PlanError(Exception):
    """The proposal cannot be turned into a change (wrong kind, missing container, ...)."""


@dataclass
class Plan:
    """What a proposal will write, and which objects it touches (for the snapshot)."""

    touched: list[Ref]
    before: dict[str, Obj | None]
    operations: list[Operation] = field(default_factory=list)


def merge_patch(before: Any, after: Any) -> Any:
    """The RFC 7386 merge patch that turns `before` into `after` (lists are replaced whole)."""
    if not (isinstance(before, dict) and isinstance(after, dict)):
        return copy.deepcopy(after)
    patch: dict[str, Any] = {k: None for k in before if k not in after}
    for k, v in after.items():
        if k not in before:
            patch[k] = copy.deepcopy(v)
        elif isinstance(v, dict) and isinstance(before[k], dict):
            sub = merge_patch(before[k], v)
            if sub:
                patch[k] = sub
        elif before[k] != v:
            patch[k] = copy.deepcopy(v)
    return patch


def writable_part(obj: Obj) -> Obj:
    """What a person may change: everything but status and server-set metadata."""
    out = {k: copy.deepcopy(v) for k, v in obj.items() if k not in ("status", "metadata")}
    md = obj.get("metadata") or {}
    out["metadata"] = {
        "labels": copy.deepcopy(md.get("labels") or {}),
        "annotations": {k: v for k, v in (md.get("annotations") or {}).items() if k != REVISION},
    }
    return out


def _patch_to(ref: Ref, before: Obj, after: Obj, description: str) -> Operation:
    body = merge_patch(writable_part(before), writable_part(after))
    if not body:
        raise PlanError(f"{ref} already is in the proposed state; there is nothing to change")
    return Operation(
        action="patch", ref=str(ref), patch_type="merge", body=body, description=description
    )


def _pod_spec(obj: Obj, ref: Ref) -> Obj:
    if ref.kind not in WORKLOADS:
        raise PlanError(f"{ref.kind} has no pod template; this verb acts on Deployments and kin")
    return obj.setdefault("spec", {}).setdefault("template", {}).setdefault("spec", {})


def _containers(obj: Obj, ref: Ref, name: str | None) -> list[Obj]:
    containers = _pod_spec(obj, ref).get("containers") or []
    if name is None:
        return containers
    chosen = [c for c in containers if c.get("name") == name]
    if not chosen:
        names = ", ".join(c.get("name", "?") for c in containers) or "none"
        raise PlanError(f"{ref} has no container {name!r}; its containers are: {names}")
    return chosen


def _require(ref: Ref, *kinds: str) -> None:
    if ref.kind not in kinds:
        raise PlanError(f"this verb acts on {' or '.join(kinds)}, not on {ref.kind} ({ref})")


def _restart(ref: Ref, obj: Obj, p: dict[str, Any]) -> Obj:
    _require(ref, "Deployment", "StatefulSet", "DaemonSet")
    tmpl_md = obj["spec"].setdefault("template", {}).setdefault("metadata", {})
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    tmpl_md.setdefault("annotations", {})["kubectl.kubernetes.io/restartedAt"] = now
    return obj


def _scale(ref: Ref, obj: Obj, p: dict[str, Any]) -> Obj:
    _require(ref, "Deployment", "StatefulSet", "ReplicaSet")
    replicas = p.get("replicas")
    if not isinstance(replicas, int) or replicas < 0:
        raise PlanError(f"scale needs a whole number of replicas >= 0, got {replicas!r}")
    obj["spec"]["replicas"] = replicas
    return obj


def _set_image(ref: Ref, obj: Obj, p: dict[str, Any]) -> Obj:
    if not p.get("image"):
        raise PlanError("set_image needs an image")
    for c in _containers(obj, ref, p.get("container")):
        c["image"] = p["image"]
    return obj


def _set_env(ref: Ref, obj: Obj, p: dict[str, Any]) -> Obj:
    env = p.get("env") or {}
    if not env:
        raise PlanError("set_env needs at least one variable in env")
    for c in _containers(obj, ref, p.get("container")):
        entries = [e for e in c.get("env") or [] if e.get("name") not in env]
        entries += [{"name": k, "value": str(v)} for k, v in env.items() if v is not None]
        c["env"] = entries
    return obj


def _set_resources(ref: Ref, obj: Obj, p: dict[str, Any]) -> Obj:
    if not (p.get("limits") or p.get("requests")):
        raise PlanError("set_resources needs limits or requests")
    for c in _containers(obj, ref, p.get("container")):
        res = c.setdefault("resources", {})
        for part in ("limits", "requests"):
            if p.get(part):
                res.setdefault(part, {}).update({k: str(v) for k, v in p[part].items()})
    return obj


def _cordon(ref: Ref, obj: Obj, p: dict[str, Any]) -> Obj:
    _require(ref, "Node")
    obj.setdefault("spec", {})["unschedulable"] = True
    return obj


def _uncordon(ref: Ref, obj: Obj, p: dict[str, Any]) -> Obj:
    _require(ref, "Node")
    # kubectl uncordon leaves the field unset (its zero value), not `false`.
    obj.setdefault("spec", {}).pop("unschedulable", None)
    return obj


_EDITS: dict[Verb, Callable[[Ref, Obj, dict[str, Any]], Obj]] = {
    Verb.ROLLOUT_RESTART: _restart,
    Verb.SCALE: _scale,
    Verb.SET_IMAGE: _set_image,
    Verb.SET_ENV: _set_env,
    Verb.SET_RESOURCES: _set_resources,
    Verb.CORDON: _cordon,
    Verb.UNCORDON: _uncordon,
}


def owned_replicasets(kube: KubeResources, deployment: Obj) -> list[Obj]:
    """The ReplicaSets a Deployment controls: selected by its selector, owned by it."""
    md = deployment["metadata"]
    labels = (deployment.get("spec") or {}).get("selector", {}).get("matchLabels") or {}
    selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
    owned = []
    for rs in kube.list("ReplicaSet", md.get("namespace"), label_selector=selector or None):
        for o in (rs.get("metadata") or {}).get("ownerReferences") or []:
            same_uid = o.get("uid") and md.get("uid") and o["uid"] == md["uid"]
            same_name = not (o.get("uid") and md.get("uid")) and o.get("name") == md["name"]
            if o.get("kind") == "Deployment" and (same_uid or same_name):
                owned.append(rs)
                break
    return owned


def _revision(obj: Obj) -> int:
    try:
        return int(((obj.get("metadata") or {}).get("annotations") or {}).get(REVISION, 0))
    except ValueError:
        return 0


def _rollout_undo(kube: KubeResources, ref: Ref, before: Obj, p: dict[str, Any]) -> Obj:
    """What `kubectl rollout undo` computes: the old ReplicaSet's template and annotations."""
    _require(ref, "Deployment")
    history = sorted(owned_replicasets(kube, before), key=_revision)
    revisions = [_revision(rs) for rs in history]
    wanted = p.get("to_revision")
    if wanted:
        matches = [rs for rs in history if _revision(rs) == int(wanted)]
        if not matches:
            raise PlanError(f"{ref} has no revision {wanted}; its history has {revisions}")
        target = matches[-1]
    else:
        current = _revision(before) or (revisions[-1] if revisions else 0)
        older = [rs for rs in history if 0 < _revision(rs) < current]
        if not older:
            raise PlanError(f"{ref} has no previous revision to roll back to (history {revisions})")
        target = older[-1]
    template = copy.deepcopy((target.get("spec") or {}).get("template") or {})
    (template.get("metadata") or {}).get("labels", {}).pop("pod-template-hash", None)
    after = copy.deepcopy(before)
    if after["spec"].get("template") == template:
        raise PlanError(
            f"skipped rollback: {ref}'s template already matches revision {_revision(target)}"
        )
    after["spec"]["template"] = template
    kept = {
        k: v
        for k, v in ((before.get("metadata") or {}).get("annotations") or {}).items()
        if k in ROLLBACK_SKIPPED_ANNOTATIONS
    }
    from_rs = {
        k: v
        for k, v in ((target.get("metadata") or {}).get("annotations") or {}).items()
        if k not in ROLLBACK_SKIPPED_ANNOTATIONS
    }
    after.setdefault("metadata", {})["annotations"] = {**kept, **from_rs}
    return after


def drain_pods(kube: KubeResources, node: str) -> list[Obj]:
    """The Pods `kubectl drain --ignore-daemonsets` evicts from a node."""
    pods = kube.list("Pod", None, field_selector=f"spec.nodeName={node}")
    out = []
    for pod in pods:
        md = pod.get("metadata") or {}
        if (pod.get("spec") or {}).get("nodeName") != node or md.get("deletionTimestamp"):
            continue
        if "kubernetes.io/config.mirror" in (md.get("annotations") or {}):
            continue
        if any(o.get("kind") == "DaemonSet" for o in md.get("ownerReferences") or []):
            continue
        out.append(pod)
    return out


def plan_for(proposal: Proposal, kube: KubeResources) -> Plan:
    """Read the before-state and work out the writes a proposal needs."""
    ref = Ref.parse(proposal.target)
    p = proposal.parameters or {}
    before = kube.get_or_none(ref)
    if before is None:
        raise PlanError(f"{ref} does not exist; check the name and namespace")
    plan = Plan(touched=[ref], before={str(ref): before})
    verb = proposal.verb
    if verb in _EDITS:
        after = _EDITS[verb](ref, copy.deepcopy(before), p)
        plan.operations.append(_patch_to(ref, before, after, proposal.kubectl()))
    elif verb == Verb.ROLLOUT_UNDO:
        after = _rollout_undo(kube, ref, before, p)
        plan.operations.append(_patch_to(ref, before, after, proposal.kubectl()))
    elif verb == Verb.PATCH:
        ptype = p.get("patch_type", "strategic")
        if ptype not in ("strategic", "merge", "json") or p.get("patch") is None:
            raise PlanError("patch needs patch_type strategic|merge|json and a patch body")
        plan.operations.append(
            Operation(
                action="patch",
                ref=str(ref),
                patch_type=ptype,
                body=p["patch"],
                description=proposal.kubectl(),
            )
        )
    elif verb == Verb.DELETE:
        plan.operations.append(Operation(action="delete", ref=str(ref), description="delete"))
    elif verb == Verb.DRAIN:
        _require(ref, "Node")
        after = _cordon(ref, copy.deepcopy(before), p)
        if writable_part(after) != writable_part(before):
            plan.operations.append(_patch_to(ref, before, after, f"kubectl cordon {ref.name}"))
        for pod in drain_pods(kube, ref.name):
            pref = Ref.of(pod)
            plan.touched.append(pref)
            plan.before[str(pref)] = pod
            plan.operations.append(
                Operation(action="evict", ref=str(pref), description=f"evict {pref}")
            )
    else:  # pragma: no cover - Verb is a closed enum, every member is handled above
        raise PlanError(f"unknown verb {verb}")
    return plan
