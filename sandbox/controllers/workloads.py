"""StatefulSet and DaemonSet controllers: Pods by ordinal and by Node, rolling template updates."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sandbox.controllers.common import EventRecorder, pod_ready
from sandbox.controllers.deployments import template_hash
from sandbox.controllers.quota import QuotaBook
from sandbox.controllers.replicasets import PodNamer, pod_from_template
from sandbox.controllers.scheduler import node_ready
from sandbox.store import ObjectStore

Obj = dict[str, Any]
REVISION_LABEL = "controller-revision-hash"


def _revision(owner: Obj) -> str:
    return f"{owner['metadata']['name']}-{template_hash((owner.get('spec') or {}).get('template'))}"


def _touch_status(store: ObjectStore, obj: Obj, status: Obj) -> None:
    if obj.get("status") != status:
        obj["status"] = status
        store.touch(obj)


class WorkloadController:
    """Keeps StatefulSet and DaemonSet Pods; one per world."""

    def __init__(self, store: ObjectStore, events: EventRecorder, namer: PodNamer) -> None:
        self.store = store
        self.events = events
        self.namer = namer

    def _create(
        self,
        owner: Obj,
        name: str,
        quota: QuotaBook,
        create_pod: Callable[[Obj], None],
        now: float,
        extra_labels: dict[str, str],
        node: str | None = None,
    ) -> bool:
        pod = pod_from_template(owner, name, namer=self.namer)
        pod["metadata"]["labels"].update(extra_labels)
        if node:
            pod["spec"]["nodeName"] = node
        ns = owner["metadata"].get("namespace", "default")
        error = quota.admit(ns, name, pod["spec"])
        component = owner["kind"].lower() + "-controller"
        if error is not None:
            self.events.record(
                owner,
                "FailedCreate",
                f"create Pod {name} in {owner['kind']} "
                f"{owner['metadata']['name']} failed error: {error}",
                type="Warning",
                now=now,
                component=component,
                key="FailedCreate",
            )
            return False
        create_pod(pod)
        self.events.record(
            owner,
            "SuccessfulCreate",
            f"create Pod {name} in {owner['kind']} {owner['metadata']['name']} successful",
            now=now,
            count=1,
            component=component,
        )
        return True

    def statefulset(
        self,
        sts: Obj,
        pods: list[Obj],
        *,
        quota: QuotaBook,
        create_pod: Callable[[Obj], None],
        delete_pod: Callable[[Obj, str], None],
        now: float,
    ) -> None:
        """Pods `<name>-<ordinal>` up to spec.replicas; the highest outdated one is replaced first."""
        md, spec = sts["metadata"], sts.get("spec") or {}
        want = int(spec.get("replicas", 1) if spec.get("replicas") is not None else 1)
        rev = _revision(sts)
        by_name = {p["metadata"]["name"]: p for p in pods}
        for pod in list(pods):
            ordinal = pod["metadata"]["name"].rsplit("-", 1)[-1]
            if not ordinal.isdigit() or int(ordinal) >= want:
                delete_pod(pod, "statefulset-controller")
                pods.remove(pod)
        outdated = [
            p for p in pods if (p["metadata"].get("labels") or {}).get(REVISION_LABEL) != rev
        ]
        if outdated and len(pods) == want and all(pod_ready(p) for p in pods):
            victim = max(outdated, key=lambda p: int(p["metadata"]["name"].rsplit("-", 1)[-1]))
            delete_pod(victim, "statefulset-controller")
            pods.remove(victim)
            by_name.pop(victim["metadata"]["name"], None)
        for i in range(want):
            name = f"{md['name']}-{i}"
            if name in by_name and by_name[name] in pods:
                continue
            labels = {
                REVISION_LABEL: rev,
                "statefulset.kubernetes.io/pod-name": name,
                "apps.kubernetes.io/pod-index": str(i),
            }
            if not self._create(sts, name, quota, create_pod, now, labels):
                break
            pods.append(self.store.get("Pod", md.get("namespace"), name))

    def statefulset_status(self, sts: Obj, pods: list[Obj]) -> None:
        """replicas, ready, current/updated counts and revisions."""
        rev = _revision(sts)
        ready = sum(1 for p in pods if pod_ready(p))
        updated = sum(
            1 for p in pods if (p["metadata"].get("labels") or {}).get(REVISION_LABEL) == rev
        )
        _touch_status(
            self.store,
            sts,
            {
                "observedGeneration": sts["metadata"].get("generation", 1),
                "replicas": len(pods),
                "readyReplicas": ready,
                "availableReplicas": ready,
                "currentReplicas": updated,
                "updatedReplicas": updated,
                "currentRevision": rev,
                "updateRevision": rev,
                "collisionCount": 0,
            },
        )

    def _eligible(self, ds: Obj, nodes: list[Obj]) -> list[str]:
        selector = ((ds.get("spec") or {}).get("template") or {}).get("spec", {}).get(
            "nodeSelector"
        ) or {}
        out = []
        for node in nodes:
            labels = node["metadata"].get("labels") or {}
            if all(str(labels.get(k)) == str(v) for k, v in selector.items()):
                out.append(node["metadata"]["name"])
        return out

    def daemonset(
        self,
        ds: Obj,
        pods: list[Obj],
        nodes: list[Obj],
        *,
        quota: QuotaBook,
        create_pod: Callable[[Obj], None],
        delete_pod: Callable[[Obj, str], None],
        now: float,
    ) -> None:
        """One Pod per eligible Node; outdated Pods replaced one at a time."""
        md = ds["metadata"]
        ns = md.get("namespace", "default")
        rev = _revision(ds)
        eligible = self._eligible(ds, nodes)
        on_node: dict[str, Obj] = {}
        for pod in list(pods):
            node = (pod.get("spec") or {}).get("nodeName")
            if node not in eligible or node in on_node:
                delete_pod(pod, "daemonset-controller")
                pods.remove(pod)
            else:
                on_node[node] = pod
        outdated = [
            p for p in pods if (p["metadata"].get("labels") or {}).get(REVISION_LABEL) != rev
        ]
        if outdated and all(pod_ready(p) for p in pods):
            victim = outdated[0]
            delete_pod(victim, "daemonset-controller")
            pods.remove(victim)
            on_node.pop(victim["spec"].get("nodeName"), None)
        for node in eligible:
            if node in on_node:
                continue
            name = self.namer.next(self.store, md["name"], ns)
            if not self._create(ds, name, quota, create_pod, now, {REVISION_LABEL: rev}, node):
                break
            pods.append(self.store.get("Pod", ns, name))

    def daemonset_status(self, ds: Obj, pods: list[Obj], nodes: list[Obj]) -> None:
        """desired / scheduled / ready / updated counts."""
        rev = _revision(ds)
        eligible = self._eligible(ds, nodes)
        ready = sum(1 for p in pods if pod_ready(p))
        updated = sum(
            1 for p in pods if (p["metadata"].get("labels") or {}).get(REVISION_LABEL) == rev
        )
        _touch_status(
            self.store,
            ds,
            {
                "observedGeneration": ds["metadata"].get("generation", 1),
                "desiredNumberScheduled": len(eligible),
                "currentNumberScheduled": len(pods),
                "numberReady": ready,
                "numberAvailable": ready,
                "updatedNumberScheduled": updated,
                "numberMisscheduled": 0,
                **({"numberUnavailable": len(eligible) - ready} if len(eligible) > ready else {}),
            },
        )


def ready_nodes(nodes: list[Obj]) -> list[Obj]:
    """Nodes whose Ready condition is True (DaemonSets ignore cordons, not readiness)."""
    return [n for n in nodes if node_ready(n)]
