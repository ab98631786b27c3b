"""The resource types the sandbox serves: group, version, plural, kind, scope, short names."""

from __future__ import annotations

from dataclasses import dataclass, field

_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]


@dataclass(frozen=True)
class Resource:
    """One REST resource, as discovery describes it."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool = True
    short_names: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    verbs: tuple[str, ...] = field(default=tuple(_VERBS))

    @property
    def group_version(self) -> str:
        """`v1` for the core group, `apps/v1` otherwise."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def singular(self) -> str:
        """The lower-case kind, as discovery's singularName."""
        return self.kind.lower()


_ALL = ("all",)

RESOURCES: tuple[Resource, ...] = (
    Resource("", "v1", "pods", "Pod", True, ("po",), ("status", "log", "eviction"), _ALL),
    Resource("", "v1", "services", "Service", True, ("svc",), ("status",), _ALL),
    Resource("", "v1", "endpoints", "Endpoints", True, ("ep",)),
    Resource("", "v1", "events", "Event", True, ("ev",)),
    Resource("", "v1", "nodes", "Node", False, ("no",), ("status",)),
    Resource("", "v1", "namespaces", "Namespace", False, ("ns",), ("status",)),
    Resource("", "v1", "configmaps", "ConfigMap", True, ("cm",)),
    Resource("", "v1", "secrets", "Secret", True),
    Resource("", "v1", "serviceaccounts", "ServiceAccount", True, ("sa",)),
    Resource(
        "", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", True, ("pvc",), ("status",)
    ),
    Resource("", "v1", "persistentvolumes", "PersistentVolume", False, ("pv",), ("status",)),
    Resource("", "v1", "resourcequotas", "ResourceQuota", True, ("quota",), ("status",)),
    Resource(
        "apps", "v1", "deployments", "Deployment", True, ("deploy",), ("status", "scale"), _ALL
    ),
    Resource("apps", "v1", "replicasets", "ReplicaSet", True, ("rs",), ("status", "scale"), _ALL),
    Resource(
        "apps", "v1", "statefulsets", "StatefulSet", True, ("sts",), ("status", "scale"), _ALL
    ),
    Resource("apps", "v1", "daemonsets", "DaemonSet", True, ("ds",), ("status",), _ALL),
    Resource("apps", "v1", "controllerrevisions", "ControllerRevision", True),
    Resource(
        "autoscaling",
        "v2",
        "horizontalpodautoscalers",
        "HorizontalPodAutoscaler",
        True,
        ("hpa",),
        ("status",),
        _ALL,
    ),
    Resource(
        "autoscaling",
        "v1",
        "horizontalpodautoscalers",
        "HorizontalPodAutoscaler",
        True,
        ("hpa",),
        ("status",),
        _ALL,
    ),
    Resource("batch", "v1", "jobs", "Job", True, (), ("status",), _ALL),
    Resource("batch", "v1", "cronjobs", "CronJob", True, ("cj",), ("status",), _ALL),
    Resource("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", True, ("netpol",)),
    Resource("networking.k8s.io", "v1", "ingresses", "Ingress", True, ("ing",), ("status",)),
    Resource("storage.k8s.io", "v1", "storageclasses", "StorageClass", False, ("sc",)),
    Resource(
        "policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", True, ("pdb",), ("status",)
    ),
)

# Subresources whose object is not the parent kind (discovery lists these).
SUBRESOURCE_KINDS: dict[str, tuple[str, str, str, tuple[str, ...]]] = {
    # name: (group, version, kind, verbs)
    "scale": ("autoscaling", "v1", "Scale", ("get", "patch", "update")),
    "eviction": ("policy", "v1", "Eviction", ("create",)),
    "log": ("", "v1", "Pod", ("get",)),
    "status": ("", "", "", ("get", "patch", "update")),
}

# The version kubectl should prefer when a group serves several.
PREFERRED_VERSION = {"autoscaling": "v2"}


def groups() -> dict[str, list[str]]:
    """Named API groups and their versions, preferred version first."""
    out: dict[str, list[str]] = {}
    for r in RESOURCES:
        if r.group and r.version not in out.setdefault(r.group, []):
            out[r.group].append(r.version)
    for g, versions in out.items():
        pref = PREFERRED_VERSION.get(g)
        if pref in versions:
            versions.remove(pref)
            versions.insert(0, pref)
    return out


def in_group_version(group: str, version: str) -> list[Resource]:
    """Every resource served under one group/version."""
    return [r for r in RESOURCES if r.group == group and r.version == version]


def lookup(group: str, version: str, plural: str) -> Resource | None:
    """The resource at `/apis/<group>/<version>/<plural>` (or `/api/v1/<plural>`)."""
    for r in RESOURCES:
        if r.group == group and r.version == version and r.plural == plural:
            return r
    return None
