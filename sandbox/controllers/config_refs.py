"""ConfigMap and Secret references in a Pod (env, envFrom, volumes), and the kubelet's error
when one is missing: CreateContainerConfigError for env, a failed mount for volumes."""

from __future__ import annotations

from typing import Any, NamedTuple

from sandbox.store import ObjectStore

Obj = dict[str, Any]


class ConfigRef(NamedTuple):
    """One reference: `volume` is the volume's name for mounts, None for env."""

    kind: str  # ConfigMap | Secret
    name: str
    keys: tuple[str, ...]
    optional: bool
    volume: str | None = None


class ConfigProblem(NamedTuple):
    """Why the kubelet cannot start the containers: `kind` is "mount" or "config"."""

    kind: str
    message: str


def config_refs(spec: Obj) -> list[ConfigRef]:
    """Every ConfigMap/Secret the Pod needs, volumes first (the kubelet mounts before it starts)."""
    out = []
    for v in spec.get("volumes") or []:
        sources = [v] + list(((v.get("projected") or {}).get("sources")) or [])
        for src in sources:
            for field_name, kind, name_key in (
                ("configMap", "ConfigMap", "name"),
                ("secret", "Secret", "secretName"),
            ):
                ref = src.get(field_name)
                if ref:
                    name = ref.get(name_key) or ref.get("name", "")
                    keys = tuple(i.get("key", "") for i in ref.get("items") or [])
                    out.append(
                        ConfigRef(kind, name, keys, bool(ref.get("optional")), v.get("name", ""))
                    )
    for c in spec.get("containers") or []:
        for e in c.get("env") or []:
            vf = (e or {}).get("valueFrom") or {}
            for field_name, kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
                ref = vf.get(field_name)
                if ref:
                    key = ref.get("key")
                    out.append(
                        ConfigRef(
                            kind,
                            ref.get("name", ""),
                            (key,) if key else (),
                            bool(ref.get("optional")),
                        )
                    )
        for ef in c.get("envFrom") or []:
            for field_name, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
                ref = (ef or {}).get(field_name)
                if ref:
                    out.append(ConfigRef(kind, ref.get("name", ""), (), bool(ref.get("optional"))))
    return out


def config_error(store: ObjectStore, ns: str, refs: list[ConfigRef]) -> ConfigProblem | None:
    """The kubelet's complaint about the first missing reference, or None."""
    for ref in refs:
        if ref.optional:
            continue
        obj = store.find(ref.kind, ns, ref.name)
        missing_key = None
        if obj is not None:
            data = dict(obj.get("data") or {})
            data.update(obj.get("stringData") or obj.get("binaryData") or {})
            missing_key = next((k for k in ref.keys if k not in data), None)
        if obj is None and ref.volume is None:
            return ConfigProblem("config", f'{ref.kind.lower()} "{ref.name}" not found')
        if missing_key is not None and ref.volume is None:
            return ConfigProblem(
                "config", f"couldn't find key {missing_key} in {ref.kind} {ns}/{ref.name}"
            )
        if obj is None or missing_key is not None:
            what = (
                f'{ref.kind.lower()} "{ref.name}" not found'
                if obj is None
                else f"{ref.kind.lower()} references non-existent config key: {missing_key}"
            )
            return ConfigProblem(
                "mount", f'MountVolume.SetUp failed for volume "{ref.volume}" : {what}'
            )
    return None
