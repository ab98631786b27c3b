"""Rollouts: what the latest revision changed against the previous one, and whether the new
ReplicaSet is unhealthy while the previous one was fine. The template diff (image, env,
resources, probes, command) is often the single best piece of evidence in an incident."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from agents.analyzers.objects import Obj, meta, parse_time, pod_ready, ref, revision
from agents.models import Evidence, Finding, Severity

SPECIALIST = "kubernetes"


def template_diff(old: Obj, new: Obj) -> list[dict[str, Any]]:
    """Differences between two pod templates (ReplicaSet or Deployment dicts), per container.

    Each change is {"field", "container", "old", "new", "text"}; `text` is a readable line that
    quotes the concrete values (env var names, image tags, probe paths, limits).
    """
    changes: list[dict[str, Any]] = []
    old_spec, new_spec = _tspec(old), _tspec(new)
    old_c = {c.get("name"): c for c in old_spec.get("containers") or []}
    new_c = {c.get("name"): c for c in new_spec.get("containers") or []}

    def add(field: str, container: str | None, o: Any, n: Any, text: str) -> None:
        changes.append({"field": field, "container": container, "old": o, "new": n, "text": text})

    for name in new_c.keys() - old_c.keys():
        add("container", name, None, name, f"container {name} added")
    for name in old_c.keys() - new_c.keys():
        add("container", name, name, None, f"container {name} removed")
    for name in [n for n in new_c if n in old_c]:
        o, n = old_c[name], new_c[name]
        if o.get("image") != n.get("image"):
            add(
                "image",
                name,
                o.get("image"),
                n.get("image"),
                f"image {o.get('image')} -> {n.get('image')}",
            )
        oe, ne = _env(o), _env(n)
        for var in sorted(oe.keys() - ne.keys()):
            add("env", name, var, None, f"env {var} removed (was {_short(oe[var])})")
        for var in sorted(ne.keys() - oe.keys()):
            add("env", name, None, var, f"env {var} added ({_short(ne[var])})")
        for var in sorted(k for k in oe.keys() & ne.keys() if oe[k] != ne[k]):
            add(
                "env",
                name,
                oe[var],
                ne[var],
                f"env {var} changed {_short(oe[var])} -> {_short(ne[var])}",
            )
        if (o.get("envFrom") or []) != (n.get("envFrom") or []):
            add(
                "envFrom",
                name,
                o.get("envFrom"),
                n.get("envFrom"),
                f"envFrom {_short(o.get('envFrom'))} -> {_short(n.get('envFrom'))}",
            )
        for kind in ("limits", "requests"):
            ov = (o.get("resources") or {}).get(kind) or {}
            nv = (n.get("resources") or {}).get(kind) or {}
            for res in sorted(ov.keys() | nv.keys()):
                if ov.get(res) != nv.get(res):
                    add(
                        f"resources.{kind}.{res}",
                        name,
                        ov.get(res),
                        nv.get(res),
                        f"{kind}.{res} {ov.get(res)} -> {nv.get(res)}",
                    )
        for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
            if o.get(probe) != n.get(probe):
                add(
                    probe,
                    name,
                    o.get(probe),
                    n.get(probe),
                    f"{probe} {_probe_text(o.get(probe))} -> {_probe_text(n.get(probe))}",
                )
        for field in ("command", "args", "ports"):
            if (o.get(field) or None) != (n.get(field) or None):
                add(
                    field,
                    name,
                    o.get(field),
                    n.get(field),
                    f"{field} {o.get(field)} -> {n.get(field)}",
                )
    old_v = {v.get("name"): v for v in old_spec.get("volumes") or []}
    new_v = {v.get("name"): v for v in new_spec.get("volumes") or []}
    for vol in sorted(old_v.keys() | new_v.keys(), key=str):
        if old_v.get(vol) != new_v.get(vol):
            o, n = _volume_text(old_v.get(vol)), _volume_text(new_v.get(vol))
            add("volumes", None, old_v.get(vol), new_v.get(vol), f"volume {vol}: {o} -> {n}")
    for field in ("nodeSelector", "serviceAccountName", "tolerations"):
        if (old_spec.get(field) or None) != (new_spec.get(field) or None):
            add(
                field,
                None,
                old_spec.get(field),
                new_spec.get(field),
                f"{field} {_short(old_spec.get(field))} -> {_short(new_spec.get(field))}",
            )
    return changes


def analyze_rollout(
    deployment: Obj, replicasets: list[Obj], pods: list[Obj], now: datetime | None = None
) -> list[Finding]:
    """A finding for the Deployment's latest rollout (when it has a previous revision), tagged
    `rollout`, plus `rollout_unhealthy` when the new ReplicaSet's Pods are not Ready."""
    owned = [rs for rs in replicasets if _owned_by(rs, deployment)]
    if not owned:
        return []
    owned.sort(key=revision)
    current_rev = revision(deployment) or revision(owned[-1])
    current = next((rs for rs in owned if revision(rs) == current_rev), owned[-1])
    older = [rs for rs in owned if revision(rs) < revision(current)]
    if not older:
        return []
    previous = older[-1]
    cur_pods = _pods_of(current, pods)
    prev_pods = _pods_of(previous, pods)
    cur_ready = sum(pod_ready(p) for p in cur_pods)
    prev_unready = [p for p in prev_pods if not pod_ready(p)]
    new_unhealthy = bool(cur_pods) and cur_ready < len(cur_pods)
    # Evidence of the previous revision's health: we cannot see the past, so it counts as healthy
    # unless its surviving Pods are failing too (then the rollout is not what broke things).
    previous_healthy = not prev_unready
    diff = template_diff(previous, current)
    created = meta(current).get("creationTimestamp")
    resource = ref("Deployment", deployment)
    tags = ["rollout"]
    if new_unhealthy:
        tags.append("rollout_unhealthy")
    if previous_healthy:
        tags.append("previous_healthy")
    age = ""
    if now and parse_time(created):
        minutes = (now - parse_time(created)).total_seconds() / 60  # type: ignore[operator]
        age = f" ({minutes:.0f} min ago)"
        if minutes <= 120:
            tags.append("recent")
    summary = (
        f"revision {revision(current)} ({meta(current).get('name')}, created {created}{age}) "
        f"replaced revision {revision(previous)} ({meta(previous).get('name')}); "
        f"{cur_ready}/{len(cur_pods)} new pods Ready"
    )
    if diff:
        summary += "; changes: " + "; ".join(c["text"] for c in diff)
    evidence = [
        Evidence(kind="field", source=ref("ReplicaSet", current), text=c["text"]) for c in diff
    ]
    return [
        Finding(
            specialist=SPECIALIST,
            title=f"Rollout to revision {revision(current)}: {resource}",
            severity=Severity.CRITICAL if new_unhealthy else Severity.INFO,
            resource=resource,
            evidence=evidence or [Evidence(kind="field", source=resource, text=summary)],
            summary=summary,
            tags=tags,
            data={
                "revision": revision(current),
                "previous_revision": revision(previous),
                "replicaset": meta(current).get("name"),
                "previous_replicaset": meta(previous).get("name"),
                "created": created,
                "ready": cur_ready,
                "pods": len(cur_pods),
                "diff": diff,
            },
        )
    ]


def _owned_by(rs: Obj, deployment: Obj) -> bool:
    dm = meta(deployment)
    if meta(rs).get("namespace") != dm.get("namespace"):
        return False
    for o in meta(rs).get("ownerReferences") or []:
        if o.get("kind") == "Deployment" and o.get("name") == dm.get("name"):
            return True
    return False


def _pods_of(rs: Obj, pods: list[Obj]) -> list[Obj]:
    name = meta(rs).get("name")
    out = []
    for p in pods:
        if meta(p).get("namespace") != meta(rs).get("namespace"):
            continue
        owners = [o.get("name") for o in meta(p).get("ownerReferences") or []]
        if name in owners:
            out.append(p)
    return out


def _tspec(obj: Obj) -> Obj:
    return ((obj.get("spec") or {}).get("template") or {}).get("spec") or {}


def _env(container: Obj) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for e in container.get("env") or []:
        out[e.get("name")] = e.get("value") if "value" in e else e.get("valueFrom")
    return out


def _volume_text(volume: Obj | None) -> str:
    """A volume's source in a few words: "ConfigMap geo-rules", "Secret tls", "none"."""
    if not volume:
        return "none"
    for key, kind, name_key in (
        ("configMap", "ConfigMap", "name"),
        ("secret", "Secret", "secretName"),
        ("persistentVolumeClaim", "PersistentVolumeClaim", "claimName"),
    ):
        if key in volume:
            return f"{kind} {(volume[key] or {}).get(name_key)}"
    return _short({k: v for k, v in volume.items() if k != "name"})


def _probe_text(probe: Obj | None) -> str:
    if not probe:
        return "none"
    if "httpGet" in probe:
        hg = probe["httpGet"]
        return f"httpGet {hg.get('path', '/')}:{hg.get('port')}"
    if "tcpSocket" in probe:
        return f"tcpSocket :{probe['tcpSocket'].get('port')}"
    if "exec" in probe:
        return f"exec {probe['exec'].get('command')}"
    return str(probe)


def _short(value: Any) -> str:
    if isinstance(value, dict) and "secretKeyRef" in value:
        s = value["secretKeyRef"]
        return f"from Secret {s.get('name')} key {s.get('key')}"
    if isinstance(value, dict) and "configMapKeyRef" in value:
        s = value["configMapKeyRef"]
        return f"from ConfigMap {s.get('name')} key {s.get('key')}"
    text = str(value)
    return text if len(text) <= 80 else text[:77] + "..."
