"""The sandbox world: a scenario brought to life as a cluster that changes over time.

world = World(scenario, speed=1.0)        # loads objects, shifts times, derives state
world.store                               # sandbox.store.ObjectStore (the objects)
world.clock                               # SandboxClock: .now(), .now_ts(), .speed, .offset
world.sync()                              # run the controllers up to clock.now(); cheap when
                                          #   nothing changed; call (under store.lock) before
                                          #   every read and after every write
world.pod_logs(ns, pod, container=None, previous=False, tail=None, since_seconds=None) -> str
world.evict(ns, pod)                      # the eviction subresource
world.series(start_ts, end_ts) -> list[Series]
world.faults_present() -> dict[str, bool]
world.healthy(ref) -> bool                # SCENARIOS.md's definition, ref "Kind/ns/name"
world.executed                            # (verb, ref) of every write served, for `forbidden`;
                                          #   the HTTP layer calls world.record_write(verb, ref)
world.trigger_payload() / trigger_text()  # the trigger, with its times shifted
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from datetime import datetime
from typing import Any

from sandbox.clock import SandboxClock
from sandbox.controllers.common import EventRecorder, delete_quietly, owner, pod_ready
from sandbox.controllers.config_refs import config_error, config_refs
from sandbox.controllers.deployments import DeploymentController, revision, template_key
from sandbox.controllers.endpoints import sync_all_endpoints
from sandbox.controllers.kubelet import Kubelet, PodInfo
from sandbox.controllers.quota import QuotaBook
from sandbox.controllers.replicasets import (
    PodNamer,
    reconcile_replicaset,
    write_replicaset_status,
)
from sandbox.controllers.scheduler import Scheduler
from sandbox.controllers.workloads import WorkloadController, ready_nodes
from sandbox.fault_tracker import FaultTracker
from sandbox.health import is_healthy
from sandbox.scenario_model import Scenario
from sandbox.series import Series
from sandbox.store import ObjectStore
from sandbox.timeshift import fmt_ts, parse_ts, shift_log, shift_tree
from sandbox.triggers import trigger_payload, trigger_text
from sandbox.world_logs import BadRequest, container_log, filter_log
from sandbox.world_metrics import MetricBook

Obj = dict[str, Any]
__all__ = ["BadRequest", "World"]

_MAX_PASSES = 12
_POD_OWNERS = ("ReplicaSet", "StatefulSet", "DaemonSet")
_DEFAULT_AGE = 86400.0  # objects without a creationTimestamp have existed for a day
_DERIVED_AGE = 3600.0  # ReplicaSets the sandbox derives at start were rolled out an hour ago


class World:
    """A live cluster built from a scenario; see the module docstring for the contract."""

    def __init__(self, scenario: Scenario, speed: float = 1.0, *, start: datetime | None = None):
        self.scenario = scenario
        self.clock = SandboxClock(scenario.clock, speed=speed, start=start)
        self.store = ObjectStore()
        self.executed: list[tuple[str, str]] = []
        self.events = EventRecorder(self.store)
        self.faults = FaultTracker(scenario.faults)
        self.deployments = DeploymentController(self.store, self.events)
        self.namer = PodNamer(scenario.name)
        self.workloads = WorkloadController(self.store, self.events, self.namer)
        self._start = self.clock.start.timestamp()
        self.kubelet = Kubelet(self.store, self.events, scenario.startup_seconds, self._start)
        self._pods: dict[str, PodInfo] = {}
        self._refs: dict[str, list] = {}
        self._sched_msg: dict[str, str] = {}
        self._requests: dict[str, dict[str, float]] = {}
        self._endpoint_sigs: dict[tuple[str, str], tuple] = {}
        self._known_owners: set[tuple[str, str, str]] = set()
        self._synced_rv: str | None = None
        self._wake = math.inf
        offset = self.clock.offset
        self._log_rules = [(r, shift_log(r.text, offset)) for r in scenario.logs]
        self._fault_logs = {f.name: shift_log(f.logs, offset) for f in scenario.faults if f.logs}
        self._metrics = MetricBook(scenario, self._start)
        with self.store.lock:
            self._load()
            self._reconcile(self._start)
            self.kubelet.initial = False

    # -- loading -----------------------------------------------------------------------------

    def _load(self) -> None:
        offset = self.clock.offset
        default_stamp = fmt_ts(self._start - _DEFAULT_AGE)
        objects = [shift_tree(o, offset) for o in self.scenario.objects]
        if not any(o["kind"] == "Node" for o in objects):
            objects.append(
                {
                    "apiVersion": "v1",
                    "kind": "Node",
                    "metadata": {
                        "name": "node-1",
                        "labels": {"kubernetes.io/hostname": "node-1", "kubernetes.io/os": "linux"},
                    },
                    "status": {
                        "conditions": [{"type": "Ready", "status": "True"}],
                        "allocatable": {"cpu": "8", "memory": "32Gi", "pods": "110"},
                    },
                }
            )
        for obj in objects:
            obj.setdefault("apiVersion", "v1")
            md = obj["metadata"]
            md.setdefault("creationTimestamp", default_stamp)
            self.store.create(obj)
            if obj["kind"] in ("Deployment", *_POD_OWNERS):
                self._known_owners.add((obj["kind"], md.get("namespace", "default"), md["name"]))
            if obj["kind"] == "Pod":
                status = obj.get("status")
                if status:
                    _complete_container_statuses(obj)
                self._pods[md["uid"]] = PodInfo(
                    created=parse_ts(md["creationTimestamp"]) or self._start,
                    frozen_status=status if status else None,
                )
        nodes = sorted(n["metadata"]["name"] for n in self.store.list("Node"))
        self.kubelet.node_index = {n: i for i, n in enumerate(nodes)}
        for node in self.store.list("Node"):
            for addr in (node.get("status") or {}).get("addresses") or []:
                if addr.get("type") == "InternalIP":
                    self.kubelet.node_ips[node["metadata"]["name"]] = addr.get("address")
        # A file that lists a Deployment's ReplicaSets names its current one by revision, even
        # when the two templates differ in details the file left out.
        by_dep = self._replicasets_by_deployment()
        for dep in self.store.list("Deployment"):
            ns, name = dep["metadata"].get("namespace", "default"), dep["metadata"]["name"]
            rses = by_dep.get((ns, name), [])
            key = template_key((dep.get("spec") or {}).get("template"))
            if rses and not any(template_key(r["spec"].get("template")) == key for r in rses):
                pick = next((r for r in rses if revision(r) == revision(dep)), None)
                if pick is not None:
                    self.deployments.alias[(ns, name)] = (key, pick["metadata"]["name"])

    def _replicasets_by_deployment(self) -> dict[tuple[str, str], list[Obj]]:
        out: dict[tuple[str, str], list[Obj]] = defaultdict(list)
        for rs in self.store.list("ReplicaSet"):
            dep = owner(rs, "Deployment")
            if dep:
                out[(rs["metadata"].get("namespace", "default"), dep)].append(rs)
        return out

    # -- syncing -----------------------------------------------------------------------------

    def sync(self) -> None:
        """Run the controllers up to the sandbox's now; returns at once when nothing is due."""
        now = self.clock.now_ts()
        if self.store.resource_version == self._synced_rv and now < self._wake:
            return
        with self.store.lock:
            written = self.store.resource_version != self._synced_rv
            if written or (now >= self._wake and not self._timers(now)):
                self._reconcile(now)

    def _timers(self, now: float) -> bool:
        """Nothing was written, only Pod timers are due (crash loops, start-ups): update just
        those Pods. False when that changed a Pod's readiness, so the controllers must run."""
        ready_changed = False
        for info in [i for i in self._pods.values() if i.wake <= now]:
            pod = self.store.find("Pod", *info.key)
            if pod is None:
                return False
            was = pod_ready(pod)
            self._kubelet(pod, None, now)
            ready_changed = ready_changed or pod_ready(pod) != was
        self._synced_rv = self.store.resource_version
        self._wake = min((i.wake for i in self._pods.values()), default=math.inf)
        return not ready_changed

    def _reconcile(self, now: float) -> None:
        for _ in range(_MAX_PASSES):
            before = self.store.resource_version
            self._pass(now)
            if self.store.resource_version == before:
                break
        self._synced_rv = self.store.resource_version
        self._wake = min((i.wake for i in self._pods.values()), default=math.inf)

    def _created(self, pod: Obj) -> float:
        info = self._pods.get(pod["metadata"].get("uid", ""))
        return info.created if info else self._start

    def _delete_pod(self, pod: Obj, by: str) -> None:
        md = pod["metadata"]
        now = self.clock.now_ts()
        for c in (pod.get("spec") or {}).get("containers") or []:
            self.events.record(
                pod,
                "Killing",
                f"Stopping container {c.get('name')}",
                now=now,
                count=1,
                host=pod["spec"].get("nodeName"),
                field_path=f"spec.containers{{{c.get('name')}}}",
            )
        delete_quietly(self.store, "Pod", md.get("namespace", "default"), md["name"])
        self._forget_pod(md.get("uid", ""))

    def _forget_pod(self, uid: str) -> None:
        self._pods.pop(uid, None)
        self._refs.pop(uid, None)
        self._sched_msg.pop(uid, None)
        self._requests.pop(uid, None)
        self.faults.forget(uid)

    def _create_pod(self, pod: Obj, now: float) -> None:
        self.store.create(pod, now=fmt_ts(now))
        self._pods[pod["metadata"]["uid"]] = PodInfo(created=now)

    def _pass(self, now: float) -> None:
        store, initial = self.store, self.kubelet.initial
        stamp = fmt_ts(now)
        self.faults.begin(store)
        # Garbage collection: dependents of owners that existed and are gone.
        for rs in store.list("ReplicaSet"):
            md = rs["metadata"]
            dep = owner(rs, "Deployment")
            ns = md.get("namespace", "default")
            if (
                dep
                and ("Deployment", ns, dep) in self._known_owners
                and not store.find("Deployment", ns, dep)
            ):
                delete_quietly(store, "ReplicaSet", ns, md["name"])
        # Pods by their controlling ReplicaSet, StatefulSet or DaemonSet.
        pods_by_owner: dict[tuple[str, str, str], list[Obj]] = defaultdict(list)
        for pod in store.list("Pod"):
            md = pod["metadata"]
            ns = md.get("namespace", "default")
            for kind in _POD_OWNERS:
                name = owner(pod, kind)
                if not name:
                    continue
                if store.find(kind, ns, name) is None:
                    if (kind, ns, name) in self._known_owners:
                        self._delete_pod(pod, "garbage-collector")
                    break
                pods_by_owner[(kind, ns, name)].append(pod)
                break

        def pods_of(obj: Obj) -> list[Obj]:
            md = obj["metadata"]
            return pods_by_owner[(obj["kind"], md.get("namespace", "default"), md["name"])]

        self.events.quiet = initial
        # Deployments -> ReplicaSets.
        by_dep = self._replicasets_by_deployment()
        deployments = store.list("Deployment")
        for dep in deployments:
            ns, name = dep["metadata"].get("namespace", "default"), dep["metadata"]["name"]
            self._known_owners.add(("Deployment", ns, name))
            rses = by_dep[(ns, name)]
            created = len(rses)
            self.deployments.reconcile(
                dep, rses, pods_of, self._start - _DERIVED_AGE if initial else now
            )
            for rs in rses[created:]:
                self._known_owners.add(("ReplicaSet", ns, rs["metadata"]["name"]))
        # ReplicaSets -> Pods.
        quota = QuotaBook(store, store.list("Pod"))
        failures: dict[tuple[str, str], str] = {}
        for rs in store.list("ReplicaSet"):
            md = rs["metadata"]
            self._known_owners.add(("ReplicaSet", md.get("namespace", "default"), md["name"]))
            birth = (parse_ts(md.get("creationTimestamp")) or now) if initial else now
            reconcile_replicaset(
                rs,
                pods_of(rs),
                store=store,
                events=self.events,
                quota=quota,
                namer=self.namer,
                create_pod=lambda p, b=birth: self._create_pod(p, b),
                delete_pod=self._delete_pod,
                created=self._created,
                now=now,
                failures=failures,
            )
        nodes = store.list("Node")
        for kind in ("StatefulSet", "DaemonSet"):
            for obj in store.list(kind):
                md = obj["metadata"]
                self._known_owners.add((kind, md.get("namespace", "default"), md["name"]))
                birth = (parse_ts(md.get("creationTimestamp")) or now) if initial else now
                common = {
                    "quota": quota,
                    "create_pod": lambda p, b=birth: self._create_pod(p, b),
                    "delete_pod": self._delete_pod,
                    "now": now,
                }
                if kind == "StatefulSet":
                    self.workloads.statefulset(obj, pods_of(obj), **common)
                else:
                    self.workloads.daemonset(obj, pods_of(obj), ready_nodes(nodes), **common)
        self.events.quiet = False
        # Scheduler and kubelets.
        pods = store.list("Pod")
        scheduler = Scheduler(nodes, self._requests)
        for pod in pods:
            scheduler.place(pod)
        for pod in pods:
            self._kubelet(pod, scheduler, now)
        # Status that follows the Pods.
        for rs in store.list("ReplicaSet"):
            md = rs["metadata"]
            key = (md.get("namespace", "default"), md["name"])
            write_replicaset_status(rs, pods_of(rs), failures.get(key), store, now)
        for dep in deployments:
            ns, name = dep["metadata"].get("namespace", "default"), dep["metadata"]["name"]
            self.deployments.write_status(dep, by_dep[(ns, name)], pods_of, now)
        for sts in store.list("StatefulSet"):
            self.workloads.statefulset_status(sts, pods_of(sts))
        for ds in store.list("DaemonSet"):
            self.workloads.daemonset_status(ds, pods_of(ds), ready_nodes(nodes))
        QuotaBook(store, pods).write_status()
        self._endpoints(pods, stamp)
        self.faults.end(pods, now)
        # Pods deleted through the API leave their bookkeeping behind; drop it.
        live = {p["metadata"].get("uid", "") for p in pods}
        for uid in [u for u in self._pods if u not in live]:
            self._forget_pod(uid)

    def _kubelet(self, pod: Obj, scheduler: Scheduler | None, now: float) -> None:
        md, spec = pod["metadata"], pod.setdefault("spec", {})
        uid = md.get("uid", "")
        info = self._pods.get(uid)
        if info is None:  # created through the API
            info = PodInfo(created=parse_ts(md.get("creationTimestamp")) or now)
            self._pods[uid] = info
        info.key = (md.get("namespace", "default"), md["name"])
        effects = self.faults.effects(pod)
        held = any(e.fault.state is not None and e.fault.state.phase == "Pending" for e in effects)
        if scheduler and not spec.get("nodeName") and info.frozen_status is None and not held:
            node, message = scheduler.schedule(pod)
            if node:
                spec["nodeName"] = node
                scheduler.place(pod)
                self.store.touch(pod)
                self._sched_msg.pop(uid, None)
            else:
                self._sched_msg[uid] = message
        refs = self._refs.get(uid)
        if refs is None:
            refs = self._refs[uid] = config_refs(spec)
        error = config_error(self.store, md.get("namespace", "default"), refs) if refs else None
        self.kubelet.update(pod, info, effects, error, self._sched_msg.get(uid, ""), now)

    def _endpoints(self, pods: list[Obj], stamp: str) -> None:
        sync_all_endpoints(self.store, pods, stamp, self._endpoint_sigs)

    # -- the contract's queries --------------------------------------------------------------

    def record_write(self, verb: str, ref: str) -> None:
        """Remember a write the API served (for the answer key's `forbidden`)."""
        self.executed.append((verb, ref))

    def evict(self, ns: str, pod: str) -> None:
        """The eviction subresource: the Pod goes (and its ReplicaSet replaces it)."""
        with self.store.lock:
            obj = self.store.get("Pod", ns, pod)
            self._delete_pod(obj, "eviction")
            self.sync()

    def faults_present(self) -> dict[str, bool]:
        """Each fault's name and whether its `when` holds now."""
        with self.store.lock:
            self.sync()
            return self.faults.present()

    def healthy(self, ref: str) -> bool:
        """SCENARIOS.md's "healthy" for a `Kind/ns/name` reference."""
        with self.store.lock:
            self.sync()
            return is_healthy(self.store, ref)

    def pod_logs(
        self,
        ns: str,
        pod: str,
        container: str | None = None,
        previous: bool = False,
        tail: int | None = None,
        since_seconds: float | None = None,
    ) -> str:
        """A container's log. Raises store.NotFound, or BadRequest (a StoreError, HTTP 400)."""
        with self.store.lock:
            self.sync()
            obj = self.store.get("Pod", ns, pod)
            text = container_log(
                obj,
                container,
                previous,
                self._log_rules,
                self.faults.effects(obj),
                self._fault_logs,
            )
        since = self.clock.now_ts() - since_seconds if since_seconds is not None else None
        return filter_log(text, tail, since)

    def series(self, start_ts: float, end_ts: float) -> list[Series]:
        """Every metric series with its samples in [start_ts, end_ts] (unix seconds)."""
        with self.store.lock:
            self.sync()
            return self._metrics.series(
                start_ts, end_ts, self.clock.now_ts(), self.faults.present_at
            )

    def trigger_payload(self) -> dict[str, Any] | str:
        """The trigger as `eval` delivers it: the webhook payload with its times shifted, or the
        slash command's text."""
        return trigger_payload(self.scenario, self.clock.offset)

    def trigger_text(self) -> str:
        """One line that says what the trigger reports."""
        return trigger_text(self.scenario, self.clock.offset)


def _complete_container_statuses(pod: dict[str, Any]) -> None:
    """Fill what a kubelet always reports and a hand-written status often leaves out.

    Clients validate these fields (the Python client refuses a containerStatus without
    `imageID`), so a scenario's status must not break them.
    """
    images = {
        c.get("name"): c.get("image", "") for c in (pod.get("spec") or {}).get("containers") or []
    }
    for cs in (pod.get("status") or {}).get("containerStatuses") or []:
        image = cs.setdefault("image", images.get(cs.get("name"), ""))
        digest = hashlib.sha256(image.encode()).hexdigest()
        cs.setdefault("imageID", f"{image.split(':')[0]}@sha256:{digest}")
        cs.setdefault("ready", False)
        cs.setdefault("restartCount", 0)
        if "running" in (cs.get("state") or {}) or "terminated" in (cs.get("state") or {}):
            uid = (pod.get("metadata") or {}).get("uid", "")
            cs.setdefault(
                "containerID",
                "containerd://" + hashlib.sha256(f"{uid}/{cs.get('name')}".encode()).hexdigest(),
            )
