"""Routing: from an HTTP request to discovery, OpenAPI, object CRUD, subresources or a watch."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sandbox.kubeapi import discovery, openapi
from sandbox.kubeapi import resources as res
from sandbox.kubeapi.errors import ApiError, bad_request, method_not_allowed
from sandbox.kubeapi.http import Request, Response, json_response
from sandbox.kubeapi.objects import ObjectApi
from sandbox.kubeapi.subresources import SubresourceApi
from sandbox.kubeapi.watch import WatchApi
from sandbox.selectors import SelectorError
from sandbox.store import StoreError


@dataclass
class Target:
    """What a resource path names: a resource, maybe a namespace, object and subresource."""

    resource: res.Resource
    namespace: str | None
    name: str | None
    sub: str | None


class KubeApi:
    """The Kubernetes REST API over a World. Thread-safe: every call holds the store lock."""

    def __init__(self, world: Any, should_stop: Any = None) -> None:
        self.world = world
        self.objects = ObjectApi(world)
        self.subresources = SubresourceApi(world, self.objects)
        self.watches = WatchApi(world, self.objects, should_stop)

    def handle(self, req: Request) -> Response:
        """Answer one request; failures become Status bodies."""
        try:
            return self._route(req)
        except ApiError as e:
            return json_response(e.status(), e.code)
        except SelectorError as e:
            return json_response(bad_request(f"unable to parse selector: {e}").status(), 400)
        except StoreError as e:
            err = ApiError(e.code, e.reason, str(e))
            return json_response(err.status(), e.code)

    # -- routing ---------------------------------------------------------------------

    def _route(self, req: Request) -> Response:
        parts = [p for p in req.path.split("/") if p]
        if req.path in ("/version", "/version/"):
            return json_response(discovery.VERSION)
        if req.path in ("/healthz", "/readyz", "/livez"):
            return Response(200, b"ok", "text/plain")
        if parts[:1] == ["openapi"]:
            return openapi.serve(req, parts[1:])
        if parts[:1] == ["api"]:
            if len(parts) == 1:
                return json_response(discovery.api_versions())
            return self._group_version(req, "", parts[1], parts[2:])
        if parts[:1] == ["apis"]:
            if len(parts) == 1:
                return json_response(discovery.api_group_list())
            if len(parts) == 2:
                grp = discovery.api_group(parts[1])
                if grp is None:
                    raise ApiError(
                        404, "NotFound", f"the server could not find the group {parts[1]}"
                    )
                return json_response(grp)
            return self._group_version(req, parts[1], parts[2], parts[3:])
        raise ApiError(
            404,
            "NotFound",
            f"the server could not find the requested resource {req.path} (the sandbox serves "
            "/api, /apis, /version, /openapi and /prometheus)",
        )

    def _group_version(self, req: Request, group: str, version: str, rest: list[str]) -> Response:
        gv = f"{group}/{version}" if group else version
        if not rest:
            doc = discovery.resource_list(group, version)
            if doc is None:
                raise ApiError(
                    404, "NotFound", f"the server could not find the requested resource ({gv})"
                )
            return json_response(doc)
        target = self._target(group, version, rest)
        if target is None:
            raise ApiError(
                404, "NotFound", f"the server could not find the requested resource ({req.path})"
            )
        return self._dispatch(req, target)

    def _target(self, group: str, version: str, rest: list[str]) -> Target | None:
        ns: str | None = None
        if rest[0] == "namespaces" and len(rest) >= 3:
            r = res.lookup(group, version, rest[2])
            if r is not None and r.namespaced:
                ns, rest = rest[1], rest[2:]
        r = res.lookup(group, version, rest[0])
        if r is None or len(rest) > 3:
            return None
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else None
        if sub is not None and sub not in r.subresources:
            return None
        return Target(r, ns, name, sub)

    def _dispatch(self, req: Request, t: Target) -> Response:
        m = req.method
        if t.sub is not None:
            return self.subresources.handle(req, t.resource, t.namespace, t.name or "", t.sub)
        if t.name is None:
            if m == "GET":
                if req.flag("watch"):
                    return self.watches.watch(req, t.resource, t.namespace)
                return self.objects.list(req, t.resource, t.namespace)
            if m == "POST":
                return self.objects.create(req, t.resource, t.namespace, _body(req))
            raise method_not_allowed("GET (list, watch) and POST (create) on a collection")
        if m == "GET":
            return self.objects.get(req, t.resource, t.namespace, t.name)
        if m == "PUT":
            return self.objects.update(req, t.resource, t.namespace, t.name, _body(req))
        if m == "PATCH":
            ctype = req.headers.get("content-type", "")
            return self.objects.patch(req, t.resource, t.namespace, t.name, ctype, _body(req))
        if m == "DELETE":
            return self.objects.delete(req, t.resource, t.namespace, t.name)
        raise method_not_allowed("GET, PUT, PATCH and DELETE on an object")


def _body(req: Request) -> Any:
    if not req.body:
        raise bad_request("the request has no body; send the object as JSON")
    if "protobuf" in req.headers.get("content-type", ""):
        raise ApiError(
            415,
            "UnsupportedMediaType",
            "the sandbox accepts JSON and YAML bodies, not protobuf; use `kubectl apply -f` or "
            "`kubectl create -f` with a manifest",
        )
    try:
        return json.loads(req.body)
    except ValueError:
        pass
    try:
        import yaml

        return yaml.safe_load(req.body)
    except Exception as e:  # noqa: BLE001 - any parse failure is the client's bad body
        raise bad_request(f"the request body is neither JSON nor YAML: {e}") from e
