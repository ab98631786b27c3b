"""Fault conditions: which Pods a `pod:` selector matches, and whether an `object:` condition holds.

Pure functions over plain Kubernetes dicts and the models in `sandbox.scenario_model`;
the world decides when to ask (see `sandbox.world`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from fnmatch import fnmatchcase
from typing import Any

from sandbox.quantity import QuantityError, parse_quantity
from sandbox.scenario_model import ObjectCondition, PodSelector
from sandbox.store import CLUSTER_SCOPED

Obj = dict[str, Any]
Finder = Callable[[str, str, str], Obj | None]

_REF_RE = re.compile(r"^([A-Z][A-Za-z0-9]*)/([a-z0-9.\-]+)(?:/([a-z0-9.\-:]+))?$")
_PATH_TOKEN = re.compile(r"""\.?([A-Za-z0-9_\-/$]+)|\[(\d+)\]|\[(?:'([^']*)'|"([^"]*)")\]""")


class RefError(ValueError):
    """A `Kind/namespace/name` reference that is malformed."""


def parse_ref(ref: str) -> tuple[str, str, str]:
    """`Deployment/shop/web` -> ("Deployment", "shop", "web"); `Node/a` -> ("Node", "", "a")."""
    m = _REF_RE.match(str(ref).strip())
    if m is None:
        raise RefError(
            f"{ref!r} is not a resource reference: write Kind/namespace/name "
            "(for example Deployment/shop/web), or Kind/name for cluster-scoped kinds"
        )
    kind, a, b = m.groups()
    if kind in CLUSTER_SCOPED:
        if b is not None:
            raise RefError(f"{kind} is cluster-scoped: write {kind}/{b} without a namespace")
        return kind, "", a
    if b is None:
        raise RefError(f"{kind} is namespaced: write {kind}/<namespace>/{a}")
    return kind, a, b


def parse_path(path: str) -> list[str | int]:
    """`spec.ports[0].targetPort` -> ["spec", "ports", 0, "targetPort"]. Raises ValueError."""
    out: list[str | int] = []
    pos = 0
    while pos < len(path):
        m = _PATH_TOKEN.match(path, pos)
        if m is None or m.end() == pos:
            raise ValueError(
                f"cannot read path {path!r} near {path[pos:]!r}: use dotted names, [0] for "
                "list items and ['a.b'] for keys that hold dots"
            )
        if m.group(1) is not None:
            out.append(m.group(1))
        elif m.group(2) is not None:
            out.append(int(m.group(2)))
        else:
            out.append(m.group(3) if m.group(3) is not None else m.group(4))
        pos = m.end()
    if not out:
        raise ValueError("path is empty")
    return out


def resolve_path(obj: Any, path: list[str | int]) -> tuple[bool, Any]:
    """(found, value) at a parsed path."""
    cur = obj
    for part in path:
        if isinstance(part, int):
            if not isinstance(cur, list) or part >= len(cur):
                return False, None
        elif not isinstance(cur, dict) or part not in cur:
            return False, None
        cur = cur[part]
    return True, cur


def _same(a: Any, b: Any) -> bool:
    if a == b:
        return True
    scalars = (str, int, float, bool)
    return isinstance(a, scalars) and isinstance(b, scalars) and str(a) == str(b)


def condition_holds(cond: ObjectCondition, find: Finder) -> bool:
    """Whether an `object:` condition holds against the objects `find` returns."""
    kind, ns, name = parse_ref(cond.ref)
    obj = find(kind, ns, name)
    if cond.path is None:
        if "exists" in cond.given:
            return (obj is not None) == bool(cond.exists)
        return obj is not None
    found, value = (False, None) if obj is None else resolve_path(obj, parse_path(cond.path))
    for op in cond.given or ["exists"]:
        if op == "exists":
            want = True if cond.exists is None else cond.exists
            if found != want:
                return False
        elif op == "equals":
            if not found or not _same(value, cond.equals):
                return False
        elif op == "not_equals":
            if obj is None or (found and _same(value, cond.not_equals)):
                return False
        elif op == "contains" and (
            not found or not isinstance(value, str) or (cond.contains or "") not in value
        ):
            return False
    return True


def _env_names(container: Obj) -> set[str]:
    return {e.get("name") for e in container.get("env") or [] if isinstance(e, dict)}


def _limit(container: Obj, resource: str) -> float | None:
    raw = ((container.get("resources") or {}).get("limits") or {}).get(resource)
    if raw is None:
        return None
    try:
        return parse_quantity(raw)
    except QuantityError:
        return None


def _probe_path(container: Obj, probe: str) -> str | None:
    return (((container.get(probe) or {}).get("httpGet")) or {}).get("path")


def container_matches(sel: PodSelector, c: Obj) -> bool:
    """Whether one container satisfies the selector's container-level keys."""
    if sel.image is not None and not fnmatchcase(str(c.get("image", "")), sel.image):
        return False
    if sel.env_missing and _env_names(c) & set(sel.env_missing):
        return False
    if sel.env_equals:
        env = {e.get("name"): e.get("value") for e in c.get("env") or [] if isinstance(e, dict)}
        for k, v in sel.env_equals.items():
            if k not in env or not _same(env[k], v):
                return False
    if sel.memory_limit_below is not None:
        lim = _limit(c, "memory")
        if lim is None or lim >= sel.memory_limit_below:
            return False
    if sel.cpu_limit_below is not None:
        lim = _limit(c, "cpu")
        if lim is None or lim >= sel.cpu_limit_below:
            return False
    if sel.command is not None and list(c.get("command") or []) != sel.command:
        return False
    if sel.readiness_path is not None and _probe_path(c, "readinessProbe") != sel.readiness_path:
        return False
    return sel.liveness_path is None or _probe_path(c, "livenessProbe") == sel.liveness_path


CONTAINER_KEYS = (
    "image",
    "env_missing",
    "env_equals",
    "memory_limit_below",
    "cpu_limit_below",
    "command",
    "readiness_path",
    "liveness_path",
)


def pod_matches(sel: PodSelector, namespace: str, labels: dict[str, Any], spec: Obj) -> bool:
    """Whether a Pod (or a Pod template in `namespace`) matches a `pod:` selector."""
    if sel.namespace is not None and sel.namespace != namespace:
        return False
    for k, v in sel.labels.items():
        if k not in labels or str(labels[k]) != str(v):
            return False
    if sel.node_selector:
        ns_sel = spec.get("nodeSelector") or {}
        for k, v in sel.node_selector.items():
            if str(ns_sel.get(k)) != str(v):
                return False
    containers = [c for c in spec.get("containers") or [] if isinstance(c, dict)]
    if sel.container is not None:
        containers = [c for c in containers if c.get("name") == sel.container]
        if not containers:
            return False
    if not any(getattr(sel, k) not in (None, [], {}) for k in CONTAINER_KEYS):
        return True
    return any(container_matches(sel, c) for c in containers)


def pod_templates(objects: list[Obj]) -> list[tuple[str, dict[str, Any], Obj]]:
    """(namespace, labels, spec) of every Pod and Pod template among `objects`, history included."""
    out = []
    for obj in objects:
        kind = obj.get("kind")
        md = obj.get("metadata") or {}
        ns = md.get("namespace") or "default"
        tmpl: Any = None
        if kind == "Pod":
            out.append((ns, md.get("labels") or {}, obj.get("spec") or {}))
            continue
        if kind in ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job"):
            tmpl = (obj.get("spec") or {}).get("template")
        elif kind == "CronJob":
            tmpl = (
                ((obj.get("spec") or {}).get("jobTemplate") or {}).get("spec", {}).get("template")
            )
        if isinstance(tmpl, dict):
            tmd = tmpl.get("metadata") or {}
            out.append((ns, tmd.get("labels") or {}, tmpl.get("spec") or {}))
    return out
