"""Faults at run time: which Pods each fault affects now, and when each fault was present."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sandbox.faults import CONTAINER_KEYS, condition_holds, container_matches, pod_matches
from sandbox.scenario_model import Fault, PodSelector
from sandbox.store import ObjectStore

Obj = dict[str, Any]


@dataclass(frozen=True)
class PodEffect:
    """One fault acting on one Pod, and which of its containers it acts on."""

    index: int
    fault: Fault
    containers: frozenset[str]


def affected_containers(sel: PodSelector, spec: Obj) -> frozenset[str]:
    """The containers a selector's symptoms land on: the named one, the matching ones, else the first."""
    containers = [c for c in spec.get("containers") or [] if isinstance(c, dict)]
    if sel.container is not None:
        return frozenset({sel.container})
    if any(getattr(sel, k) not in (None, [], {}) for k in CONTAINER_KEYS):
        names = {c.get("name") for c in containers if container_matches(sel, c)}
        if names:
            return frozenset(names)
    return frozenset({containers[0].get("name")}) if containers else frozenset()


class FaultTracker:
    """Evaluates faults against the store once per sync and remembers when each was present."""

    def __init__(self, faults: list[Fault]) -> None:
        self.faults = faults
        self._holds: list[bool] = [False] * len(faults)
        # uid -> (labels, effects of pod-selector faults, effects of object faults' `affects`)
        self._cache: dict[str, tuple[dict, list[PodEffect], list[PodEffect]]] = {}
        self.intervals: dict[str, list[list[float]]] = {f.name: [] for f in faults}
        self._present: dict[str, bool] = {f.name: False for f in faults}
        self._first = True

    def begin(self, store: ObjectStore) -> None:
        """Evaluate the `object:` conditions against the store as it is now."""
        for i, f in enumerate(self.faults):
            if f.object is not None:
                self._holds[i] = condition_holds(f.object, store.find)

    def _effects(self, pod: Obj) -> tuple[list[PodEffect], list[PodEffect]]:
        md = pod["metadata"]
        uid = md.get("uid", md["name"])
        labels = md.get("labels") or {}
        hit = self._cache.get(uid)
        if hit is not None and hit[0] == labels:
            return hit[1], hit[2]
        ns = md.get("namespace") or "default"
        spec = pod.get("spec") or {}
        by_pod, by_object = [], []
        for i, f in enumerate(self.faults):
            sel = f.pod if f.pod is not None else f.affects
            if sel is None or not pod_matches(sel, ns, labels, spec):
                continue
            effect = PodEffect(i, f, affected_containers(sel, spec))
            (by_pod if f.pod is not None else by_object).append(effect)
        self._cache[uid] = (dict(labels), by_pod, by_object)
        return by_pod, by_object

    def effects(self, pod: Obj) -> list[PodEffect]:
        """The faults acting on this Pod now, in file order."""
        by_pod, by_object = self._effects(pod)
        if not by_object:
            return by_pod
        live = [e for e in by_object if self._holds[e.index]]
        return sorted(by_pod + live, key=lambda e: e.index)

    def end(self, pods: Iterable[Obj], now: float) -> None:
        """Record which faults are present after this sync (a `pod:` fault: some Pod matches)."""
        present = [
            self._holds[i] if f.object is not None else False for i, f in enumerate(self.faults)
        ]
        if any(f.pod is not None for f in self.faults):
            for pod in pods:
                for e in self._effects(pod)[0]:
                    present[e.index] = True
        for f, now_present in zip(self.faults, present, strict=True):
            spans = self.intervals[f.name]
            if now_present and not self._present[f.name]:
                # Before the sandbox started, presence at the start applies.
                spans.append([-math.inf if self._first else now, math.inf])
            elif not now_present and self._present[f.name]:
                spans[-1][1] = now
            self._present[f.name] = now_present
        self._first = False

    def present(self) -> dict[str, bool]:
        """Each fault's presence as of the last sync."""
        return dict(self._present)

    def present_at(self, name: str, ts: float) -> bool:
        """Whether a fault was present at `ts` (before the start: as at the start)."""
        return any(start <= ts < end for start, end in self.intervals.get(name, ()))

    def forget(self, uid: str) -> None:
        """Drop a deleted Pod from the cache."""
        self._cache.pop(uid, None)
