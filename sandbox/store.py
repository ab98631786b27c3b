"""The sandbox's object store: Kubernetes objects as plain JSON-shaped dicts.

The store is passive. It keeps objects, hands out resourceVersions and uids,
answers selectors and tells watchers what changed. The controllers in
`sandbox/controllers.py` derive what a cluster would (ReplicaSets, Pods,
Endpoints, status, Events) by reading and writing through it; the HTTP layer in
`sandbox/kubeapi/` serves it.
"""

from __future__ import annotations

import copy
import itertools
import queue
import threading
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sandbox.selectors import FieldSelector, LabelSelector

Obj = dict[str, Any]
Key = tuple[str, str, str]  # (kind, namespace or "", name)

# Kinds that live outside namespaces.
CLUSTER_SCOPED = frozenset(
    {"Namespace", "Node", "StorageClass", "PersistentVolume", "ClusterRole", "ClusterRoleBinding"}
)

# Kinds whose registry keeps metadata.generation (bumped on spec changes), as kube-apiserver
# 1.32 does; Pods, ConfigMaps, Services and the rest carry none.
GENERATION_KINDS = frozenset(
    {
        "Deployment",
        "ReplicaSet",
        "StatefulSet",
        "DaemonSet",
        "Job",
        "CronJob",
        "NetworkPolicy",
        "PodDisruptionBudget",
        "Ingress",
    }
)


class StoreError(Exception):
    """Base for store errors; the HTTP layer turns each into a Kubernetes Status."""

    code = 500
    reason = "InternalError"


class NotFound(StoreError):
    """The object does not exist."""

    code = 404
    reason = "NotFound"


class AlreadyExists(StoreError):
    """An object with that name already exists."""

    code = 409
    reason = "AlreadyExists"


class Conflict(StoreError):
    """The write named a resourceVersion that is no longer current."""

    code = 409
    reason = "Conflict"


class Invalid(StoreError):
    """The object is not acceptable."""

    code = 422
    reason = "Invalid"


def key_of(obj: Obj) -> Key:
    """The store key of an object."""
    md = obj.get("metadata") or {}
    kind = obj["kind"]
    ns = "" if kind in CLUSTER_SCOPED else (md.get("namespace") or "default")
    return (kind, ns, md["name"])


def ref_of(obj: Obj) -> str:
    """`Kind/namespace/name` (or `Kind/name` when cluster-scoped)."""
    kind, ns, name = key_of(obj)
    return f"{kind}/{ns}/{name}" if ns else f"{kind}/{name}"


@dataclass
class WatchEvent:
    """One change, as a Kubernetes watch stream reports it."""

    type: str  # ADDED | MODIFIED | DELETED
    object: Obj


@dataclass
class _Watcher:
    kind: str
    namespace: str | None
    events: queue.Queue[WatchEvent] = field(default_factory=queue.Queue)


class ObjectStore:
    """Thread-safe store of Kubernetes objects with resourceVersions and watches."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._objects: dict[Key, Obj] = {}
        self._by_kind: dict[str, dict[Key, Obj]] = {}
        self._rv = itertools.count(1000)
        self._last_rv = 999
        self._watchers: list[_Watcher] = []

    # -- reading ---------------------------------------------------------------------

    @property
    def resource_version(self) -> str:
        """The store's current resourceVersion (of the latest write)."""
        return str(self._last_rv)

    def get(self, kind: str, namespace: str | None, name: str) -> Obj:
        """The stored object itself (not a copy: callers must not mutate it). Raises NotFound."""
        ns = "" if kind in CLUSTER_SCOPED else (namespace or "default")
        try:
            return self._objects[(kind, ns, name)]
        except KeyError:
            raise NotFound(_not_found_message(kind, name)) from None

    def find(self, kind: str, namespace: str | None, name: str) -> Obj | None:
        """Like get, but None when absent."""
        ns = "" if kind in CLUSTER_SCOPED else (namespace or "default")
        return self._objects.get((kind, ns, name))

    def list(
        self,
        kind: str,
        namespace: str | None = None,
        labels: LabelSelector | None = None,
        fields: FieldSelector | None = None,
    ) -> list[Obj]:
        """Objects of a kind, optionally in one namespace and matching selectors, sorted by key."""
        items = self._by_kind.get(kind, {})
        out = []
        for key in sorted(items):
            if namespace and key[1] != namespace:
                continue
            obj = items[key]
            if labels is not None and not labels.matches(
                (obj.get("metadata") or {}).get("labels") or {}
            ):
                continue
            if fields is not None and not fields.matches(obj):
                continue
            out.append(obj)
        return out

    def kinds(self) -> Iterable[str]:
        """Every kind the store holds at least one object of."""
        return [k for k, v in self._by_kind.items() if v]

    def __iter__(self) -> Iterator[Obj]:
        return iter(list(self._objects.values()))

    def __len__(self) -> int:
        return len(self._objects)

    # -- writing ---------------------------------------------------------------------

    def create(self, obj: Obj, *, now: str | None = None) -> Obj:
        """Store a new object; fills uid, resourceVersion, creationTimestamp, namespace."""
        with self.lock:
            key = key_of(obj)
            if key in self._objects:
                raise AlreadyExists(f'{_plural_hint(key[0])} "{key[2]}" already exists')
            md = obj.setdefault("metadata", {})
            if key[1]:
                md["namespace"] = key[1]
            md.setdefault("uid", str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(key))))
            if now is not None:
                md.setdefault("creationTimestamp", now)
            md["resourceVersion"] = self._next_rv()
            if key[0] in GENERATION_KINDS:
                md.setdefault("generation", 1)
            self._objects[key] = obj
            self._by_kind.setdefault(key[0], {})[key] = obj
            self._notify(WatchEvent("ADDED", obj))
            return obj

    def replace(
        self, obj: Obj, *, expect_rv: str | None = None, bump_generation: bool = False
    ) -> Obj:
        """Replace a stored object with `obj` (same key). Raises NotFound / Conflict."""
        with self.lock:
            key = key_of(obj)
            old = self._objects.get(key)
            if old is None:
                raise NotFound(_not_found_message(key[0], key[2]))
            if expect_rv and expect_rv != old["metadata"].get("resourceVersion"):
                raise Conflict(
                    f'Operation cannot be fulfilled on {_plural_hint(key[0])} "{key[2]}": '
                    "the object has been modified; please apply your changes to the latest "
                    "version and try again"
                )
            md = obj.setdefault("metadata", {})
            md["uid"] = old["metadata"].get("uid")
            md.setdefault("creationTimestamp", old["metadata"].get("creationTimestamp"))
            if key[0] in GENERATION_KINDS:
                gen = old["metadata"].get("generation", 1)
                md["generation"] = gen + 1 if bump_generation else gen
            md["resourceVersion"] = self._next_rv()
            if key[1]:
                md["namespace"] = key[1]
            self._objects[key] = obj
            self._by_kind[key[0]][key] = obj
            self._notify(WatchEvent("MODIFIED", obj))
            return obj

    def touch(self, obj: Obj) -> None:
        """Record an in-place change to a stored object (new resourceVersion, watchers told)."""
        with self.lock:
            obj["metadata"]["resourceVersion"] = self._next_rv()
            self._notify(WatchEvent("MODIFIED", obj))

    def delete(self, kind: str, namespace: str | None, name: str) -> Obj:
        """Remove and return an object. Raises NotFound."""
        with self.lock:
            ns = "" if kind in CLUSTER_SCOPED else (namespace or "default")
            key = (kind, ns, name)
            obj = self._objects.pop(key, None)
            if obj is None:
                raise NotFound(_not_found_message(kind, name))
            del self._by_kind[kind][key]
            obj["metadata"]["resourceVersion"] = self._next_rv()
            self._notify(WatchEvent("DELETED", obj))
            return obj

    # -- watching --------------------------------------------------------------------

    def watch(self, kind: str, namespace: str | None = None) -> _Watcher:
        """Start receiving changes of one kind; call `unwatch` when done."""
        with self.lock:
            w = _Watcher(kind, namespace)
            self._watchers.append(w)
            return w

    def unwatch(self, watcher: _Watcher) -> None:
        """Stop a watch started with `watch`."""
        with self.lock:
            if watcher in self._watchers:
                self._watchers.remove(watcher)

    def _notify(self, ev: WatchEvent) -> None:
        if not self._watchers:
            return
        key = key_of(ev.object)
        snapshot = None
        for w in self._watchers:
            if w.kind == key[0] and (not w.namespace or w.namespace == key[1]):
                snapshot = snapshot or copy.deepcopy(ev.object)
                w.events.put(WatchEvent(ev.type, snapshot))

    def _next_rv(self) -> str:
        self._last_rv = next(self._rv)
        return str(self._last_rv)


def _plural_hint(kind: str) -> str:
    return kind.lower() + ("es" if kind.endswith("s") else "s")


def _not_found_message(kind: str, name: str) -> str:
    return f'{_plural_hint(kind)} "{name}" not found'
