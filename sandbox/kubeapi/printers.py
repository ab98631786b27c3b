"""Per-kind row printers: the columns and cells kube-apiserver prints for each kind."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sandbox.kubeapi.timefmt import age, human_duration, parse_time

Obj = dict[str, Any]
Row = list[Any]
# (column name, type, priority)
Column = tuple[str, str, int]


def dig(obj: Any, *path: str | int, default: Any = None) -> Any:
    """The value at a path of keys and list indexes, or `default` when any step is missing."""
    cur = obj
    for p in path:
        if isinstance(p, int):
            cur = cur[p] if isinstance(cur, list) and len(cur) > p else None
        else:
            cur = cur.get(p) if isinstance(cur, dict) else None
        if cur is None:
            return default
    return cur


def selector_string(sel: Any) -> str:
    """A label selector as kubectl prints it (`app=web,tier in (a,b)`), `<none>` when empty."""
    if not sel:
        return "<none>"
    if "matchLabels" not in sel and "matchExpressions" not in sel:
        return ",".join(f"{k}={v}" for k, v in sorted(sel.items())) or "<none>"
    parts = [f"{k}={v}" for k, v in sorted((sel.get("matchLabels") or {}).items())]
    for e in sel.get("matchExpressions") or []:
        op, key, vals = e.get("operator"), e.get("key"), ",".join(sorted(e.get("values") or []))
        parts.append(
            {"In": f"{key} in ({vals})", "NotIn": f"{key} notin ({vals})", "Exists": key}.get(
                op, f"!{key}"
            )
        )
    return ",".join(sorted(parts)) or "<none>"


def _containers(obj: Obj) -> tuple[str, str]:
    cs = dig(obj, "spec", "template", "spec", "containers", default=[])
    return ",".join(c.get("name", "") for c in cs), ",".join(c.get("image", "") for c in cs)


def pod_state(o: Obj) -> tuple[Any, ...]:
    """What a Pod's row shows that is fixed for one version of the Pod (no times made relative)."""
    st = o.get("status") or {}
    spec = o.get("spec") or {}
    total = len(spec.get("containers") or [])
    reason = st.get("reason") or st.get("phase") or "Pending"
    ready = restarts = 0
    last_restart: datetime | None = None
    initializing = False
    for i, cs in enumerate(st.get("initContainerStatuses") or []):
        restarts += cs.get("restartCount", 0)
        term = dig(cs, "state", "terminated")
        if term and term.get("exitCode", 0) == 0:
            continue
        initializing = True
        waiting = dig(cs, "state", "waiting", "reason")
        if term:
            reason = "Init:" + (term.get("reason") or f"ExitCode:{term.get('exitCode')}")
        elif waiting and waiting != "PodInitializing":
            reason = "Init:" + waiting
        else:
            n = len(dig(o, "spec", "initContainers", default=[]))
            reason = f"Init:{i}/{n}"
        break
    if not initializing:
        has_running = False
        for cs in reversed(st.get("containerStatuses") or []):
            restarts += cs.get("restartCount", 0)
            last_term = (cs.get("lastState") or {}).get("terminated") or {}
            finished = parse_time(last_term.get("finishedAt"))
            if finished and (last_restart is None or finished > last_restart):
                last_restart = finished
            state = cs.get("state") or {}
            term = state.get("terminated")
            if (state.get("waiting") or {}).get("reason"):
                reason = state["waiting"]["reason"]
            elif term and term.get("reason"):
                reason = term["reason"]
            elif term:
                sig = term.get("signal")
                reason = f"Signal:{sig}" if sig else f"ExitCode:{term.get('exitCode', 0)}"
            elif cs.get("ready") and "running" in state:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            conds = {c.get("type"): c.get("status") for c in st.get("conditions") or []}
            reason = "Running" if conds.get("Ready") == "True" else "NotReady"
    md = o.get("metadata") or {}
    if md.get("deletionTimestamp") and st.get("phase") not in ("Succeeded", "Failed"):
        reason = "Terminating"
    ips = st.get("podIPs") or []
    ip = (ips[0].get("ip") if ips else None) or st.get("podIP") or "<none>"
    gates = spec.get("readinessGates") or []
    if gates:
        conds = {c.get("type"): c.get("status") for c in st.get("conditions") or []}
        gates_s = f"{sum(conds.get(g.get('conditionType')) == 'True' for g in gates)}/{len(gates)}"
    else:
        gates_s = "<none>"
    return (
        f"{ready}/{total}",
        reason,
        restarts,
        last_restart if restarts else None,
        parse_time(md.get("creationTimestamp")),
        ip,
        spec.get("nodeName") or "<none>",
        st.get("nominatedNodeName") or "<none>",
        gates_s,
    )


def pod_cells(state: tuple[Any, ...], now: datetime) -> Row:
    """A Pod's row cells from its `pod_state`, with ages as of `now`."""
    ready, reason, restarts, last_restart, created, ip, node, nominated, gates = state
    restarts_s = str(restarts)
    if last_restart is not None:
        restarts_s = f"{restarts} ({human_duration((now - last_restart).total_seconds())} ago)"
    age_s = "<unknown>" if created is None else human_duration((now - created).total_seconds())
    return [ready, reason, restarts_s, age_s, ip, node, nominated, gates]


def _pod(o: Obj, now: datetime) -> Row:
    return pod_cells(pod_state(o), now)


def _age(o: Obj, now: datetime) -> str:
    return age(dig(o, "metadata", "creationTimestamp"), now)


def _deployment(o: Obj, now: datetime) -> Row:
    st = o.get("status") or {}
    names, images = _containers(o)
    desired = dig(o, "spec", "replicas", default=1)
    return [
        f"{st.get('readyReplicas', 0)}/{desired}",
        st.get("updatedReplicas", 0),
        st.get("availableReplicas", 0),
        _age(o, now),
        names,
        images,
        selector_string(dig(o, "spec", "selector")),
    ]


def _replicaset(o: Obj, now: datetime) -> Row:
    st = o.get("status") or {}
    names, images = _containers(o)
    return [
        dig(o, "spec", "replicas", default=1),
        st.get("replicas", 0),
        st.get("readyReplicas", 0),
        _age(o, now),
        names,
        images,
        selector_string(dig(o, "spec", "selector")),
    ]


def _statefulset(o: Obj, now: datetime) -> Row:
    names, images = _containers(o)
    ready = dig(o, "status", "readyReplicas", default=0)
    return [f"{ready}/{dig(o, 'spec', 'replicas', default=1)}", _age(o, now), names, images]


def _daemonset(o: Obj, now: datetime) -> Row:
    st = o.get("status") or {}
    names, images = _containers(o)
    node_sel = dig(o, "spec", "template", "spec", "nodeSelector", default={})
    return [
        st.get("desiredNumberScheduled", 0),
        st.get("currentNumberScheduled", 0),
        st.get("numberReady", 0),
        st.get("updatedNumberScheduled", 0),
        st.get("numberAvailable", 0),
        selector_string(node_sel) if node_sel else "<none>",
        _age(o, now),
        names,
        images,
        selector_string(dig(o, "spec", "selector")),
    ]


def _service(o: Obj, now: datetime) -> Row:
    spec = o.get("spec") or {}
    stype = spec.get("type") or "ClusterIP"
    if stype == "LoadBalancer":
        ing = dig(o, "status", "loadBalancer", "ingress", default=[])
        ext = ",".join(i.get("ip") or i.get("hostname") or "" for i in ing) or "<pending>"
    elif stype == "ExternalName":
        ext = spec.get("externalName") or "<none>"
    else:
        ext = ",".join(spec.get("externalIPs") or []) or "<none>"
    ports = []
    for p in spec.get("ports") or []:
        proto = p.get("protocol") or "TCP"
        np = p.get("nodePort")
        ports.append(f"{p.get('port')}:{np}/{proto}" if np else f"{p.get('port')}/{proto}")
    return [
        stype,
        spec.get("clusterIP") or "<none>",
        ext,
        ",".join(ports) or "<none>",
        _age(o, now),
        selector_string(spec.get("selector")),
    ]


def _endpoints(o: Obj, now: datetime) -> Row:
    addrs = []
    for ss in o.get("subsets") or []:
        ports = ss.get("ports") or [{}]
        for p in ports:
            for a in ss.get("addresses") or []:
                port = p.get("port")
                addrs.append(f"{a.get('ip')}:{port}" if port else str(a.get("ip")))
    text = ",".join(addrs[:3]) or "<none>"
    if len(addrs) > 3:
        text += f" + {len(addrs) - 3} more..."
    return [text, _age(o, now)]


def _event(o: Obj, now: datetime) -> Row:
    last = o.get("lastTimestamp") or o.get("eventTime") or o.get("firstTimestamp")
    first = o.get("firstTimestamp") or o.get("eventTime")
    inv = o.get("involvedObject") or {}
    src = o.get("source") or {}
    source = ", ".join(x for x in (src.get("component"), src.get("host")) if x)
    return [
        age(last, now),
        o.get("type") or "",
        o.get("reason") or "",
        f"{str(inv.get('kind', '')).lower()}/{inv.get('name', '')}",
        inv.get("fieldPath") or "",
        source,
        (o.get("message") or "").strip(),
        age(first, now),
        o.get("count") or 1,
        dig(o, "metadata", "name"),
    ]


def _node(o: Obj, now: datetime) -> Row:
    conds = {c.get("type"): c.get("status") for c in dig(o, "status", "conditions", default=[])}
    status = {"True": "Ready", "False": "NotReady"}.get(conds.get("Ready") or "", "Unknown")
    if dig(o, "spec", "unschedulable"):
        status += ",SchedulingDisabled"
    labels = dig(o, "metadata", "labels", default={})
    roles = sorted(k.split("/", 1)[1] for k in labels if k.startswith("node-role.kubernetes.io/"))
    addrs = {a.get("type"): a.get("address") for a in dig(o, "status", "addresses", default=[])}
    info = dig(o, "status", "nodeInfo", default={})
    return [
        status,
        ",".join(r for r in roles if r) or "<none>",
        _age(o, now),
        info.get("kubeletVersion") or "",
        addrs.get("InternalIP") or "<none>",
        addrs.get("ExternalIP") or "<none>",
        info.get("osImage") or "<unknown>",
        info.get("kernelVersion") or "<unknown>",
        info.get("containerRuntimeVersion") or "<unknown>",
    ]


_ACCESS = {"ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX"}
_ACCESS["ReadWriteOncePod"] = "RWOP"


def _pvc(o: Obj, now: datetime) -> Row:
    st = o.get("status") or {}
    spec = o.get("spec") or {}
    bound = st.get("phase") == "Bound"
    modes = ",".join(_ACCESS.get(m, m) for m in st.get("accessModes") or []) if bound else ""
    return [
        st.get("phase") or "Pending",
        spec.get("volumeName") or "",
        dig(st, "capacity", "storage", default="") if bound else "",
        modes,
        spec.get("storageClassName") or "",
        spec.get("volumeAttributesClassName") or "<unset>",
        _age(o, now),
        spec.get("volumeMode") or "Filesystem",
    ]


def _hpa(o: Obj, now: datetime) -> Row:
    spec = o.get("spec") or {}
    ref = spec.get("scaleTargetRef") or {}
    targets = []
    current = {
        dig(m, "resource", "name"): m for m in dig(o, "status", "currentMetrics", default=[]) or []
    }
    for m in spec.get("metrics") or []:
        name = dig(m, "resource", "name")
        want = dig(m, "resource", "target", "averageUtilization")
        got = dig(current.get(name), "resource", "current", "averageUtilization")
        if name and want is not None:
            targets.append(f"{name}: {'<unknown>' if got is None else f'{got}%'}/{want}%")
    if not spec.get("metrics") and spec.get("targetCPUUtilizationPercentage") is not None:
        got = dig(o, "status", "currentCPUUtilizationPercentage")
        cur = "<unknown>" if got is None else f"{got}%"
        targets.append(f"cpu: {cur}/{spec['targetCPUUtilizationPercentage']}%")
    return [
        f"{ref.get('kind', '')}/{ref.get('name', '')}",
        ", ".join(targets) or "<none>",
        spec.get("minReplicas", 1),
        spec.get("maxReplicas", 0),
        dig(o, "status", "currentReplicas", default=0),
        _age(o, now),
    ]


def _quota(o: Obj, now: datetime) -> Row:
    hard = dig(o, "status", "hard", default=None) or dig(o, "spec", "hard", default={})
    used = dig(o, "status", "used", default={})
    req, lim = [], []
    for k in sorted(hard):
        text = f"{k}: {used.get(k, '0')}/{hard[k]}"
        (lim if k.startswith("limits.") else req).append(text)
    return [_age(o, now), ", ".join(req), ", ".join(lim)]


def _storageclass(o: Obj, now: datetime) -> Row:
    return [
        o.get("provisioner") or "",
        o.get("reclaimPolicy") or "Delete",
        o.get("volumeBindingMode") or "Immediate",
        str(bool(o.get("allowVolumeExpansion"))).lower(),
        _age(o, now),
    ]


def _simple_count(field: str) -> Callable[[Obj, datetime], Row]:
    def row(o: Obj, now: datetime) -> Row:
        return [len(o.get(field) or {}) + len(o.get("binaryData") or {}), _age(o, now)]

    return row


def _secret(o: Obj, now: datetime) -> Row:
    return [o.get("type") or "Opaque", len(o.get("data") or {}), _age(o, now)]


def _netpol(o: Obj, now: datetime) -> Row:
    return [selector_string(dig(o, "spec", "podSelector")), _age(o, now)]


def _namespace(o: Obj, now: datetime) -> Row:
    return [dig(o, "status", "phase", default="Active"), _age(o, now)]


def default_row(o: Obj, now: datetime) -> Row:
    return [_age(o, now)]


S, N = "string", "integer"
_WIDE_CONTAINERS: list[Column] = [("Containers", S, 1), ("Images", S, 1), ("Selector", S, 1)]
# Kinds whose row splits into what is fixed for one version of an object and what depends on
# the time: tables.RowCache keeps the first per resourceVersion, so big lists only redo ages.
STAGED: dict[str, tuple[Callable[[Obj], Any], Callable[[Any, datetime], Row]]] = {
    "Pod": (pod_state, pod_cells),
}

PRINTERS: dict[str, tuple[list[Column], Callable[[Obj, datetime], Row]]] = {
    "Pod": (
        [("Ready", S, 0), ("Status", S, 0), ("Restarts", S, 0), ("Age", S, 0), ("IP", S, 1)]
        + [("Node", S, 1), ("Nominated Node", S, 1), ("Readiness Gates", S, 1)],
        _pod,
    ),
    "Deployment": (
        [("Ready", S, 0), ("Up-to-date", N, 0), ("Available", N, 0), ("Age", S, 0)]
        + _WIDE_CONTAINERS,
        _deployment,
    ),
    "ReplicaSet": (
        [("Desired", N, 0), ("Current", N, 0), ("Ready", N, 0), ("Age", S, 0)] + _WIDE_CONTAINERS,
        _replicaset,
    ),
    "StatefulSet": (
        [("Ready", S, 0), ("Age", S, 0), ("Containers", S, 1), ("Images", S, 1)],
        _statefulset,
    ),
    "DaemonSet": (
        [("Desired", N, 0), ("Current", N, 0), ("Ready", N, 0), ("Up-to-date", N, 0)]
        + [("Available", N, 0), ("Node Selector", S, 0), ("Age", S, 0)]
        + _WIDE_CONTAINERS,
        _daemonset,
    ),
    "Service": (
        [("Type", S, 0), ("Cluster-IP", S, 0), ("External-IP", S, 0), ("Port(s)", S, 0)]
        + [("Age", S, 0), ("Selector", S, 1)],
        _service,
    ),
    "Endpoints": ([("Endpoints", S, 0), ("Age", S, 0)], _endpoints),
    "Event": (
        [("Last Seen", S, 0), ("Type", S, 0), ("Reason", S, 0), ("Object", S, 0)]
        + [("Subobject", S, 1), ("Source", S, 1), ("Message", S, 0), ("First Seen", S, 1)]
        + [("Count", N, 1), ("Name", S, 1)],
        _event,
    ),
    "Node": (
        [("Status", S, 0), ("Roles", S, 0), ("Age", S, 0), ("Version", S, 0)]
        + [("Internal-IP", S, 1), ("External-IP", S, 1), ("OS-Image", S, 1)]
        + [("Kernel-Version", S, 1), ("Container-Runtime", S, 1)],
        _node,
    ),
    "Namespace": ([("Status", S, 0), ("Age", S, 0)], _namespace),
    "ConfigMap": ([("Data", N, 0), ("Age", S, 0)], _simple_count("data")),
    "Secret": ([("Type", S, 0), ("Data", N, 0), ("Age", S, 0)], _secret),
    "NetworkPolicy": ([("Pod-Selector", S, 0), ("Age", S, 0)], _netpol),
    "PersistentVolumeClaim": (
        [("Status", S, 0), ("Volume", S, 0), ("Capacity", S, 0), ("Access Modes", S, 0)]
        + [("StorageClass", S, 0), ("VolumeAttributesClass", S, 0), ("Age", S, 0)]
        + [("VolumeMode", S, 1)],
        _pvc,
    ),
    "HorizontalPodAutoscaler": (
        [("Reference", S, 0), ("Targets", S, 0), ("MinPods", S, 0), ("MaxPods", N, 0)]
        + [("Replicas", N, 0), ("Age", S, 0)],
        _hpa,
    ),
    "ResourceQuota": ([("Age", S, 0), ("Request", S, 0), ("Limit", S, 0)], _quota),
    "StorageClass": (
        [("Provisioner", S, 0), ("ReclaimPolicy", S, 0), ("VolumeBindingMode", S, 0)]
        + [("AllowVolumeExpansion", S, 0), ("Age", S, 0)],
        _storageclass,
    ),
}
