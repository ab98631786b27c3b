"""Shared pieces of the controllers: the per-sync context, object helpers and the Event recorder."""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass, field
from typing import Any

from sandbox.store import NotFound, ObjectStore
from sandbox.timeshift import fmt_ts

Obj = dict[str, Any]
# kube's rand.SafeEncodeString alphabet: no vowels, no confusable characters.
ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789"


def jcopy(value: Any) -> Any:
    """A deep copy of JSON-shaped data, much faster than copy.deepcopy."""
    if isinstance(value, dict):
        return {k: jcopy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jcopy(v) for v in value]
    return value


def stable_hash(*parts: str) -> int:
    """A 64-bit hash that is the same in every process (unlike hash())."""
    digest = hashlib.blake2b("\x00".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def safe_encode(n: int, length: int | None = None) -> str:
    """Kubernetes-style name suffix from a number (pod-template-hash, pod name suffix)."""
    if length is None:
        return "".join(ALPHANUMS[int(d) * 7 % len(ALPHANUMS)] for d in str(n % 2**32))
    out = []
    for _ in range(length):
        n, r = divmod(n, len(ALPHANUMS))
        out.append(ALPHANUMS[r])
    return "".join(out)


def owner(obj: Obj, kind: str) -> str | None:
    """The name of the controlling owner of `kind`, if any."""
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("kind") == kind:
            return ref.get("name")
    return None


def owner_ref(obj: Obj, api_version: str) -> Obj:
    """An ownerReference (controller) pointing at `obj`."""
    md = obj["metadata"]
    return {
        "apiVersion": api_version,
        "kind": obj["kind"],
        "name": md["name"],
        "uid": md.get("uid", ""),
        "controller": True,
        "blockOwnerDeletion": True,
    }


def pod_ready(pod: Obj) -> bool:
    """Whether a Pod's Ready condition is True."""
    for c in (pod.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return c.get("status") == "True"
    return False


def labels_of(obj: Obj) -> dict[str, str]:
    """metadata.labels, or an empty mapping."""
    return (obj.get("metadata") or {}).get("labels") or {}


def set_condition(conds: list[Obj], cond: Obj, now: str, probe_time: bool = False) -> list[Obj]:
    """Conditions with `cond` replacing its type, keeping lastTransitionTime when status is unchanged."""
    out = []
    placed = False
    for c in conds:
        if c.get("type") != cond["type"]:
            out.append(c)
            continue
        placed = True
        new = dict(cond)
        same = c.get("status") == cond["status"]
        new["lastTransitionTime"] = c.get("lastTransitionTime", now) if same else now
        if probe_time:
            unchanged = same and c.get("reason") == cond.get("reason")
            new["lastUpdateTime"] = c.get("lastUpdateTime", now) if unchanged else now
        out.append(new)
    if not placed:
        new = dict(cond)
        new["lastTransitionTime"] = now
        if probe_time:
            new["lastUpdateTime"] = now
        out.append(new)
    return out


_ROLLOUT_REASONS = frozenset({"ScalingReplicaSet", "SuccessfulCreate", "SuccessfulDelete"})


@dataclass
class _EventSlot:
    obj: Obj
    attempts: int = 0


@dataclass
class EventRecorder:
    """Keeps one Event per (object, reason, message key) and updates count and times in place."""

    store: ObjectStore
    _slots: dict[tuple, _EventSlot] = field(default_factory=dict)
    # Set while deriving the state the file starts in: a rollout from before the start would
    # have left Events that aged out long ago, and fresh ones would suggest a rollout now.
    quiet: bool = False

    def record(
        self,
        involved: Obj,
        reason: str,
        message: str,
        *,
        type: str = "Normal",
        now: float,
        count: int | None = None,
        first: float | None = None,
        last: float | None = None,
        component: str = "kubelet",
        host: str | None = None,
        field_path: str | None = None,
        key: str | None = None,
    ) -> None:
        """Create or update an Event. `count`/`first`/`last` set them; else count += 1 at `now`."""
        if self.quiet and reason in _ROLLOUT_REASONS:
            return
        md = involved["metadata"]
        ns = md.get("namespace") or "default"
        slot_key = (involved["kind"], ns, md["name"], md.get("uid"), reason, key or message)
        slot = self._slots.get(slot_key)
        if slot is not None and self.store.find("Event", ns, slot.obj["metadata"]["name"]) is None:
            slot = None  # someone deleted it
        if slot is None:
            name = f"{md['name']}.{stable_hash(*map(str, slot_key)):016x}"
            ev: Obj = {
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": {"name": name, "namespace": ns},
                "involvedObject": {
                    "apiVersion": involved.get("apiVersion", "v1"),
                    "kind": involved["kind"],
                    "name": md["name"],
                    "namespace": ns,
                    "uid": md.get("uid", ""),
                },
                "reason": reason,
                "message": message,
                "source": {"component": component},
                "type": type,
                "count": 0,
                "reportingComponent": component,
                "reportingInstance": host or "",
            }
            if field_path:
                ev["involvedObject"]["fieldPath"] = field_path
            if host:
                ev["source"]["host"] = host
            first_ts = first if first is not None else now
            ev["firstTimestamp"] = fmt_ts(first_ts)
            ev["lastTimestamp"] = fmt_ts(first_ts)
            ev["metadata"]["creationTimestamp"] = fmt_ts(first_ts)
            self.store.create(ev)
            slot = _EventSlot(ev)
            self._slots[slot_key] = slot
        ev = slot.obj
        new_count = count if count is not None else ev["count"] + 1
        new_last = fmt_ts(last if last is not None else now)
        if ev["count"] != new_count or ev["lastTimestamp"] != new_last or ev["message"] != message:
            ev["count"] = new_count
            ev["lastTimestamp"] = new_last
            ev["message"] = message
            self.store.touch(ev)

    def forget(self, involved: Obj) -> None:
        """Drop the slots of a deleted object (its Events stay, as in a cluster, until they age out)."""
        uid = (involved.get("metadata") or {}).get("uid")
        for k in [k for k in self._slots if k[3] == uid]:
            del self._slots[k]


def delete_quietly(store: ObjectStore, kind: str, ns: str, name: str) -> None:
    """Delete an object if it is still there."""
    with contextlib.suppress(NotFound):
        store.delete(kind, ns, name)
