"""The kubelet: a Pod's status from its Node, its config references, the faults on it and time.

Status is a pure function of a small "mode" (ready, starting, crash attempt k, ...) and
time, so a Pod is only rebuilt when its mode changes; `PodInfo.wake` says when it will.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from typing import Any

from sandbox.controllers.backoff import (
    BACKOFFS,
    RUN_SECONDS,
    attempt_at,
    attempt_start,
    human_backoff,
)
from sandbox.controllers.common import EventRecorder, stable_hash
from sandbox.controllers.config_refs import ConfigProblem
from sandbox.controllers.kubelet_events import pull_error, record_pod_events
from sandbox.fault_tracker import PodEffect
from sandbox.store import ObjectStore
from sandbox.timeshift import fmt_ts

Obj = dict[str, Any]


@dataclass
class PodInfo:
    """What the sandbox remembers about a Pod besides the object itself."""

    created: float
    frozen_status: Obj | None = None  # status the file gave; served unless a fault's state acts
    mode: tuple | None = None
    since: dict[tuple, float] = field(default_factory=dict)
    wake: float = math.inf
    announced: bool = False
    key: tuple[str, str] = ("", "")  # (namespace, name), for timer-only syncs


@dataclass
class Kubelet:
    """Builds Pod status for every Node; one instance per world."""

    store: ObjectStore
    events: EventRecorder
    startup_seconds: float
    world_start: float
    node_index: dict[str, int] = field(default_factory=dict)
    node_ips: dict[str, str] = field(default_factory=dict)
    initial: bool = True  # the first sync: Pods have been in their state since they were created

    def update(
        self,
        pod: Obj,
        info: PodInfo,
        effects: list[PodEffect],
        config_error: ConfigProblem | None,
        sched_message: str,
        now: float,
    ) -> None:
        """Bring one Pod's status up to date at `now`; sets `info.wake`."""
        spec = pod.get("spec") or {}
        state_effect = next((e for e in effects if e.fault.state is not None), None)
        phase = state_effect.fault.state.phase if state_effect else None  # type: ignore[union-attr]
        node = spec.get("nodeName")
        if info.frozen_status is not None and state_effect is None:
            mode: tuple = ("frozen",)
        elif phase == "Pending":
            mode = ("held", state_effect.fault.state.message or "")  # type: ignore[union-attr]
        elif not node:
            mode = ("unscheduled", sched_message)
        elif config_error is not None and config_error.kind == "mount":
            mode = ("mount", config_error.message)
        elif phase in ("ImagePullBackOff", "ErrImagePull"):
            mode = ("pull", phase)
        elif config_error is not None:
            mode = ("config", config_error.message)
        elif phase == "CreateContainerConfigError":
            mode = (
                "config",
                state_effect.fault.state.message  # type: ignore[union-attr]
                or "couldn't find key in ConfigMap",
            )
        elif phase == "CrashLoopBackOff":
            mode = ("crash",)
        elif now < info.created + self.startup_seconds:
            mode = ("starting",)
        elif phase == "NotReady":
            mode = ("notready",)
        else:
            mode = ("ready",)
        key = (mode[0], state_effect.index if state_effect else -1)
        since = info.since.setdefault(key, info.created if self.initial else max(now, info.created))
        info.since = {key: since}
        info.wake = math.inf
        step = None
        if mode[0] in ("crash", "pull", "config", "mount"):
            k = attempt_at(now - since)
            running = now - since - attempt_start(k) < RUN_SECONDS
            step = (k, running)
            info.wake = since + attempt_start(k) + (RUN_SECONDS if running else 0.0)
            if not running:
                info.wake = since + attempt_start(k + 1)
        elif mode[0] == "starting":
            info.wake = info.created + self.startup_seconds
        full_mode = (*mode, step, tuple(e.index for e in effects))
        if full_mode == info.mode:
            return
        info.mode = full_mode
        if mode[0] == "frozen":
            if pod.get("status") != info.frozen_status:
                pod["status"] = info.frozen_status
                self.store.touch(pod)
            return
        status = self._status(pod, info, mode, step, since, state_effect)
        if status != pod.get("status"):
            pod["status"] = status
            self.store.touch(pod)
        record_pod_events(
            self.events, pod, info, mode, step, since, state_effect, effects, now, self.world_start
        )

    # -- status ----------------------------------------------------------------------------

    def _ips(self, pod: Obj) -> tuple[str, str]:
        node = pod["spec"].get("nodeName", "")
        idx = self.node_index.get(node, 0)
        h = stable_hash(pod["metadata"].get("uid", pod["metadata"]["name"]))
        pod_ip = f"10.244.{idx}.{2 + h % 250}"
        return pod_ip, self.node_ips.get(node, f"10.0.0.{10 + idx}")

    def _status(
        self,
        pod: Obj,
        info: PodInfo,
        mode: tuple,
        step: tuple | None,
        since: float,
        eff: PodEffect | None,
    ) -> Obj:
        spec = pod["spec"]
        created = fmt_ts(info.created)
        qos = _qos(spec)
        if mode[0] in ("held", "unscheduled"):
            msg = (
                mode[1]
                or "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector."
            )
            return {
                "phase": "Pending",
                "conditions": [
                    {
                        "type": "PodScheduled",
                        "status": "False",
                        "reason": "Unschedulable",
                        "message": msg,
                        "lastProbeTime": None,
                        "lastTransitionTime": fmt_ts(since),
                    }
                ],
                "qosClass": qos,
            }
        pod_ip, host_ip = self._ips(pod)
        start = info.created + 1.0
        affected = eff.containers if eff else frozenset()
        statuses, ready_all = [], True
        phase = "Running"
        for c in spec.get("containers") or []:
            name = c.get("name")
            cs = self._container(
                pod,
                c,
                info,
                mode
                if name in affected or mode[0] in ("config", "mount", "starting")
                else ("ready",),
                step,
                since,
                eff,
                start,
            )
            statuses.append(cs)
            ready_all = ready_all and cs["ready"]
            if "waiting" in cs["state"] and cs["state"]["waiting"]["reason"] != "CrashLoopBackOff":
                phase = "Pending"
        ready_at = info.created + self.startup_seconds
        ready_since = fmt_ts(max(ready_at, since) if ready_all else since)
        not_ready = [s["name"] for s in statuses if not s["ready"]]
        ready_cond = {
            "type": "Ready",
            "status": "True" if ready_all else "False",
            "lastProbeTime": None,
            "lastTransitionTime": ready_since,
        }
        if not ready_all:
            ready_cond["reason"] = "ContainersNotReady"
            ready_cond["message"] = f"containers with unready status: [{' '.join(not_ready)}]"
        cready = dict(ready_cond, type="ContainersReady")
        return {
            "phase": phase,
            "conditions": [
                {
                    "type": "PodReadyToStartContainers",
                    "status": "True",
                    "lastProbeTime": None,
                    "lastTransitionTime": fmt_ts(start),
                },
                {
                    "type": "Initialized",
                    "status": "True",
                    "lastProbeTime": None,
                    "lastTransitionTime": created,
                },
                ready_cond,
                cready,
                {
                    "type": "PodScheduled",
                    "status": "True",
                    "lastProbeTime": None,
                    "lastTransitionTime": created,
                },
            ],
            "hostIP": host_ip,
            "hostIPs": [{"ip": host_ip}],
            "podIP": pod_ip,
            "podIPs": [{"ip": pod_ip}],
            "startTime": created,
            "containerStatuses": statuses,
            "qosClass": qos,
        }

    def _container(
        self,
        pod: Obj,
        c: Obj,
        info: PodInfo,
        mode: tuple,
        step: tuple | None,
        since: float,
        eff: PodEffect | None,
        start: float,
    ) -> Obj:
        name, image = c.get("name"), c.get("image", "")
        md = pod["metadata"]
        cid = "containerd://" + _hex64(md.get("uid", ""), name, str(step))
        cs: Obj = {
            "name": name,
            "image": image,
            "imageID": f"{image.split(':')[0]}@sha256:{_hex64(image)}",
            "ready": False,
            "started": False,
            "restartCount": 0,
            "lastState": {},
        }
        state = eff.fault.state if eff and eff.fault.state else None
        kind = mode[0]
        if kind == "pull":
            img = f'"{image}"'
            if mode[1] == "ImagePullBackOff":
                cs["state"] = {
                    "waiting": {
                        "reason": "ImagePullBackOff",
                        "message": f"Back-off pulling image {img}",
                    }
                }
            else:
                cs["state"] = {
                    "waiting": {
                        "reason": "ErrImagePull",
                        "message": pull_error(image, state.message if state else None),
                    }
                }
            return cs
        if kind == "config":
            cs["state"] = {"waiting": {"reason": "CreateContainerConfigError", "message": mode[1]}}
            return cs
        if kind == "mount":
            cs["state"] = {"waiting": {"reason": "ContainerCreating"}}
            return cs
        if kind == "crash" and step is not None:
            k, running = step
            code = (
                state.exit_code
                if state and state.exit_code is not None
                else (137 if state and state.reason == "OOMKilled" else 1)
            )
            last = k if not running else k - 1
            cs["containerID"] = cid
            cs["restartCount"] = k
            if last >= 0:
                began = since + attempt_start(last)
                term: Obj = {
                    "exitCode": code,
                    "reason": (state.reason if state and state.reason else "Error"),
                    "startedAt": fmt_ts(began),
                    "finishedAt": fmt_ts(began + RUN_SECONDS),
                    "containerID": cid,
                }
                if state and state.message:
                    term["message"] = state.message
                cs["lastState"] = {"terminated": term}
            if running:
                cs["state"] = {"running": {"startedAt": fmt_ts(since + attempt_start(k))}}
                cs["started"] = True
            else:
                back = int(BACKOFFS[min(k, len(BACKOFFS) - 1)])
                cs["state"] = {
                    "waiting": {
                        "reason": "CrashLoopBackOff",
                        "message": (
                            f"back-off {human_backoff(back)} restarting failed container={name} "
                            f"pod={md['name']}_{md.get('namespace')}({md.get('uid')})"
                        ),
                    }
                }
            return cs
        cs["containerID"] = cid
        cs["state"] = {"running": {"startedAt": fmt_ts(start)}}
        cs["started"] = True
        cs["ready"] = kind == "ready"
        return cs


def _hex64(*parts: str) -> str:
    """64 hex digits, stable per input: container IDs and image digests."""
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


def _qos(spec: Obj) -> str:
    any_set, guaranteed = False, True
    for c in spec.get("containers") or []:
        res = c.get("resources") or {}
        req, lim = res.get("requests") or {}, res.get("limits") or {}
        if req or lim:
            any_set = True
        for r in ("cpu", "memory"):
            if r not in lim or req.get(r, lim[r]) != lim[r]:
                guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"
