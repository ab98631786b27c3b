"""ConfigMap and Secret references in a Pod's env, and the kubelet's error when one is missing."""

from __future__ import annotations

from typing import Any

from sandbox.store import ObjectStore

Obj = dict[str, Any]


def config_refs(spec: Obj) -> list[tuple[str, str, str | None, bool]]:
    """(kind, name, key or None, optional) for every ConfigMap/Secret the containers' env needs."""
    out = []
    for c in spec.get("containers") or []:
        for e in c.get("env") or []:
            vf = (e or {}).get("valueFrom") or {}
            for field_name, kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
                ref = vf.get(field_name)
                if ref:
                    out.append(
                        (kind, ref.get("name", ""), ref.get("key"), bool(ref.get("optional")))
                    )
        for ef in c.get("envFrom") or []:
            for field_name, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
                ref = (ef or {}).get(field_name)
                if ref:
                    out.append((kind, ref.get("name", ""), None, bool(ref.get("optional"))))
    return out


def config_error(
    store: ObjectStore, ns: str, refs: list[tuple[str, str, str | None, bool]]
) -> str | None:
    """The kubelet's CreateContainerConfigError message for the first missing reference, or None."""
    for kind, name, key, optional in refs:
        if optional:
            continue
        obj = store.find(kind, ns, name)
        if obj is None:
            return f'{kind.lower()} "{name}" not found'
        if key is not None:
            data = dict(obj.get("data") or {})
            data.update(obj.get("stringData") or obj.get("binaryData") or {})
            if key not in data:
                return f"couldn't find key {key} in {kind} {ns}/{name}"
    return None
