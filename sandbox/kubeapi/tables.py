"""Server-side printing: meta.k8s.io/v1 Tables with the columns kube-apiserver prints per kind.

The server always fills every column; kubectl hides priority-1 columns unless `-o wide`.
The per-kind columns and cells live in `printers.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson

from sandbox.kubeapi.printers import PRINTERS, STAGED, S, default_row, selector_string

Obj = dict[str, Any]
__all__ = ["RowCache", "partial_metadata", "selector_string", "table"]


def _row_name(o: Obj) -> str:
    # Called once per row of every list: plain lookups, no generic path walking.
    md = o.get("metadata") or {}
    name = md.get("name") or ""
    if o.get("kind") == "StorageClass" and (
        (md.get("annotations") or {}).get("storageclass.kubernetes.io/is-default-class") == "true"
    ):
        return f"{name} (default)"
    return name


def partial_metadata(o: Obj) -> Obj:
    """The object's metadata as a meta.k8s.io/v1 PartialObjectMetadata."""
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": o.get("metadata") or {},
    }


class RowCache:
    """What a Table row needs that is fixed for one version of an object, computed once.

    Every write gives an object a new resourceVersion, so (uid, resourceVersion) names one
    version. Kept per object: its PartialObjectMetadata serialised (an orjson Fragment) and,
    for the kinds in printers.STAGED, its row state. A Table of 5,000 pods then redoes only
    the ages of rows whose pod has not changed since the last list.
    """

    def __init__(self) -> None:
        self._by_uid: dict[str, list[Any]] = {}

    def __len__(self) -> int:
        return len(self._by_uid)

    def _entry(self, o: Obj) -> list[Any]:
        md = o.get("metadata") or {}
        uid, rv = md.get("uid"), md.get("resourceVersion")
        entry = self._by_uid.get(uid) if uid else None
        if entry is None or entry[0] != rv:
            entry = [rv, None, None]
            if uid:
                self._by_uid[uid] = entry
        return entry

    def metadata(self, o: Obj) -> orjson.Fragment:
        """The serialised PartialObjectMetadata of `o`."""
        entry = self._entry(o)
        if entry[1] is None:
            entry[1] = orjson.Fragment(orjson.dumps(partial_metadata(o)))
        return entry[1]

    def state(self, o: Obj, prepare: Callable[[Obj], Any]) -> Any:
        """`prepare(o)`, the fixed part of the object's row."""
        entry = self._entry(o)
        if entry[2] is None:
            entry[2] = prepare(o)
        return entry[2]

    def prune(self, live: int) -> None:
        """Forget everything once deleted objects' entries outnumber the live objects."""
        if len(self._by_uid) > 2 * live + 1024:
            self._by_uid.clear()


def table(
    kind: str,
    objects: list[Obj],
    now: datetime,
    *,
    include: str,
    resource_version: str,
    cache: RowCache | None = None,
) -> Obj:
    """A Table of `objects`; `include` is the includeObject mode (None, Metadata, Object).

    With a `cache` the rows' objects are orjson Fragments: serialise the Table with orjson.
    """
    columns, printer = PRINTERS.get(kind, ([("Age", S, 0)], default_row))
    defs = [
        {
            "name": "Name",
            "type": "string",
            "format": "name",
            "description": "Name must be unique within a namespace.",
            "priority": 0,
        }
    ] + [
        {"name": n, "type": t, "format": "", "description": n, "priority": p} for n, t, p in columns
    ]
    staged = STAGED.get(kind) if cache is not None else None
    rows = []
    for o in objects:
        if staged is not None:
            cells = staged[1](cache.state(o, staged[0]), now)  # type: ignore[union-attr]
        else:
            cells = printer(o, now)
        row: Obj = {"cells": [_row_name(o), *cells]}
        if include == "Object":
            row["object"] = o
        elif include != "None":
            row["object"] = cache.metadata(o) if cache is not None else partial_metadata(o)
        rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version},
        "columnDefinitions": defs,
        "rows": rows,
    }
