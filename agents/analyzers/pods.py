"""Pod health: crash loops (with the last termination), OOM kills, image pulls, container config
errors, unschedulable Pods and failing readiness. One finding per workload and problem, so three
crashing replicas read as one fact with a count."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from agents.analyzers.objects import Obj, meta, parse_time, pod_owner_ref, pod_ready
from agents.models import Evidence, Finding, Severity

SPECIALIST = "kubernetes"
SETTLED = timedelta(hours=1)  # a container Ready this long after an OOM kill has recovered


def analyze_pods(
    pods: list[Obj], events: list[Obj] | None = None, now: datetime | None = None
) -> list[Finding]:
    """Findings for unhealthy Pods, grouped by owning workload and problem kind.

    With `now`, an OOM kill long past on a container that has run fine since is history, not
    a finding (the kubelet keeps the last termination forever)."""
    events_by_pod: dict[tuple[str, str], list[Obj]] = {}
    for ev in events or []:
        inv = ev.get("involvedObject") or {}
        if inv.get("kind") == "Pod":
            events_by_pod.setdefault((inv.get("namespace", ""), inv.get("name", "")), []).append(ev)

    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for pod in pods:
        m = meta(pod)
        pod_events = events_by_pod.get((m.get("namespace", ""), m.get("name", "")), [])
        for problem in _pod_problems(pod, pod_events, now):
            key = (pod_owner_ref(pod), problem["tag"])
            g = groups.setdefault(key, {**problem, "pods": []})
            g["pods"].append(m.get("name"))
            g["restarts"] = max(g.get("restarts", 0), problem.get("restarts", 0))
    return [_finding(resource, g) for (resource, _), g in groups.items()]


def _pod_problems(pod: Obj, events: list[Obj], now: datetime | None) -> list[dict[str, Any]]:
    status = pod.get("status") or {}
    problems: list[dict[str, Any]] = []
    specs = {c.get("name"): c for c in (pod.get("spec") or {}).get("containers") or []}
    for cs in status.get("containerStatuses") or []:
        waiting = (cs.get("state") or {}).get("waiting") or {}
        last = (cs.get("lastState") or {}).get("terminated") or {}
        reason = waiting.get("reason")
        base = {
            "container": cs.get("name"),
            "image": cs.get("image"),
            "restarts": cs.get("restartCount") or 0,
            "message": waiting.get("message") or "",
            "limits": dict(
                ((specs.get(cs.get("name")) or {}).get("resources") or {}).get("limits") or {}
            ),
        }
        if reason == "CrashLoopBackOff":
            tags = ["crashloop"]
            if last.get("reason") == "OOMKilled":
                tags.append("oomkilled")
            problems.append(
                {
                    **base,
                    "tag": "crashloop",
                    "tags": tags,
                    "reason": reason,
                    "last_reason": last.get("reason"),
                    "exit_code": last.get("exitCode"),
                }
            )
        elif reason in ("ImagePullBackOff", "ErrImagePull", "InvalidImageName"):
            problems.append({**base, "tag": "image_pull", "tags": ["image_pull"], "reason": reason})
        elif reason == "ContainerCreating" and _messages(events, "FailedMount"):
            # Stuck creating because a volume (a ConfigMap, a Secret, a claim) cannot mount.
            problems.append(
                {
                    **base,
                    "tag": "config_error",
                    "tags": ["config_error", "mount_failed"],
                    "reason": "FailedMount",
                    "message": _messages(events, "FailedMount")[-1],
                }
            )
        elif reason in ("CreateContainerConfigError", "CreateContainerError"):
            problems.append(
                {**base, "tag": "config_error", "tags": ["config_error"], "reason": reason}
            )
        elif last.get("reason") == "OOMKilled" and not _settled(cs, last, now):
            problems.append(
                {
                    **base,
                    "tag": "oomkilled",
                    "tags": ["oomkilled"],
                    "reason": "OOMKilled",
                    "last_reason": "OOMKilled",
                    "exit_code": last.get("exitCode"),
                }
            )
    if status.get("phase") == "Pending" and not status.get("containerStatuses"):
        sched = _condition(pod, "PodScheduled")
        msgs = [e.get("message", "") for e in events if e.get("reason") == "FailedScheduling"]
        if (sched and sched.get("status") == "False") or msgs:
            problems.append(
                {
                    "tag": "unschedulable",
                    "tags": ["unschedulable", "pending"],
                    "reason": (sched or {}).get("reason") or "FailedScheduling",
                    "message": (msgs[-1] if msgs else (sched or {}).get("message")) or "",
                    "node_selector": (pod.get("spec") or {}).get("nodeSelector") or {},
                }
            )
    if (
        status.get("phase") == "Running"
        and not pod_ready(pod)
        and not any(p["tag"] in ("crashloop", "config_error", "image_pull") for p in problems)
    ):
        probe_msgs = [e.get("message", "") for e in events if e.get("reason") == "Unhealthy"]
        problems.append(
            {
                "tag": "not_ready",
                "tags": ["not_ready"] + (["probe_failing"] if probe_msgs else []),
                "reason": "NotReady",
                "message": probe_msgs[-1] if probe_msgs else "readiness condition is False",
            }
        )
    for p in problems:
        p.setdefault("events", [e.get("message", "") for e in events if e.get("type") == "Warning"])
    return problems


def _messages(events: list[Obj], reason: str) -> list[str]:
    return [e.get("message") or "" for e in events if e.get("reason") == reason]


def _settled(status: Obj, terminated: Obj, now: datetime | None) -> bool:
    """True when a container is Ready and its last termination ended over SETTLED ago."""
    finished = parse_time(terminated.get("finishedAt"))
    if now is None or finished is None or not status.get("ready"):
        return False
    return now - finished > SETTLED


def _condition(pod: Obj, type_: str) -> Obj | None:
    for c in (pod.get("status") or {}).get("conditions") or []:
        if c.get("type") == type_:
            return c
    return None


_TITLES = {
    "crashloop": "Pods crash-looping",
    "image_pull": "Pods cannot pull their image",
    "config_error": "Pods cannot start: container config error",
    "oomkilled": "Containers OOMKilled",
    "unschedulable": "Pods cannot be scheduled",
    "not_ready": "Pods running but not Ready",
}


def _finding(resource: str, g: dict[str, Any]) -> Finding:
    pods = g["pods"]
    parts = [f"{len(pods)} pod(s) {g['reason']}"]
    if g.get("last_reason"):
        parts.append(f"last termination {g['last_reason']} (exit code {g.get('exit_code')})")
    if g.get("last_reason") == "OOMKilled" and (g.get("limits") or {}).get("memory"):
        parts.append(f"memory limit {g['limits']['memory']}")
    if g.get("message"):
        parts.append(g["message"])
    if g.get("image") and g["tag"] == "image_pull":
        parts.append(f"image {g['image']}")
    if g.get("restarts"):
        parts.append(f"{g['restarts']} restarts")
    summary = "; ".join(parts)
    evidence = [Evidence(kind="field", source=f"Pod/{pods[0]}", text=summary)]
    for msg in dict.fromkeys(g.get("events") or []):
        if msg:
            evidence.append(Evidence(kind="event", source=f"Pod/{pods[0]}", text=msg))
    data = {k: v for k, v in g.items() if k not in ("tags", "events")}
    return Finding(
        specialist=SPECIALIST,
        title=f"{_TITLES[g['tag']]}: {resource}",
        severity=Severity.CRITICAL if g["tag"] != "not_ready" else Severity.WARNING,
        resource=resource,
        evidence=evidence[:5],
        summary=summary,
        tags=list(g["tags"]),
        data=data,
    )
