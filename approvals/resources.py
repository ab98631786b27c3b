"""Raw Kubernetes objects over the official client, for every kind the executor may touch.

The executor works on plain JSON objects (what `kubectl get -o json` shows), because
snapshots, diffs and rollbacks need the exact server representation, not the typed
models' defaults. Requests still go through `kubernetes.client.ApiClient`, so auth,
TLS and the kubeconfig behave exactly as for every other client of ours.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import urllib3
from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException

Obj = dict[str, Any]

# kind -> (API path prefix, plural, namespaced). The catalogue verbs touch only these.
KINDS: dict[str, tuple[str, str, bool]] = {
    "Namespace": ("api/v1", "namespaces", False),
    "Node": ("api/v1", "nodes", False),
    "Pod": ("api/v1", "pods", True),
    "Service": ("api/v1", "services", True),
    "Endpoints": ("api/v1", "endpoints", True),
    "ConfigMap": ("api/v1", "configmaps", True),
    "Secret": ("api/v1", "secrets", True),
    "PersistentVolumeClaim": ("api/v1", "persistentvolumeclaims", True),
    "ResourceQuota": ("api/v1", "resourcequotas", True),
    "ServiceAccount": ("api/v1", "serviceaccounts", True),
    "Deployment": ("apis/apps/v1", "deployments", True),
    "ReplicaSet": ("apis/apps/v1", "replicasets", True),
    "StatefulSet": ("apis/apps/v1", "statefulsets", True),
    "DaemonSet": ("apis/apps/v1", "daemonsets", True),
    "HorizontalPodAutoscaler": ("apis/autoscaling/v2", "horizontalpodautoscalers", True),
    "NetworkPolicy": ("apis/networking.k8s.io/v1", "networkpolicies", True),
    "Ingress": ("apis/networking.k8s.io/v1", "ingresses", True),
    "StorageClass": ("apis/storage.k8s.io/v1", "storageclasses", False),
    "Job": ("apis/batch/v1", "jobs", True),
    "CronJob": ("apis/batch/v1", "cronjobs", True),
    "PodDisruptionBudget": ("apis/policy/v1", "poddisruptionbudgets", True),
}

PATCH_CONTENT_TYPES = {
    "strategic": "application/strategic-merge-patch+json",
    "merge": "application/merge-patch+json",
    "json": "application/json-patch+json",
}


class KubeRequestError(Exception):
    """The API server refused a request; carries its HTTP status and Status message."""

    def __init__(self, method: str, path: str, status: int, reason: str, message: str) -> None:
        self.method, self.path, self.status, self.reason = method, path, status, reason
        self.message = message
        super().__init__(f"{method} {path} -> {status} {reason}: {message}")


class UnknownKind(ValueError):
    """A resource kind the executor does not know how to address."""


@dataclass(frozen=True)
class Ref:
    """`Kind/namespace/name` (or `Kind/name` for cluster-scoped kinds), parsed."""

    kind: str
    namespace: str | None
    name: str

    @classmethod
    def parse(cls, text: str) -> Ref:
        """Parse `Kind/ns/name` or `Kind/name`."""
        parts = text.split("/")
        if len(parts) == 3:
            return cls(parts[0], parts[1], parts[2])
        if len(parts) == 2:
            return cls(parts[0], None, parts[1])
        raise ValueError(f"a resource is Kind/namespace/name or Kind/name, got {text!r}")

    @classmethod
    def of(cls, obj: Obj) -> Ref:
        """The reference of a served object."""
        md = obj.get("metadata") or {}
        return cls(obj["kind"], md.get("namespace") or None, md["name"])

    def __str__(self) -> str:
        return (
            f"{self.kind}/{self.namespace}/{self.name}"
            if self.namespace
            else f"{self.kind}/{self.name}"
        )


def _kind_info(kind: str) -> tuple[str, str, bool]:
    try:
        return KINDS[kind]
    except KeyError:
        known = ", ".join(sorted(KINDS))
        raise UnknownKind(f"cannot act on kind {kind!r}; the executor knows {known}") from None


def collection_path(kind: str, namespace: str | None) -> str:
    """The URL path of a kind's collection (in a namespace when namespaced)."""
    prefix, plural, namespaced = _kind_info(kind)
    if namespaced:
        if not namespace:
            raise ValueError(f"{kind} is namespaced: write it as {kind}/<namespace>/<name>")
        return f"/{prefix}/namespaces/{quote(namespace)}/{plural}"
    return f"/{prefix}/{plural}"


def object_path(ref: Ref) -> str:
    """The URL path of one object."""
    return f"{collection_path(ref.kind, ref.namespace)}/{quote(ref.name)}"


class KubeResources:
    """Get, list, patch, create, delete and evict raw objects through an `ApiClient`."""

    def __init__(self, api: ApiClient, field_manager: str = "sre-bot") -> None:
        self.api = api
        self.field_manager = field_manager

    def request(
        self,
        method: str,
        path: str,
        *,
        query: list[tuple[str, str]] | None = None,
        body: Any = None,
        content_type: str = "application/json",
    ) -> Obj:
        """One request; returns the decoded JSON body or raises `KubeRequestError`."""
        headers = {"Accept": "application/json", "Content-Type": content_type}
        req = self.api.param_serialize(
            method,
            path,
            query_params=list(query or []),
            header_params=headers,
            body=body,
            auth_settings=["BearerToken"],
        )
        try:
            resp = self.api.call_api(*req, _request_timeout=30)
            data = resp.read()
            status = resp.status
        except ApiException as e:  # transport-level refusals the client raises itself
            raise KubeRequestError(method, path, e.status or 0, e.reason or "", str(e)) from e
        except (urllib3.exceptions.HTTPError, OSError) as e:
            raise KubeRequestError(
                method,
                path,
                0,
                "Unreachable",
                f"cannot reach the API server at {self.api.configuration.host} ({e}); "
                "check the kubeconfig and that the cluster is up",
            ) from e
        text = data.decode("utf-8") if data else ""
        try:
            decoded = json.loads(text) if text else {}
        except json.JSONDecodeError:
            decoded = {"message": text}
        if not 200 <= status <= 299:
            raise KubeRequestError(
                method,
                path,
                status,
                str(decoded.get("reason") or resp.reason or ""),
                str(decoded.get("message") or text),
            )
        return decoded

    def _write_query(self, dry_run: bool) -> list[tuple[str, str]]:
        q = [("fieldManager", self.field_manager)]
        if dry_run:
            q.append(("dryRun", "All"))
        return q

    def get(self, ref: Ref) -> Obj:
        """The object as served now."""
        return self._with_kind(self.request("GET", object_path(ref)), ref.kind)

    def get_or_none(self, ref: Ref) -> Obj | None:
        """The object, or None when it does not exist."""
        try:
            return self.get(ref)
        except KubeRequestError as e:
            if e.status == 404:
                return None
            raise

    def list(
        self,
        kind: str,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> list[Obj]:
        """Objects of a kind (in a namespace, or across all when namespace is None)."""
        prefix, plural, namespaced = _kind_info(kind)
        path = collection_path(kind, namespace) if namespace or not namespaced else None
        path = path or f"/{prefix}/{plural}"
        query = []
        if label_selector:
            query.append(("labelSelector", label_selector))
        if field_selector:
            query.append(("fieldSelector", field_selector))
        items = self.request("GET", path, query=query).get("items") or []
        return [self._with_kind(i, kind) for i in items]

    def patch(self, ref: Ref, body: Any, patch_type: str, *, dry_run: bool) -> Obj:
        """Patch an object; with `dry_run` the server answers what it would store."""
        ctype = PATCH_CONTENT_TYPES[patch_type]
        out = self.request(
            "PATCH",
            object_path(ref),
            query=self._write_query(dry_run),
            body=body,
            content_type=ctype,
        )
        return self._with_kind(out, ref.kind)

    def create(self, obj: Obj, *, dry_run: bool) -> Obj:
        """Create an object from its manifest."""
        ref = Ref.of(obj)
        out = self.request(
            "POST",
            collection_path(ref.kind, ref.namespace),
            query=self._write_query(dry_run),
            body=obj,
        )
        return self._with_kind(out, ref.kind)

    def delete(self, ref: Ref, *, dry_run: bool) -> Obj:
        """Delete an object with background cascade, as kubectl does by default."""
        body: Obj = {"apiVersion": "v1", "kind": "DeleteOptions", "propagationPolicy": "Background"}
        if dry_run:
            body["dryRun"] = ["All"]
        query = [("dryRun", "All")] if dry_run else []
        return self.request("DELETE", object_path(ref), query=query, body=body)

    def evict(self, namespace: str, name: str, *, dry_run: bool) -> None:
        """Evict a Pod through the eviction subresource, as `kubectl drain` does."""
        body: Obj = {
            "apiVersion": "policy/v1",
            "kind": "Eviction",
            "metadata": {"name": name, "namespace": namespace},
        }
        if dry_run:
            body["deleteOptions"] = {"dryRun": ["All"]}
        path = object_path(Ref("Pod", namespace, name)) + "/eviction"
        self.request("POST", path, query=[("dryRun", "All")] if dry_run else [], body=body)

    @staticmethod
    def _with_kind(obj: Obj, kind: str) -> Obj:
        # List items carry no kind; a snapshot must always say what it is.
        obj.setdefault("kind", kind)
        if "apiVersion" not in obj and kind in KINDS:
            prefix = KINDS[kind][0]
            obj["apiVersion"] = prefix.removeprefix("apis/").removeprefix("api/")
        return obj
