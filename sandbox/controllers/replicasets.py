"""The ReplicaSet controller: keeps `spec.replicas` Pods per ReplicaSet, through quota admission."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sandbox.controllers.common import (
    EventRecorder,
    owner_ref,
    pod_ready,
    safe_encode,
    set_condition,
    stable_hash,
)
from sandbox.controllers.quota import QuotaBook
from sandbox.store import ObjectStore
from sandbox.timeshift import fmt_ts

Obj = dict[str, Any]


def pod_from_template(
    owner: Obj, name: str, api_version: str = "apps/v1", namer: PodNamer | None = None
) -> Obj:
    """A new Pod as a workload controller would create it from `owner.spec.template`."""
    tmpl = (owner.get("spec") or {}).get("template") or {}
    tmd = tmpl.get("metadata") or {}
    text = namer.template_json(tmpl) if namer else json.dumps(tmpl.get("spec") or {})
    spec = json.loads(text)  # a deep copy, at C speed
    for c in spec.get("containers") or []:
        image = str(c.get("image", ""))
        c.setdefault(
            "imagePullPolicy",
            "Always"
            if image.endswith(":latest") or ":" not in image.rsplit("/", 1)[-1]
            else "IfNotPresent",
        )
        c.setdefault("terminationMessagePath", "/dev/termination-log")
        c.setdefault("terminationMessagePolicy", "File")
        c.setdefault("resources", {})
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("serviceAccountName", "default")
    spec.setdefault("serviceAccount", spec["serviceAccountName"])
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("securityContext", {})
    spec.setdefault("enableServiceLinks", True)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    spec.setdefault("priority", 0)
    spec.setdefault(
        "tolerations",
        [
            {
                "key": "node.kubernetes.io/not-ready",
                "operator": "Exists",
                "effect": "NoExecute",
                "tolerationSeconds": 300,
            },
            {
                "key": "node.kubernetes.io/unreachable",
                "operator": "Exists",
                "effect": "NoExecute",
                "tolerationSeconds": 300,
            },
        ],
    )
    md: Obj = {
        "name": name,
        "generateName": owner["metadata"]["name"] + "-",
        "namespace": owner["metadata"].get("namespace", "default"),
        "labels": dict(tmd.get("labels") or {}),
        "ownerReferences": [owner_ref(owner, api_version)],
    }
    if tmd.get("annotations"):
        md["annotations"] = dict(tmd["annotations"])
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": md,
        "spec": spec,
        "status": {"phase": "Pending", "qosClass": "BestEffort"},
    }


class PodNamer:
    """`<owner>-<5 chars>` names, the same for every run of a scenario."""

    def __init__(self, salt: str) -> None:
        self.salt = salt
        self._serial: dict[str, int] = {}
        self._templates: dict[int, tuple[Obj, str]] = {}

    def template_json(self, tmpl: Obj) -> str:
        """A template's spec as JSON, serialised once per template object (writers replace
        objects rather than edit them in place)."""
        hit = self._templates.get(id(tmpl))
        if hit is not None and hit[0] is tmpl:
            return hit[1]
        if len(self._templates) > 10_000:
            self._templates.clear()
        text = json.dumps(tmpl.get("spec") or {})
        self._templates[id(tmpl)] = (tmpl, text)
        return text

    def next(self, store: ObjectStore, owner_name: str, ns: str) -> str:
        """The next unused name for a Pod of `owner_name`."""
        while True:
            n = self._serial.get(owner_name, 0)
            self._serial[owner_name] = n + 1
            name = f"{owner_name}-{safe_encode(stable_hash(self.salt, ns, owner_name, str(n)), 5)}"
            if store.find("Pod", ns, name) is None:
                return name


def _doomed_first(pod: Obj, created: Callable[[Obj], float]) -> tuple:
    # kube's ActivePods ordering: unscheduled, then not ready, then the newest first.
    return (bool((pod.get("spec") or {}).get("nodeName")), pod_ready(pod), -created(pod))


def reconcile_replicaset(
    rs: Obj,
    pods: list[Obj],
    *,
    store: ObjectStore,
    events: EventRecorder,
    quota: QuotaBook,
    namer: PodNamer,
    create_pod: Callable[[Obj], None],
    delete_pod: Callable[[Obj, str], None],
    created: Callable[[Obj], float],
    now: float,
    failures: dict[tuple[str, str], str],
) -> bool:
    """Create or delete Pods toward spec.replicas; True when Pods changed.

    A creation that quota admission refuses is noted in `failures` for the status step.
    """
    md = rs["metadata"]
    ns = md.get("namespace", "default")
    want = int((rs.get("spec") or {}).get("replicas", 1) or 0)
    changed = False
    failure = None
    if len(pods) < want:
        for _ in range(want - len(pods)):
            name = namer.next(store, md["name"], ns)
            pod = pod_from_template(rs, name, namer=namer)
            error = quota.admit(ns, name, pod["spec"])
            if error is not None:
                failure = error
                events.record(
                    rs,
                    "FailedCreate",
                    f"Error creating: {error}",
                    type="Warning",
                    now=now,
                    component="replicaset-controller",
                    key="FailedCreate",
                )
                break
            create_pod(pod)
            pods.append(pod)
            changed = True
            events.record(
                rs,
                "SuccessfulCreate",
                f"Created pod: {name}",
                now=now,
                count=1,
                component="replicaset-controller",
            )
    elif len(pods) > want:
        for pod in sorted(pods, key=lambda p: _doomed_first(p, created))[: len(pods) - want]:
            delete_pod(pod, "replicaset-controller")
            pods.remove(pod)
            events.record(
                rs,
                "SuccessfulDelete",
                f"Deleted pod: {pod['metadata']['name']}",
                now=now,
                count=1,
                component="replicaset-controller",
            )
            changed = True
    if failure is not None:
        failures[(ns, md["name"])] = failure
    return changed


def write_replicaset_status(
    rs: Obj, pods: list[Obj], failure: str | None, store: ObjectStore, now: float
) -> None:
    """ReplicaSet status from its Pods, with ReplicaFailure while Pods cannot be created."""
    md = rs["metadata"]
    want = int((rs.get("spec") or {}).get("replicas", 1) or 0)
    ready = sum(1 for p in pods if pod_ready(p))
    status: Obj = {
        "replicas": len(pods),
        "fullyLabeledReplicas": len(pods),
        "readyReplicas": ready,
        "availableReplicas": ready,
        "observedGeneration": md.get("generation", 1),
    }
    old = rs.get("status") or {}
    conds = [c for c in old.get("conditions") or [] if c.get("type") != "ReplicaFailure"]
    if failure is None and len(pods) < want:
        failure = next(
            (
                c.get("message")
                for c in old.get("conditions") or []
                if c.get("type") == "ReplicaFailure"
            ),
            None,
        )
    if failure is not None:
        conds = set_condition(
            old.get("conditions") or [],
            {
                "type": "ReplicaFailure",
                "status": "True",
                "reason": "FailedCreate",
                "message": failure,
            },
            fmt_ts(now),
        )
    if conds:
        status["conditions"] = conds
    for k in ("readyReplicas", "availableReplicas"):
        if not status[k]:
            del status[k]
    if status != old:
        rs["status"] = status
        store.touch(rs)
