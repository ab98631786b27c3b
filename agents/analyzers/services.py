"""Services: no ready endpoints, a selector that matches no Pod, a targetPort that no selected
container exposes, and when the Service was last edited (managedFields / last-applied)."""

from __future__ import annotations

import json
from typing import Any

from agents.analyzers.objects import (
    Obj,
    field_finding,
    labels_match,
    meta,
    pod_owner_ref,
    pod_ready,
    ref,
)
from agents.models import Finding

SPECIALIST = "kubernetes"
NEAR_VALUE = 0.6  # label values this alike are the same name, mistyped or renamed


def analyze_services(
    services: list[Obj],
    endpoints: list[Obj],
    pods: list[Obj],
    workloads: list[Obj] | None = None,
) -> list[Finding]:
    """Findings for Services that cannot deliver traffic, each naming the concrete mismatch.

    `workloads` (Deployments, StatefulSets) tell a selector typo apart from a workload that
    simply runs no Pods right now (scaled to zero): its pod template still matches.
    """
    eps = {(meta(e).get("namespace"), meta(e).get("name")): e for e in endpoints}
    findings: list[Finding] = []
    for svc in services:
        selector = (svc.get("spec") or {}).get("selector") or {}
        if not selector:
            continue  # selector-less Services have hand-made endpoints; nothing to derive
        m = meta(svc)
        ns = m.get("namespace")
        selected = [
            p
            for p in pods
            if meta(p).get("namespace") == ns and labels_match(selector, meta(p).get("labels"))
        ]
        ready_eps = _ready_addresses(eps.get((ns, m.get("name"))))
        edited = last_edit(svc)
        resource = ref("Service", svc)
        base: dict[str, Any] = {
            "selector": selector,
            "edited_at": edited,
            "ready_endpoints": ready_eps,
            "backends": sorted({pod_owner_ref(p) for p in selected}),
        }
        templated = [
            w
            for w in workloads or []
            if meta(w).get("namespace") == ns and labels_match(selector, _template_labels(w))
        ]
        if not selected and templated:
            backends = sorted(ref(w.get("kind") or "Deployment", w) for w in templated)
            text = (
                f"no ready endpoints: selector {_fmt(selector)} matches the pod template of "
                f"{', '.join(backends)}, which runs no Pods"
            )
            findings.append(
                _finding(
                    resource,
                    "Service has no ready endpoints",
                    text,
                    ["no_endpoints", "no_pods"],
                    {**base, "backends": backends},
                )
            )
            continue
        if not selected:
            near = _near_misses(svc, selector, [p for p in pods if meta(p).get("namespace") == ns])
            text = f"selector {_fmt(selector)} matches no Pod in {ns}"
            if near:
                text += f"; Pods nearby carry {', '.join(_fmt(n) for n in near)}"
            findings.append(
                _finding(
                    resource,
                    "Service selector matches no Pods",
                    text,
                    ["selector_mismatch", "no_endpoints"],
                    {**base, "candidate_labels": near},
                )
            )
            continue
        mismatches = _port_mismatches(svc, selected)
        if mismatches:
            text = "; ".join(
                f"port {mm['port']} targetPort {mm['target_port']} but selected Pods expose "
                f"containerPort {', '.join(str(p) for p in mm['container_ports']) or 'none'}"
                for mm in mismatches
            )
            findings.append(
                _finding(
                    resource,
                    "Service targetPort not exposed by its Pods",
                    text,
                    ["target_port_mismatch"] + ([] if ready_eps else ["no_endpoints"]),
                    {
                        **base,
                        "mismatches": mismatches,
                        "ready_pods": sum(pod_ready(p) for p in selected),
                    },
                )
            )
            continue
        if not ready_eps and not any(pod_ready(p) for p in selected):
            text = f"no ready endpoints: 0/{len(selected)} selected Pods Ready"
            findings.append(
                _finding(resource, "Service has no ready endpoints", text, ["no_endpoints"], base)
            )
    return findings


def last_edit(obj: Obj) -> str | None:
    """Latest managedFields time (when someone last wrote the object), if recorded."""
    times = [mf.get("time") for mf in meta(obj).get("managedFields") or [] if mf.get("time")]
    return max(times) if times else None


def last_applied(obj: Obj) -> Obj | None:
    """The kubectl last-applied-configuration annotation, parsed."""
    raw = (meta(obj).get("annotations") or {}).get(
        "kubectl.kubernetes.io/last-applied-configuration"
    )
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


def _ready_addresses(ep: Obj | None) -> int:
    if not ep:
        return 0
    return sum(len(s.get("addresses") or []) for s in ep.get("subsets") or [])


def _port_mismatches(svc: Obj, pods: list[Obj]) -> list[dict[str, Any]]:
    numbers: set[int] = set()
    names: dict[str, int] = {}
    probed: set[int] = set()
    for p in pods:
        for c in (p.get("spec") or {}).get("containers") or []:
            for port in c.get("ports") or []:
                if port.get("containerPort") is not None:
                    numbers.add(int(port["containerPort"]))
                    if port.get("name"):
                        names[port["name"]] = int(port["containerPort"])
            probed |= _probe_ports(c, names)
    out = []
    for sp in (svc.get("spec") or {}).get("ports") or []:
        target = sp.get("targetPort", sp.get("port"))
        if isinstance(target, str) and not target.isdigit():
            ok = target in names
        else:
            ok = int(target) in numbers
        if not ok and (numbers or names):
            out.append(
                {
                    "name": sp.get("name"),
                    "port": sp.get("port"),
                    "target_port": target,
                    "container_ports": sorted(numbers),
                    "suggested_target_port": _suggest(sp, numbers, names, probed),
                }
            )
    return out


def _suggest(
    service_port: Obj, numbers: set[int], names: dict[str, int], probed: set[int]
) -> int | None:
    """The containerPort a Service port most likely meant: the only one; else the one named
    like the Service port; else the one equal to the Service port; else the one the readiness
    probe checks (the port that serves)."""
    if len(numbers) == 1:
        return next(iter(numbers))
    if service_port.get("name") in names:
        return names[service_port["name"]]
    if service_port.get("port") in numbers:
        return int(service_port["port"])
    if len(probed & numbers) == 1:
        return next(iter(probed & numbers))
    return None


def _probe_ports(container: Obj, names: dict[str, int]) -> set[int]:
    out: set[int] = set()
    for probe in ("readinessProbe", "livenessProbe"):
        action = (container.get(probe) or {}).get("httpGet") or (container.get(probe) or {}).get(
            "tcpSocket"
        )
        port = (action or {}).get("port")
        if isinstance(port, int) or (isinstance(port, str) and port.isdigit()):
            out.add(int(port))
        elif isinstance(port, str) and port in names:
            out.add(names[port])
    return out


def _near_misses(svc: Obj, selector: dict[str, str], pods: list[Obj]) -> list[dict[str, str]]:
    """Label sets of Pods that share a selector key but differ in value (a likely typo), best
    first: Pods that expose the Service's targetPort, then values closest to the selector's
    and to the Service's name."""
    scored: dict[tuple[tuple[str, str], ...], float] = {}
    name = meta(svc).get("name") or ""
    for p in pods:
        labels = meta(p).get("labels") or {}
        cand = {k: labels[k] for k in selector if k in labels}
        if not cand or cand == selector:
            continue
        key = tuple(sorted(cand.items()))
        serves = _exposes_ports(p) and not _port_mismatches(svc, [p])
        similar = max(
            _similarity(v, selector.get(k, "")) + _similarity(v, name) for k, v in cand.items()
        )
        scored[key] = max(scored.get(key, 0.0), 2.0 * serves + similar)
    if not scored:
        # No shared key (a chart renamed the label key): Pods that serve the port and carry a
        # value like the selector's or the Service's name.
        for p in pods:
            if not (_exposes_ports(p) and not _port_mismatches(svc, [p])):
                continue
            for k, v in (meta(p).get("labels") or {}).items():
                similar = max(_similarity(v, x) for x in [name, *selector.values()])
                if k != "pod-template-hash" and similar >= NEAR_VALUE:
                    key = ((k, v),)
                    scored[key] = max(scored.get(key, 0.0), similar)
    ranked = sorted(scored.items(), key=lambda kv: -kv[1])
    return [dict(k) for k, _ in ranked[:5]]


def _exposes_ports(pod: Obj) -> bool:
    return any(c.get("ports") for c in (pod.get("spec") or {}).get("containers") or [])


def _similarity(a: str, b: str) -> float:
    """0..1: how alike two label values are (a typo, a prefix, a renamed chart)."""
    from difflib import SequenceMatcher

    return SequenceMatcher(None, a, b).ratio() if a and b else 0.0


def _template_labels(workload: Obj) -> dict[str, str]:
    return (((workload.get("spec") or {}).get("template") or {}).get("metadata") or {}).get(
        "labels"
    ) or {}


def _fmt(labels: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in labels.items())


def _finding(
    resource: str, title: str, text: str, tags: list[str], data: dict[str, Any]
) -> Finding:
    if data.get("edited_at"):
        text += f"; Service last edited at {data['edited_at']}"
    return field_finding(SPECIALIST, resource, f"{title}: {resource}", text, tags=tags, data=data)
