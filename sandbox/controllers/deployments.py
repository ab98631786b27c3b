"""The Deployment controller: the current ReplicaSet for the template, rolling updates, status."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from sandbox.controllers.common import (
    EventRecorder,
    jcopy,
    owner_ref,
    pod_ready,
    safe_encode,
    set_condition,
    stable_hash,
)
from sandbox.store import ObjectStore
from sandbox.timeshift import fmt_ts, parse_ts

Obj = dict[str, Any]
HASH_LABEL = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"


def template_key(template: Obj | None) -> str:
    """A Pod template compared the way the controller compares them: without pod-template-hash."""
    t = dict(template or {})
    md = t.get("metadata")
    if isinstance(md, dict) and isinstance(md.get("labels"), dict) and HASH_LABEL in md["labels"]:
        labels = {k: v for k, v in md["labels"].items() if k != HASH_LABEL}
        t["metadata"] = {**md, "labels": labels}
    return json.dumps(t, sort_keys=True, separators=(",", ":"))


def template_hash(template: Obj | None, collisions: int = 0) -> str:
    """The pod-template-hash for a template (stable across runs)."""
    return safe_encode(stable_hash(template_key(template), str(collisions)) % 2**32)


def revision(obj: Obj) -> int:
    """The `deployment.kubernetes.io/revision` annotation as a number (0 when absent)."""
    raw = ((obj.get("metadata") or {}).get("annotations") or {}).get(REVISION, "0")
    try:
        return int(raw)
    except (TypeError, ValueError):
        return 0


def _set_revision(obj: Obj, rev: int) -> None:
    obj["metadata"].setdefault("annotations", {})[REVISION] = str(rev)


def _resolve(value: Any, desired: int, round_up: bool) -> int:
    if value is None:
        value = "25%"
    if isinstance(value, str) and value.endswith("%"):
        x = desired * float(value[:-1]) / 100
        return math.ceil(x) if round_up else math.floor(x)
    return int(value)


class DeploymentController:
    """Rolls Deployments forward; remembers which ReplicaSet the file meant as current."""

    def __init__(self, store: ObjectStore, events: EventRecorder) -> None:
        self.store = store
        self.events = events
        self._keys: dict[str, tuple[Any, int, str]] = {}  # template object, generation, key
        self.alias: dict[tuple[str, str], tuple[str, str]] = {}  # (ns, dep) -> (key, rs name)

    def _key(self, obj: Obj) -> str:
        md = obj["metadata"]
        cache_id = f"{obj['kind']}/{md.get('namespace')}/{md['name']}"
        template = (obj.get("spec") or {}).get("template")
        generation = md.get("generation", 0)
        hit = self._keys.get(cache_id)
        # Writers replace objects (a new template dict) or bump generation on spec changes.
        if hit and hit[0] is template and hit[1] == generation:
            return hit[2]
        key = template_key(template)
        self._keys[cache_id] = (template, generation, key)
        return key

    def current(self, dep: Obj, rses: list[Obj]) -> Obj | None:
        """The ReplicaSet whose template is the Deployment's, if one exists."""
        key = self._key(dep)
        ns, name = dep["metadata"].get("namespace", "default"), dep["metadata"]["name"]
        alias = self.alias.get((ns, name))
        if alias and alias[0] == key:
            hit = next((r for r in rses if r["metadata"]["name"] == alias[1]), None)
            if hit is not None:
                return hit
        return next((r for r in rses if self._key(r) == key), None)

    def new_replicaset(self, dep: Obj, rses: list[Obj], created_ts: float, replicas: int) -> Obj:
        """Create the ReplicaSet for the Deployment's current template."""
        md = dep["metadata"]
        ns = md.get("namespace", "default")
        tmpl = jcopy((dep.get("spec") or {}).get("template") or {})
        collisions = 0
        while True:
            h = template_hash(tmpl, collisions)
            name = f"{md['name']}-{h}"
            if self.store.find("ReplicaSet", ns, name) is None:
                break
            collisions += 1
        tmpl.setdefault("metadata", {}).setdefault("labels", {})[HASH_LABEL] = h
        selector = jcopy((dep.get("spec") or {}).get("selector") or {})
        selector.setdefault("matchLabels", {})[HASH_LABEL] = h
        # The file's Deployment may carry its revision without listing that ReplicaSet.
        rev = max([revision(r) + 1 for r in rses] + [revision(dep), 1])
        labels = dict((tmpl.get("metadata") or {}).get("labels") or {})
        rs = {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": name,
                "namespace": ns,
                "labels": labels,
                "annotations": {
                    "deployment.kubernetes.io/desired-replicas": str(
                        (dep.get("spec") or {}).get("replicas", 1)
                    ),
                    REVISION: str(rev),
                },
                "ownerReferences": [owner_ref(dep, "apps/v1")],
                "creationTimestamp": fmt_ts(created_ts),
            },
            "spec": {"replicas": replicas, "selector": selector, "template": tmpl},
        }
        self.store.create(rs)
        rses.append(rs)
        return rs

    def reconcile(
        self, dep: Obj, rses: list[Obj], pods_of: Callable[[Obj], list[Obj]], now: float
    ) -> bool:
        """One step of the rollout; True when a ReplicaSet was created or scaled."""
        spec = dep.get("spec") or {}
        desired = int(spec.get("replicas", 1) if spec.get("replicas") is not None else 1)
        changed = False
        cur = self.current(dep, rses)
        olds = [r for r in rses if r is not cur]
        if cur is None:
            start = 0 if any(int(r["spec"].get("replicas", 0) or 0) for r in olds) else desired
            cur = self.new_replicaset(dep, rses, now, start)
            self._scaled(dep, cur, 0, start, now)
            changed = True
        top = max(revision(r) for r in rses)
        if revision(cur) < top or (
            revision(cur) == top and sum(1 for r in rses if revision(r) == top) > 1
        ):
            _set_revision(cur, top + 1)  # an older template came back: it is the newest now
            self.store.touch(cur)
        if revision(dep) != revision(cur):
            _set_revision(dep, revision(cur))
            self.store.touch(dep)
        if spec.get("paused"):
            return changed

        def reps(r: Obj) -> int:
            return int((r.get("spec") or {}).get("replicas", 0) or 0)

        def scale(r: Obj, n: int) -> None:
            nonlocal changed
            if reps(r) != n:
                self._scaled(dep, r, reps(r), n, now)
                r["spec"]["replicas"] = n
                self.store.touch(r)
                changed = True

        live_olds = [r for r in olds if reps(r) > 0]
        strategy = spec.get("strategy") or {}
        if not live_olds:
            scale(cur, desired)
        elif strategy.get("type") == "Recreate":
            for r in live_olds:
                scale(r, 0)
        else:
            ru = strategy.get("rollingUpdate") or {}
            surge = _resolve(ru.get("maxSurge"), desired, True)
            unavailable = _resolve(ru.get("maxUnavailable"), desired, False)
            if surge == 0 and unavailable == 0:
                unavailable = 1
            total = sum(reps(r) for r in rses)
            if reps(cur) < desired:
                scale(cur, min(desired, reps(cur) + max(0, desired + surge - total)))
            elif reps(cur) > desired:
                scale(cur, desired)
            ready = {id(r): sum(1 for p in pods_of(r) if pod_ready(p)) for r in rses}
            all_pods = sum(reps(r) for r in rses)
            min_available = desired - unavailable
            new_unavailable = reps(cur) - ready[id(cur)]
            budget = all_pods - min_available - new_unavailable
            by_age = sorted(live_olds, key=lambda r: revision(r))
            for r in by_age:  # first the old Pods that are not serving anyway
                if budget <= 0:
                    break
                take = min(budget, reps(r) - ready[id(r)])
                if take > 0:
                    scale(r, reps(r) - take)
                    budget -= take
            available = sum(ready.values())
            budget2 = available - min_available
            for r in by_age:
                if budget2 <= 0:
                    break
                take = min(budget2, reps(r))
                if take > 0:
                    scale(r, reps(r) - take)
                    budget2 -= take
        return changed

    def _scaled(self, dep: Obj, rs: Obj, old: int, new: int, now: float) -> None:
        if old == new:
            return
        verb = "up" if new > old else "down"
        self.events.record(
            dep,
            "ScalingReplicaSet",
            f"Scaled {verb} replica set {rs['metadata']['name']} from {old} to {new}",
            now=now,
            count=1,
            component="deployment-controller",
        )

    def write_status(
        self, dep: Obj, rses: list[Obj], pods_of: Callable[[Obj], list[Obj]], now: float
    ) -> None:
        """Deployment status and conditions, from its ReplicaSets' Pods."""
        spec = dep.get("spec") or {}
        desired = int(spec.get("replicas", 1) if spec.get("replicas") is not None else 1)
        cur = self.current(dep, rses)
        replicas = ready = updated = 0
        for r in rses:
            pods = pods_of(r)
            replicas += len(pods)
            n_ready = sum(1 for p in pods if pod_ready(p))
            ready += n_ready
            if r is cur:
                updated = len(pods)
                cur_ready = n_ready
        stamp = fmt_ts(now)
        ru = (spec.get("strategy") or {}).get("rollingUpdate") or {}
        max_unavailable = _resolve(ru.get("maxUnavailable"), desired, False)
        status: Obj = {
            "observedGeneration": dep["metadata"].get("generation", 1),
            "replicas": replicas,
            "updatedReplicas": updated,
            "readyReplicas": ready,
            "availableReplicas": ready,
        }
        if desired - ready > 0:
            status["unavailableReplicas"] = desired - ready
        old = dep.get("status") or {}
        conds = list(old.get("conditions") or [])
        available = ready >= desired - max_unavailable
        conds = set_condition(
            conds,
            {
                "type": "Available",
                "status": "True" if available else "False",
                "reason": "MinimumReplicasAvailable" if available else "MinimumReplicasUnavailable",
                "message": "Deployment has minimum availability."
                if available
                else "Deployment does not have minimum availability.",
            },
            stamp,
            probe_time=True,
        )
        rs_name = cur["metadata"]["name"] if cur else dep["metadata"]["name"]
        complete = (
            cur is not None
            and updated == desired
            and replicas == desired
            and (cur_ready == desired)
        )
        deadline = float(spec.get("progressDeadlineSeconds", 600))
        since = parse_ts(cur["metadata"].get("creationTimestamp")) if cur else now
        if complete:
            prog = (
                "True",
                "NewReplicaSetAvailable",
                f'ReplicaSet "{rs_name}" has successfully progressed.',
            )
        elif since is not None and now - since > deadline:
            prog = (
                "False",
                "ProgressDeadlineExceeded",
                f'ReplicaSet "{rs_name}" has timed out progressing.',
            )
        else:
            prog = ("True", "ReplicaSetUpdated", f'ReplicaSet "{rs_name}" is progressing.')
        conds = set_condition(
            conds,
            {"type": "Progressing", "status": prog[0], "reason": prog[1], "message": prog[2]},
            stamp,
            probe_time=True,
        )
        failure = next(
            (
                c
                for r in rses
                for c in (r.get("status") or {}).get("conditions") or []
                if c.get("type") == "ReplicaFailure"
            ),
            None,
        )
        conds = [c for c in conds if c.get("type") != "ReplicaFailure"]
        if failure is not None:
            conds = set_condition(
                conds,
                {
                    "type": "ReplicaFailure",
                    "status": "True",
                    "reason": "FailedCreate",
                    "message": failure.get("message", ""),
                },
                stamp,
                probe_time=True,
            )
            if failure.get("lastTransitionTime"):
                conds[-1]["lastTransitionTime"] = failure["lastTransitionTime"]
        status["conditions"] = conds
        if status != old:
            dep["status"] = status
            self.store.touch(dep)
