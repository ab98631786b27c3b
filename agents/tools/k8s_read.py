"""Reading the Kubernetes API for the tools: listing (bounded, system namespaces skipped), reading
one object, resolving config references. Secrets are reduced to metadata and key names here, the
moment they are read, so no caller can ever see a Secret value."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from kubernetes.client.rest import ApiException

from agents.analyzers.objects import meta, pod_ready
from agents.tools.base import ToolError
from agents.tools.cluster import Cluster, ClusterUnreachable

SKIP_NAMESPACES = {"kube-system", "kube-public", "kube-node-lease"}


def namespaced(
    cluster: Cluster, ns: str | None, ns_method: Callable, all_method: Callable, **kw: Any
) -> list[dict]:
    """List objects in one namespace or across the cluster (skipping system namespaces)."""
    try:
        if ns:
            items = (cluster.call_json(ns_method, ns, **kw) or {}).get("items") or []
        else:
            items = (cluster.call_json(all_method, **kw) or {}).get("items") or []
    except ApiException as exc:
        raise ToolError(_api_error(exc, ns)) from exc
    except ClusterUnreachable as exc:
        raise ToolError(str(exc)) from exc
    out = list(items)
    if not ns:
        out = [o for o in out if meta(o).get("namespace") not in SKIP_NAMESPACES]
    return out


def _api_error(exc: ApiException, ns: str | None = None, what: str = "") -> str:
    if exc.status == 404:
        return (
            f"{what or 'resource'} not found"
            + (f" in namespace {ns}" if ns else "")
            + "; list the kind first to see what exists"
        )
    if exc.status == 403:
        return f"forbidden ({exc.reason}); the bot's service account lacks read access here"
    return f"Kubernetes API error {exc.status}: {exc.reason}"


def list_pods(cluster: Cluster, ns: str | None, selector: str | None = None) -> list[dict]:
    """Pods as API dicts."""
    kw = {"label_selector": selector} if selector else {}
    core = cluster.core()
    return namespaced(cluster, ns, core.list_namespaced_pod, core.list_pod_for_all_namespaces, **kw)


def list_events(cluster: Cluster, ns: str | None) -> list[dict]:
    """Events as API dicts, oldest first."""
    core = cluster.core()
    evs = namespaced(cluster, ns, core.list_namespaced_event, core.list_event_for_all_namespaces)
    return sorted(evs, key=_event_time)


def _event_time(e: dict) -> str:
    return str(
        e.get("lastTimestamp")
        or e.get("eventTime")
        or e.get("firstTimestamp")
        or meta(e).get("creationTimestamp")
        or ""
    )


def pod_line(p: dict) -> str:
    """One line per Pod: name, phase/reason, ready, restarts, node."""
    st = p.get("status") or {}
    reason = st.get("phase", "?")
    restarts = 0
    for cs in st.get("containerStatuses") or []:
        restarts += cs.get("restartCount") or 0
        w = (cs.get("state") or {}).get("waiting") or {}
        if w.get("reason"):
            reason = w["reason"]
        last = (cs.get("lastState") or {}).get("terminated") or {}
        if last.get("reason"):
            reason += f" (last: {last['reason']}, exit {last.get('exitCode')})"
    m = meta(p)
    return f"{m.get('namespace')}/{m.get('name')}  {reason}  ready={pod_ready(p)}  restarts={restarts}  node={(p.get('spec') or {}).get('nodeName')}"


def event_line(e: dict) -> str:
    """One line per Event."""
    inv = e.get("involvedObject") or {}
    count = e.get("count") or 1
    return f"{_event_time(e)} {e.get('type')} {e.get('reason')} {inv.get('kind')}/{inv.get('name')} x{count}: {e.get('message')}"


_READERS: dict[str, tuple[str, str, bool]] = {
    # kind: (api factory, method suffix, namespaced)
    "Pod": ("core", "pod", True),
    "Service": ("core", "service", True),
    "Endpoints": ("core", "endpoints", True),
    "ConfigMap": ("core", "config_map", True),
    "Secret": ("core", "secret", True),
    "ResourceQuota": ("core", "resource_quota", True),
    "PersistentVolumeClaim": ("core", "persistent_volume_claim", True),
    "Node": ("core", "node", False),
    "Namespace": ("core", "namespace", False),
    "Deployment": ("apps", "deployment", True),
    "ReplicaSet": ("apps", "replica_set", True),
    "StatefulSet": ("apps", "stateful_set", True),
    "DaemonSet": ("apps", "daemon_set", True),
    "NetworkPolicy": ("networking", "network_policy", True),
}


def read_object(cluster: Cluster, kind: str, name: str, ns: str | None) -> dict:
    """One object as an API dict; Secrets reduced to metadata and key names."""
    spec = _READERS.get(kind)
    if spec is None:
        raise ToolError(f"unsupported kind {kind!r}; use one of {', '.join(_READERS)}")
    api = getattr(cluster, spec[0])()
    try:
        if spec[2]:
            if not ns:
                raise ToolError(f"{kind} is namespaced: pass namespace=")
            obj = cluster.call_json(getattr(api, f"read_namespaced_{spec[1]}"), name, ns)
        else:
            obj = cluster.call_json(getattr(api, f"read_{spec[1]}"), name)
    except ApiException as exc:
        raise ToolError(_api_error(exc, ns, f"{kind} {name}")) from exc
    except ClusterUnreachable as exc:
        raise ToolError(str(exc)) from exc
    d = dict(obj or {})
    if kind == "Secret":
        d = secret_metadata(d)
    return d


def secret_metadata(secret: dict) -> dict:
    """A Secret without its values: metadata, type and the names of its keys."""
    keys = sorted(
        set((secret.get("data") or {}).keys()) | set((secret.get("stringData") or {}).keys())
    )
    m = dict(meta(secret))
    ann = dict(m.get("annotations") or {})
    ann.pop("kubectl.kubernetes.io/last-applied-configuration", None)  # it would hold the values
    m["annotations"] = ann
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": m,
        "type": secret.get("type"),
        "keys": keys,
    }


class Unknown(Exception):
    """The bot may not read this object (RBAC): whether it exists is not known."""


def exists(cluster: Cluster, kind: str, name: str, ns: str | None) -> dict | None:
    """The object (Secrets as metadata), None when it does not exist; Unknown when forbidden.

    The least-privilege investigation role cannot read Secrets at all; the kubelet's
    events (CreateContainerConfigError) still say when one is missing.
    """
    try:
        return read_object(cluster, kind, name, ns)
    except ToolError as exc:
        if "not found" in str(exc):
            return None
        if str(exc).startswith("forbidden"):
            raise Unknown(str(exc)) from exc
        raise


def config_refs(cluster: Cluster, workload: dict, ns: str) -> list[dict]:
    """Every ConfigMap/Secret (and key) a workload's pod template references, resolved."""
    spec = ((workload.get("spec") or {}).get("template") or {}).get("spec") or {}
    refs: list[dict] = []
    for c in (spec.get("initContainers") or []) + (spec.get("containers") or []):
        for e in c.get("env") or []:
            vf = e.get("valueFrom") or {}
            for kind, key in (("Secret", "secretKeyRef"), ("ConfigMap", "configMapKeyRef")):
                if key in vf:
                    r = vf[key]
                    refs.append(
                        {
                            "kind": kind,
                            "name": r.get("name"),
                            "key": r.get("key"),
                            "container": c.get("name"),
                            "via": "env",
                            "env": e.get("name"),
                            "optional": bool(r.get("optional")),
                        }
                    )
        for ef in c.get("envFrom") or []:
            for kind, key in (("Secret", "secretRef"), ("ConfigMap", "configMapRef")):
                if key in ef:
                    refs.append(
                        {
                            "kind": kind,
                            "name": ef[key].get("name"),
                            "key": None,
                            "container": c.get("name"),
                            "via": "envFrom",
                            "optional": bool(ef[key].get("optional")),
                        }
                    )
    for v in spec.get("volumes") or []:
        if "secret" in v:
            refs.append(
                {
                    "kind": "Secret",
                    "name": v["secret"].get("secretName"),
                    "key": None,
                    "container": None,
                    "via": f"volume {v.get('name')}",
                    "optional": bool(v["secret"].get("optional")),
                }
            )
        if "configMap" in v:
            refs.append(
                {
                    "kind": "ConfigMap",
                    "name": v["configMap"].get("name"),
                    "key": None,
                    "container": None,
                    "via": f"volume {v.get('name')}",
                    "optional": bool(v["configMap"].get("optional")),
                }
            )
    cache: dict[tuple[str, str], dict | None | Unknown] = {}
    for r in refs:
        k = (r["kind"], r["name"])
        if k not in cache:
            try:
                cache[k] = exists(cluster, r["kind"], r["name"], ns)
            except Unknown as e:
                cache[k] = e
        obj = cache[k]
        if isinstance(obj, Unknown):
            r["exists"], r["unknown"] = None, str(obj)
            continue
        r["exists"] = obj is not None
        if obj is not None and r.get("key"):
            keys = (
                obj.get("keys")
                if r["kind"] == "Secret"
                else sorted(((obj.get("data") or {}) | (obj.get("binaryData") or {})).keys())
            )
            r["key_exists"] = r["key"] in (keys or [])
        if obj is not None and r["kind"] == "ConfigMap":
            r["drift"], r["edited_at"] = config_drift(obj)
    return refs


def config_drift(configmap: dict) -> tuple[dict[str, str | None], str | None]:
    """Keys whose data differs from the ConfigMap's last `kubectl apply` (someone edited it in
    place since), with the applied values to restore, and when it was last written."""
    raw = (meta(configmap).get("annotations") or {}).get(
        "kubectl.kubernetes.io/last-applied-configuration"
    )
    try:
        applied = (json.loads(raw) or {}).get("data") or {} if raw else None
    except ValueError:
        applied = None
    if applied is None:
        return {}, None
    data = configmap.get("data") or {}
    drift = {
        k: applied.get(k)
        for k in sorted(data.keys() | applied.keys())
        if data.get(k) != applied.get(k)
    }
    times = [mf.get("time") for mf in meta(configmap).get("managedFields") or [] if mf.get("time")]
    return drift, max(times) if times else None
