"""The kubelet: a Pod's status from its Node, its config references, the faults on it and time.

Status is a pure function of a small "mode" (ready, starting, crash attempt k, ...) and
time, so a Pod is only rebuilt when its mode changes; `PodInfo.wake` says when it will.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from sandbox.controllers.common import EventRecorder, stable_hash
from sandbox.fault_tracker import PodEffect
from sandbox.store import ObjectStore
from sandbox.timeshift import fmt_ts

Obj = dict[str, Any]
RUN_SECONDS = 3.0  # how long a crashing container lives before it exits
_BACKOFFS = [min(10.0 * 2**k, 300.0) for k in range(6)]
_STARTS = [0.0]
for _b in _BACKOFFS[:-1]:
    _STARTS.append(_STARTS[-1] + RUN_SECONDS + _b)


def attempt_start(k: int) -> float:
    """Seconds after the first start at which attempt k starts (kubelet's 10s..300s back-off)."""
    if k < len(_STARTS):
        return _STARTS[k]
    return _STARTS[-1] + (k - len(_STARTS) + 1) * (RUN_SECONDS + 300.0)


def attempt_at(elapsed: float) -> int:
    """The latest attempt started `elapsed` seconds after the first start."""
    if elapsed < _STARTS[-1]:
        return max(k for k, s in enumerate(_STARTS) if s <= max(elapsed, 0.0))
    return len(_STARTS) - 1 + int((elapsed - _STARTS[-1]) // (RUN_SECONDS + 300.0))


@dataclass
class PodInfo:
    """What the sandbox remembers about a Pod besides the object itself."""

    created: float
    frozen_status: Obj | None = None  # status the file gave; served unless a fault's state acts
    mode: tuple | None = None
    since: dict[tuple, float] = field(default_factory=dict)
    wake: float = math.inf
    announced: bool = False


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
        config_error: str | None,
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
        elif phase in ("ImagePullBackOff", "ErrImagePull"):
            mode = ("pull", phase)
        elif config_error is not None:
            mode = ("config", config_error)
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
        if mode[0] in ("crash", "pull", "config"):
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
        self._events(pod, info, mode, step, since, state_effect, effects, now)

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
                mode if name in affected or mode[0] in ("config", "starting") else ("ready",),
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
                        "message": _pull_error(image, state.message if state else None),
                    }
                }
            return cs
        if kind == "config":
            cs["state"] = {"waiting": {"reason": "CreateContainerConfigError", "message": mode[1]}}
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
                back = int(_BACKOFFS[min(k, len(_BACKOFFS) - 1)])
                cs["state"] = {
                    "waiting": {
                        "reason": "CrashLoopBackOff",
                        "message": (
                            f"back-off {_dur(back)} restarting failed container={name} "
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

    # -- events ----------------------------------------------------------------------------

    def _events(
        self,
        pod: Obj,
        info: PodInfo,
        mode: tuple,
        step: tuple | None,
        since: float,
        eff: PodEffect | None,
        effects: list[PodEffect],
        now: float,
    ) -> None:
        rec, md = self.events, pod["metadata"]
        node = pod["spec"].get("nodeName")
        kind = mode[0]
        if kind == "unscheduled":
            rec.record(
                pod,
                "FailedScheduling",
                mode[1],
                type="Warning",
                now=now,
                count=1,
                component="default-scheduler",
                key="sched",
            )
            return
        if kind == "held":
            if mode[1]:
                rec.record(
                    pod,
                    "FailedScheduling",
                    mode[1],
                    type="Warning",
                    now=now,
                    count=1,
                    component="default-scheduler",
                    key="sched",
                )
            return
        fresh = info.created >= self.world_start - 1
        if fresh and not info.announced and node:
            info.announced = True
            rec.record(
                pod,
                "Scheduled",
                f"Successfully assigned {md.get('namespace')}/{md['name']} to {node}",
                now=now,
                count=1,
                first=info.created,
                component="default-scheduler",
            )
        containers = pod["spec"].get("containers") or []
        for c in containers:
            name, image = c.get("name"), c.get("image", "")
            fp = f"spec.containers{{{name}}}"
            hit = eff is not None and name in eff.containers
            common = {"now": now, "host": node, "field_path": fp}
            if kind == "pull" and (hit or eff is None):
                k = step[0] if step else 0
                last = since + attempt_start(k)
                msg = _pull_error(
                    image, eff.fault.state.message if eff and eff.fault.state else None
                )
                rec.record(
                    pod,
                    "Pulling",
                    f'Pulling image "{image}"',
                    count=k + 1,
                    first=since,
                    last=last,
                    **common,
                )
                rec.record(
                    pod,
                    "Failed",
                    f'Failed to pull image "{image}": {msg}',
                    type="Warning",
                    count=k + 1,
                    first=since,
                    last=last,
                    **common,
                )
                rec.record(
                    pod,
                    "Failed",
                    "Error: ErrImagePull",
                    type="Warning",
                    count=k + 1,
                    first=since,
                    last=last,
                    **common,
                )
                if k > 0 or mode[1] == "ImagePullBackOff":
                    rec.record(
                        pod,
                        "BackOff",
                        f'Back-off pulling image "{image}"',
                        count=max(k, 1),
                        first=since + RUN_SECONDS,
                        last=last,
                        **common,
                    )
                    rec.record(
                        pod,
                        "Failed",
                        "Error: ImagePullBackOff",
                        type="Warning",
                        count=max(k, 1),
                        first=since + RUN_SECONDS,
                        last=last,
                        **common,
                    )
                continue
            if kind == "config":
                k = step[0] if step else 0
                rec.record(
                    pod,
                    "Failed",
                    f"Error: {mode[1]}",
                    type="Warning",
                    count=k + 1,
                    first=since,
                    last=since + attempt_start(k),
                    **common,
                )
                continue
            if kind == "crash" and hit and step is not None:
                k, running = step
                last_start = since + attempt_start(k)
                rec.record(
                    pod,
                    "Pulled",
                    f'Container image "{image}" already present on machine',
                    count=k + 1,
                    first=since,
                    last=last_start,
                    **common,
                )
                rec.record(
                    pod,
                    "Created",
                    f"Created container: {name}",
                    count=k + 1,
                    first=since,
                    last=last_start,
                    **common,
                )
                rec.record(
                    pod,
                    "Started",
                    f"Started container {name}",
                    count=k + 1,
                    first=since,
                    last=last_start,
                    **common,
                )
                crashes = k if running else k + 1
                if crashes:
                    rec.record(
                        pod,
                        "BackOff",
                        f"Back-off restarting failed container {name} in "
                        f"pod {md['name']}_{md.get('namespace')}({md.get('uid')})",
                        type="Warning",
                        count=crashes,
                        first=since + RUN_SECONDS,
                        last=last_start + (0 if running else RUN_SECONDS),
                        **common,
                    )
                continue
            if fresh and kind in ("starting", "ready", "notready"):
                rec.record(
                    pod,
                    "Pulling",
                    f'Pulling image "{image}"',
                    count=1,
                    first=info.created,
                    **common,
                )
                rec.record(
                    pod,
                    "Pulled",
                    f'Successfully pulled image "{image}" in 812ms (812ms including waiting)',
                    count=1,
                    first=info.created,
                    **common,
                )
                rec.record(
                    pod,
                    "Created",
                    f"Created container: {name}",
                    count=1,
                    first=info.created,
                    **common,
                )
                rec.record(
                    pod,
                    "Started",
                    f"Started container {name}",
                    count=1,
                    first=info.created,
                    **common,
                )
            if kind == "notready" and hit:
                probe = (
                    eff.fault.state.message
                    if eff and eff.fault.state and eff.fault.state.message
                    else "HTTP probe failed with statuscode: 503"
                )
                rec.record(
                    pod,
                    "Unhealthy",
                    f"Readiness probe failed: {probe}",
                    type="Warning",
                    count=max(1, int((now - since) // 10)),
                    first=since,
                    **common,
                )
        for e in effects:
            for i, ev in enumerate(e.fault.events):
                rec.record(
                    pod,
                    ev.reason,
                    ev.message,
                    type=ev.type,
                    now=now,
                    count=1,
                    first=since,
                    key=f"fault:{e.fault.name}:{i}",
                    host=node,
                )


def _hex64(*parts: str) -> str:
    return "".join(f"{stable_hash(*parts, str(i)):016x}" for i in range(4))


def _dur(seconds: int) -> str:
    m, s = divmod(seconds, 60)
    return f"{m}m{s}s" if m else f"{s}s"


def _pull_error(image: str, message: str | None) -> str:
    if message:
        return message
    return (
        f'rpc error: code = NotFound desc = failed to pull and unpack image "{image}": '
        f'failed to resolve reference "{image}": {image}: not found'
    )


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


def config_refs(spec: Obj) -> list[tuple[str, str, str | None, bool]]:
    """(kind, name, key or None, optional) for every ConfigMap/Secret the containers' env needs."""
    out = []
    for c in spec.get("containers") or []:
        for e in c.get("env") or []:
            vf = (e or {}).get("valueFrom") or {}
            for field_name, kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
                ref = vf.get(field_name)
                if ref:
                    out.append(
                        (kind, ref.get("name", ""), ref.get("key"), bool(ref.get("optional")))
                    )
        for ef in c.get("envFrom") or []:
            for field_name, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
                ref = (ef or {}).get(field_name)
                if ref:
                    out.append((kind, ref.get("name", ""), None, bool(ref.get("optional"))))
    return out


def config_error(
    store: ObjectStore, ns: str, refs: list[tuple[str, str, str | None, bool]]
) -> str | None:
    """The kubelet's CreateContainerConfigError message for the first missing reference, or None."""
    for kind, name, key, optional in refs:
        if optional:
            continue
        obj = store.find(kind, ns, name)
        if obj is None:
            return f'{kind.lower()} "{name}" not found'
        if key is not None:
            data = dict(obj.get("data") or {})
            data.update(obj.get("stringData") or obj.get("binaryData") or {})
            if key not in data:
                return f"couldn't find key {key} in {kind} {ns}/{name}"
    return None
