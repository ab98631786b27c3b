"""Watches: `?watch=true` streams JSON watch events, one per line, until timeoutSeconds."""

from __future__ import annotations

import copy
import json
import queue
import time
from collections.abc import Callable, Iterator
from typing import Any

from sandbox.kubeapi import tables
from sandbox.kubeapi.http import Request, Response
from sandbox.kubeapi.objects import ObjectApi
from sandbox.kubeapi.resources import Resource
from sandbox.selectors import FieldSelector, LabelSelector

Obj = dict[str, Any]
# How often an idle watch lets the World's clock-driven controllers run, so a Pod that
# becomes Ready with time is reported without anyone else calling the API.
_TICK = 0.1


class WatchApi:
    """Streams store changes to kubectl (`rollout status`, `get -w`, `delete --wait`)."""

    def __init__(self, world: Any, objects: ObjectApi, should_stop: Callable[[], bool] | None):
        self.world = world
        self.objects = objects
        self.should_stop = should_stop or (lambda: False)

    def watch(self, req: Request, r: Resource, ns: str | None) -> Response:
        """Start a watch; initial events follow list semantics of `resourceVersion`."""
        labels = LabelSelector.parse(req.param("labelSelector"))
        fields = FieldSelector.parse(req.param("fieldSelector"))
        try:
            timeout = float(req.param("timeoutSeconds") or 1800)
        except ValueError:
            timeout = 1800.0
        since = req.param("resourceVersion") or "0"
        store = self.world.store
        with store.lock:
            self.world.sync()
            watcher = store.watch(r.kind, ns or None)
            initial = []
            for o in store.list(r.kind, ns or None, labels, fields):
                orv = int(o["metadata"].get("resourceVersion") or 0)
                if since == "0" or orv > int(since or 0):
                    kind = "ADDED" if since == "0" else "MODIFIED"
                    initial.append((kind, copy.deepcopy(o)))

        def matches(o: Obj) -> bool:
            lbl = (o.get("metadata") or {}).get("labels") or {}
            return (labels is None or labels.matches(lbl)) and (fields is None or fields.matches(o))

        def line(kind: str, o: Obj) -> bytes:
            served = self.objects.served(r, o)
            if req.wants_table:
                served = tables.table(
                    r.kind,
                    [served],
                    self.world.clock.now(),
                    include=req.param("includeObject", "Metadata") or "Metadata",
                    resource_version=served["metadata"].get("resourceVersion", ""),
                )
            return json.dumps({"type": kind, "object": served}).encode() + b"\n"

        def events() -> Iterator[bytes]:
            try:
                for kind, o in initial:
                    yield line(kind, o)
                deadline = time.monotonic() + timeout
                last_sync = time.monotonic()
                while not self.should_stop() and time.monotonic() < deadline:
                    if time.monotonic() - last_sync >= _TICK:
                        with store.lock:
                            self.world.sync()
                        last_sync = time.monotonic()
                    try:
                        ev = watcher.events.get(timeout=_TICK)
                    except queue.Empty:
                        continue
                    if matches(ev.object):
                        yield line(ev.type, ev.object)
            finally:
                store.unwatch(watcher)

        return Response(200, stream=events())
