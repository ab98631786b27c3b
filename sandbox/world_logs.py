"""Pod logs as the sandbox serves them: baseline lines for healthy containers, a fault's lines
for the Pods it affects, errors worded like kube-apiserver's."""

from __future__ import annotations

from typing import Any

from sandbox.fault_tracker import PodEffect
from sandbox.faults import pod_matches
from sandbox.scenario_model import LogRule
from sandbox.store import StoreError
from sandbox.timeshift import line_time

Obj = dict[str, Any]


class BadRequest(StoreError):
    """The request cannot be served as asked (kube-apiserver answers 400)."""

    code = 400
    reason = "BadRequest"


def container_log(
    pod: Obj,
    container: str | None,
    previous: bool,
    rules: list[tuple[LogRule, str]],
    effects: list[PodEffect],
    fault_logs: dict[str, str],
) -> str:
    """The log text of one container (before tail/since filtering). Raises BadRequest."""
    md, spec = pod["metadata"], pod.get("spec") or {}
    name = md["name"]
    names = [c.get("name") for c in spec.get("containers") or []]
    if container is None:
        if len(names) != 1:
            raise BadRequest(
                f"a container name must be specified for pod {name}, choose one "
                f"of: [{' '.join(names)}]"
            )
        container = names[0]
    if container not in names:
        raise BadRequest(f"container {container} is not valid for pod {name}")
    if not spec.get("nodeName"):
        raise BadRequest(f"pod {name} does not have a host assigned")
    status = next(
        (
            s
            for s in (pod.get("status") or {}).get("containerStatuses") or []
            if s.get("name") == container
        ),
        {},
    )
    hit = [e for e in effects if container in e.containers]
    crashing = any(
        e.fault.state is not None and e.fault.state.phase == "CrashLoopBackOff" for e in hit
    )
    if previous:
        if not (status.get("lastState") or {}).get("terminated"):
            raise BadRequest(
                f'previous terminated container "{container}" in pod "{name}" not found'
            )
    else:
        waiting = (status.get("state") or {}).get("waiting")
        running = (pod.get("status") or {}).get("phase") == "Running"
        if (waiting and waiting.get("reason") != "CrashLoopBackOff") or (
            not status and not running
        ):
            reason = (waiting or {}).get("reason", "ContainerCreating")
            if reason in ("ImagePullBackOff", "ErrImagePull"):
                reason = "trying and failing to pull image"
            raise BadRequest(
                f'container "{container}" in pod "{name}" is waiting to start: {reason}'
            )
    parts = []
    if not crashing:
        ns, labels = md.get("namespace", "default"), md.get("labels") or {}
        for rule, text in rules:
            if rule.container not in (None, container):
                continue
            if pod_matches(rule.select, ns, labels, spec):
                parts.append(text)
    for e in hit:
        if e.fault.name in fault_logs:
            parts.append(fault_logs[e.fault.name])
    return "".join(p if p.endswith("\n") else p + "\n" for p in parts)


def filter_log(text: str, tail: int | None, since_ts: float | None) -> str:
    """Apply `sinceSeconds` (lines whose leading timestamp is older are dropped) and `tailLines`."""
    lines = text.splitlines(keepends=True)
    if since_ts is not None:
        kept, keep = [], True
        for line in lines:
            t = line_time(line)
            if t is not None:
                keep = t >= since_ts
            if keep:
                kept.append(line)
        lines = kept
    if tail is not None:
        lines = lines[-tail:] if tail > 0 else []
    return "".join(lines)
