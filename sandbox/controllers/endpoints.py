"""The endpoints controller: Endpoints for every Service with a selector, from the matching Pods."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sandbox.controllers.common import pod_ready
from sandbox.store import ObjectStore

Obj = dict[str, Any]


def _target_port(svc_port: Obj, pod: Obj | None) -> int | None:
    target = svc_port.get("targetPort", svc_port.get("port"))
    if isinstance(target, int):
        return target
    if isinstance(target, str) and target.isdigit():
        return int(target)
    for c in ((pod or {}).get("spec") or {}).get("containers") or []:
        for p in c.get("ports") or []:
            if p.get("name") == target:
                return p.get("containerPort")
    return None


def _address(pod: Obj) -> Obj:
    md = pod["metadata"]
    return {
        "ip": pod["status"]["podIP"],
        "nodeName": pod["spec"].get("nodeName"),
        "targetRef": {
            "kind": "Pod",
            "name": md["name"],
            "namespace": md.get("namespace"),
            "uid": md.get("uid"),
        },
    }


def endpoints_for(svc: Obj, pods: list[Obj]) -> Obj:
    """The Endpoints object a Service with a selector gets from `pods` (already label-matched)."""
    md = svc["metadata"]
    with_ip = [
        p
        for p in pods
        if (p.get("status") or {}).get("podIP")
        and (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
    ]
    ready = [_address(p) for p in with_ip if pod_ready(p)]
    not_ready = [_address(p) for p in with_ip if not pod_ready(p)]
    ep: Obj = {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {"name": md["name"], "namespace": md.get("namespace", "default")},
    }
    if md.get("labels"):
        ep["metadata"]["labels"] = dict(md["labels"])
    if not with_ip:
        return ep
    ports = []
    for sp in (svc.get("spec") or {}).get("ports") or []:
        port = _target_port(sp, with_ip[0])
        if port is None:
            continue
        entry = {"port": port, "protocol": sp.get("protocol", "TCP")}
        if sp.get("name"):
            entry["name"] = sp["name"]
        ports.append(entry)
    subset: Obj = {}
    if ready:
        subset["addresses"] = sorted(ready, key=lambda a: a["ip"])
    if not_ready:
        subset["notReadyAddresses"] = sorted(not_ready, key=lambda a: a["ip"])
    if ports:
        subset["ports"] = ports
    ep["subsets"] = [subset]
    return ep


def sync_endpoints(store: ObjectStore, svc: Obj, pods: list[Obj], now_stamp: str) -> None:
    """Create or update the Service's Endpoints; touch the store only when something changed."""
    want = endpoints_for(svc, pods)
    md = want["metadata"]
    have = store.find("Endpoints", md["namespace"], md["name"])
    if have is None:
        store.create(want, now=now_stamp)
        return
    if have.get("subsets") != want.get("subsets"):
        if "subsets" in want:
            have["subsets"] = want["subsets"]
        else:
            have.pop("subsets", None)
        store.touch(have)


def service_healthy(store: ObjectStore, ns: str, name: str) -> bool:
    """A Service with at least one ready endpoint."""
    ep = store.find("Endpoints", ns, name)
    return bool(ep) and any(s.get("addresses") for s in ep.get("subsets") or [])


def sync_all_endpoints(
    store: ObjectStore, pods: list[Obj], stamp: str, sigs: dict[tuple[str, str], tuple]
) -> None:
    """Endpoints for every Service with a selector; `sigs` remembers what each was built from."""
    # Index Pods by (namespace, label, value) so each Service looks only at candidates.
    index: dict[tuple[str, str, str], list[Obj]] = defaultdict(list)
    for pod in pods:
        md = pod["metadata"]
        ns = md.get("namespace", "default")
        for k, v in (md.get("labels") or {}).items():
            index[(ns, k, str(v))].append(pod)
    for svc in store.list("Service"):
        selector = (svc.get("spec") or {}).get("selector")
        if not selector:
            continue
        items = [(k, str(v)) for k, v in selector.items()]
        ns = svc["metadata"].get("namespace", "default")
        first, rest = items[0], items[1:]
        matching = [
            p
            for p in index.get((ns, *first), ())
            if all((p["metadata"].get("labels") or {}).get(k) == v for k, v in rest)
        ]
        # Endpoints change only when the Service or its Pods' addresses or readiness do.
        sig = (
            svc["metadata"].get("resourceVersion"),
            tuple(
                (p["metadata"].get("uid"), (p.get("status") or {}).get("podIP"), pod_ready(p))
                for p in matching
            ),
        )
        key = (ns, svc["metadata"]["name"])
        if sigs.get(key) == sig and store.find("Endpoints", *key):
            continue
        sigs[key] = sig
        sync_endpoints(store, svc, matching, stamp)
