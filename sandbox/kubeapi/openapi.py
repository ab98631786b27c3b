"""OpenAPI v3 documents, enough for `kubectl apply`, `explain` and its query-param checks.

kubectl reads `/openapi/v3` (an index of group-versions) and then one document per
group-version. It looks for PATCH operations tagged with x-kubernetes-group-version-kind
that accept `dryRun` and `fieldValidation`, and for component schemas carrying the
Kubernetes merge keys that strategic merge patches follow. `/openapi/v2` is not served;
kubectl only falls back to it when v3 is missing.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from sandbox.kubeapi import resources as res
from sandbox.kubeapi.errors import ApiError
from sandbox.kubeapi.http import Request, Response, json_response
from sandbox.kubeapi.patch import MERGE_KEYS

_CORE = "io.k8s.api.core.v1."
_META = "io.k8s.apimachinery.pkg.apis.meta.v1."


def _ref(name: str) -> dict[str, Any]:
    return {"allOf": [{"$ref": f"#/components/schemas/{name}"}], "default": {}}


def _list_of(name: str, field: str) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "array", "items": _ref(name)}
    key = MERGE_KEYS.get(field)
    if field == "ports" and name.endswith("ServicePort"):
        key = "port"
    if key:
        out["x-kubernetes-patch-merge-key"] = key
        out["x-kubernetes-patch-strategy"] = "merge"
        out["x-kubernetes-list-type"] = "map"
        out["x-kubernetes-list-map-keys"] = [key]
    return out


def _obj(props: dict[str, Any], description: str = "") -> dict[str, Any]:
    return {"type": "object", "description": description, "properties": props}


_STR = {"type": "string"}
_INT = {"type": "integer", "format": "int32"}
_MAP = {"type": "object", "additionalProperties": {"type": "string", "default": ""}}
_ANY = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}

# Shared component schemas: the parts of the built-in types that carry merge semantics.
_SCHEMAS: dict[str, dict[str, Any]] = {
    _META + "ObjectMeta": _obj(
        {
            "name": _STR,
            "namespace": _STR,
            "labels": _MAP,
            "annotations": _MAP,
            "generateName": _STR,
            "uid": _STR,
            "resourceVersion": _STR,
            "generation": {"type": "integer", "format": "int64"},
            "creationTimestamp": _STR,
            "finalizers": {
                "type": "array",
                "items": _STR,
                "x-kubernetes-patch-strategy": "merge",
                "x-kubernetes-list-type": "set",
            },
            "ownerReferences": {
                "type": "array",
                "items": _ANY,
                "x-kubernetes-patch-merge-key": "uid",
                "x-kubernetes-patch-strategy": "merge",
            },
        },
        "Standard object's metadata.",
    ),
    _META + "LabelSelector": _obj(
        {"matchLabels": _MAP, "matchExpressions": {"type": "array", "items": _ANY}}
    ),
    _CORE + "EnvVar": _obj({"name": _STR, "value": _STR, "valueFrom": _ANY}),
    _CORE + "ContainerPort": _obj({"containerPort": _INT, "name": _STR, "protocol": _STR}),
    _CORE + "VolumeMount": _obj({"name": _STR, "mountPath": _STR, "readOnly": {"type": "boolean"}}),
    _CORE + "Volume": {**_ANY, "properties": {"name": _STR}},
    _CORE + "Container": _obj(
        {
            "name": _STR,
            "image": _STR,
            "command": {"type": "array", "items": _STR},
            "args": {"type": "array", "items": _STR},
            "env": _list_of(_CORE + "EnvVar", "env"),
            "envFrom": {"type": "array", "items": _ANY, "x-kubernetes-list-type": "atomic"},
            "ports": _list_of(_CORE + "ContainerPort", "ports"),
            "volumeMounts": _list_of(_CORE + "VolumeMount", "volumeMounts"),
            "resources": _ANY,
            "readinessProbe": _ANY,
            "livenessProbe": _ANY,
            "startupProbe": _ANY,
            "imagePullPolicy": _STR,
        },
        "A single application container that you want to run within a pod.",
    ),
    _CORE + "PodSpec": _obj(
        {
            "containers": _list_of(_CORE + "Container", "containers"),
            "initContainers": _list_of(_CORE + "Container", "initContainers"),
            "volumes": _list_of(_CORE + "Volume", "volumes"),
            "nodeSelector": _MAP,
            "nodeName": _STR,
            "tolerations": {"type": "array", "items": _ANY},
            "imagePullSecrets": {
                "type": "array",
                "items": _ANY,
                "x-kubernetes-patch-merge-key": "name",
                "x-kubernetes-patch-strategy": "merge",
            },
            "affinity": _ANY,
            "serviceAccountName": _STR,
        },
        "PodSpec is a description of a pod.",
    ),
    _CORE + "PodTemplateSpec": _obj(
        {"metadata": _ref(_META + "ObjectMeta"), "spec": _ref(_CORE + "PodSpec")}
    ),
    _CORE + "ServicePort": _obj(
        {"name": _STR, "port": _INT, "targetPort": _ANY, "protocol": _STR, "nodePort": _INT}
    ),
    _CORE + "ServiceSpec": _obj(
        {
            "ports": _list_of(_CORE + "ServicePort", "ports"),
            "selector": _MAP,
            "type": _STR,
            "clusterIP": _STR,
        }
    ),
    "workload.Spec": _obj(
        {
            "replicas": _INT,
            "selector": _ref(_META + "LabelSelector"),
            "template": _ref(_CORE + "PodTemplateSpec"),
            "strategy": _ANY,
            "minReadySeconds": _INT,
        }
    ),
}

# Which spec schema each kind uses; other kinds get a free-form spec.
_SPEC = {
    "Pod": _CORE + "PodSpec",
    "Service": _CORE + "ServiceSpec",
    "Deployment": "workload.Spec",
    "ReplicaSet": "workload.Spec",
    "StatefulSet": "workload.Spec",
    "DaemonSet": "workload.Spec",
}


def _schema_name(r: res.Resource) -> str:
    group = r.group.split(".")[0] if r.group else "core"
    return f"io.k8s.api.{group}.{r.version}.{r.kind}"


def _params() -> list[dict[str, Any]]:
    return [
        {"name": n, "in": "query", "schema": {"type": "string", "uniqueItems": True}}
        for n in ("dryRun", "fieldValidation", "fieldManager", "pretty")
    ]


def _op(r: res.Resource, action: str) -> dict[str, Any]:
    return {
        "operationId": f"{action}{r.kind}",
        "parameters": _params(),
        "responses": {
            "200": {
                "description": "OK",
                "content": {"application/json": {"schema": _ref(_schema_name(r))}},
            }
        },
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": {"group": r.group, "version": r.version, "kind": r.kind},
    }


@cache
def document(group: str, version: str) -> bytes:
    """The OpenAPI v3 document of one group-version (cached: it never changes)."""
    schemas: dict[str, Any] = dict(_SCHEMAS)
    paths: dict[str, Any] = {}
    prefix = f"/apis/{group}/{version}" if group else "/api/v1"
    for r in res.in_group_version(group, version):
        name = _schema_name(r)
        props: dict[str, Any] = {
            "apiVersion": _STR,
            "kind": _STR,
            "metadata": _ref(_META + "ObjectMeta"),
            "spec": _ref(_SPEC[r.kind]) if r.kind in _SPEC else _ANY,
            "status": _ANY,
        }
        if r.kind in ("ConfigMap", "Secret"):
            props.update({"data": _MAP, "stringData": _MAP, "type": _STR, "binaryData": _MAP})
        schemas[name] = {
            "type": "object",
            "description": f"{r.kind} as served by the sre-bot sandbox.",
            "properties": props,
            "x-kubernetes-group-version-kind": [
                {"group": r.group, "version": r.version, "kind": r.kind}
            ],
        }
        ns = "/namespaces/{namespace}" if r.namespaced else ""
        paths[f"{prefix}{ns}/{r.plural}"] = {"get": _op(r, "list"), "post": _op(r, "post")}
        paths[f"{prefix}{ns}/{r.plural}/{{name}}"] = {
            "get": _op(r, "get"),
            "put": _op(r, "put"),
            "patch": _op(r, "patch"),
            "delete": _op(r, "delete"),
        }
    doc = {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes (sre-bot sandbox)", "version": "v1.32.0"},
        "paths": paths,
        "components": {"schemas": schemas},
    }
    return json.dumps(doc).encode()


def _gv_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else "api/v1"


def serve(req: Request, parts: list[str]) -> Response:
    """`/openapi/v3` (the index) and `/openapi/v3/<api|apis/group>/<version>`."""
    if parts[:1] != ["v3"]:
        raise ApiError(
            404,
            "NotFound",
            "the sandbox serves OpenAPI v3 only (/openapi/v3); /openapi/v2 is not available",
        )
    gvs = [("", "v1")] + [(g, v) for g, vs in res.groups().items() for v in vs]
    if len(parts) == 1:
        index = {
            _gv_path(g, v): {"serverRelativeURL": f"/openapi/v3/{_gv_path(g, v)}?hash=sandbox"}
            for g, v in gvs
        }
        return json_response({"paths": index})
    rest = parts[1:]
    if rest[:1] == ["api"] and rest[1:] == ["v1"]:
        return Response(200, document("", "v1"))
    if rest[:1] == ["apis"] and len(rest) == 3 and (rest[1], rest[2]) in gvs:
        return Response(200, document(rest[1], rest[2]))
    raise ApiError(404, "NotFound", f"no OpenAPI v3 document for {'/'.join(rest)}")
