"""The Events a kubelet and scheduler report for a Pod in each state, with counts and times
that follow the crash loop's clock."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.controllers.backoff import RUN_SECONDS, attempt_start
from sandbox.controllers.common import EventRecorder
from sandbox.fault_tracker import PodEffect

if TYPE_CHECKING:
    from sandbox.controllers.kubelet import PodInfo

Obj = dict[str, Any]


def record_pod_events(
    rec: EventRecorder,
    pod: Obj,
    info: PodInfo,
    mode: tuple,
    step: tuple | None,
    since: float,
    eff: PodEffect | None,
    effects: list[PodEffect],
    now: float,
    world_start: float,
) -> None:
    """Create or update the Events for one Pod's current mode (see `Kubelet.update`)."""
    md = pod["metadata"]
    node = pod["spec"].get("nodeName")
    kind = mode[0]
    if kind in ("unscheduled", "held"):
        # A fault that holds a Pod Pending reports FailedScheduling only when it gives a message.
        if kind == "unscheduled" or mode[1]:
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
    fresh = info.created >= world_start - 1
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
    if kind == "mount":
        k = step[0] if step else 0
        rec.record(
            pod,
            "FailedMount",
            mode[1],
            type="Warning",
            now=now,
            count=k + 1,
            first=since,
            last=since + attempt_start(k),
            host=node,
        )
        return
    containers = pod["spec"].get("containers") or []
    for c in containers:
        name, image = c.get("name"), c.get("image", "")
        fp = f"spec.containers{{{name}}}"
        hit = eff is not None and name in eff.containers
        common = {"now": now, "host": node, "field_path": fp}
        if kind == "pull" and (hit or eff is None):
            k = step[0] if step else 0
            last = since + attempt_start(k)
            msg = pull_error(image, eff.fault.state.message if eff and eff.fault.state else None)
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


def pull_error(image: str, message: str | None) -> str:
    """The ErrImagePull message: the fault's own, or containerd's "not found"."""
    if message:
        return message
    return (
        f'rpc error: code = NotFound desc = failed to pull and unpack image "{image}": '
        f'failed to resolve reference "{image}": {image}: not found'
    )
