"""Server-side printing: meta.k8s.io/v1 Tables with the columns kube-apiserver prints per kind.

The server always fills every column; kubectl hides priority-1 columns unless `-o wide`.
The per-kind columns and cells live in `printers.py`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sandbox.kubeapi.printers import PRINTERS, S, default_row, selector_string

Obj = dict[str, Any]
__all__ = ["partial_metadata", "selector_string", "table"]


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


def table(
    kind: str, objects: list[Obj], now: datetime, *, include: str, resource_version: str
) -> Obj:
    """A Table of `objects`; `include` is the includeObject mode (None, Metadata, Object)."""
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
    rows = []
    for o in objects:
        row: Obj = {"cells": [_row_name(o), *printer(o, now)]}
        if include == "Object":
            row["object"] = o
        elif include != "None":
            row["object"] = partial_metadata(o)
        rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version},
        "columnDefinitions": defs,
        "rows": rows,
    }
