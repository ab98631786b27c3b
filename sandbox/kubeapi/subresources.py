"""Subresources: `/scale` (autoscaling/v1 Scale), `/status`, `/log` and `/eviction`."""

from __future__ import annotations

import copy
import json
import re
from datetime import timedelta
from typing import Any

from sandbox.kubeapi.errors import ApiError, bad_request, invalid, method_not_allowed
from sandbox.kubeapi.http import Request, Response, json_response
from sandbox.kubeapi.objects import ObjectApi
from sandbox.kubeapi.patch import apply_patch
from sandbox.kubeapi.resources import Resource
from sandbox.kubeapi.tables import selector_string
from sandbox.kubeapi.timefmt import parse_time
from sandbox.store import StoreError

Obj = dict[str, Any]
_STAMP = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2}))\s")


class SubresourceApi:
    """The subresources kubectl and the Python client use."""

    def __init__(self, world: Any, objects: ObjectApi) -> None:
        self.world = world
        self.objects = objects

    def handle(self, req: Request, r: Resource, ns: str | None, name: str, sub: str) -> Response:
        """Dispatch on the subresource name and method."""
        m = req.method
        if sub == "scale" and m in ("GET", "PUT", "PATCH"):
            return self.scale(req, r, ns, name)
        if sub == "status" and m in ("GET", "PUT", "PATCH"):
            return self.status(req, r, ns, name)
        if sub == "log" and m == "GET":
            return self.log(req, ns or "default", name)
        if sub == "eviction" and m == "POST":
            return self.evict(req, ns or "default", name)
        supported = {
            "scale": "GET, PUT and PATCH",
            "status": "GET, PUT and PATCH",
            "log": "GET",
            "eviction": "POST",
        }[sub]
        raise method_not_allowed(f"{supported} on {r.plural}/{sub}")

    # -- scale -------------------------------------------------------------------------

    def _scale_of(self, obj: Obj) -> Obj:
        md = obj["metadata"]
        return {
            "kind": "Scale",
            "apiVersion": "autoscaling/v1",
            "metadata": {
                k: md[k]
                for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                if k in md
            },
            "spec": {"replicas": (obj.get("spec") or {}).get("replicas", 1)},
            "status": {
                "replicas": (obj.get("status") or {}).get("replicas", 0),
                "selector": selector_string((obj.get("spec") or {}).get("selector")).replace(
                    "<none>", ""
                ),
            },
        }

    def scale(self, req: Request, r: Resource, ns: str | None, name: str) -> Response:
        """GET, PUT or PATCH the Scale of a Deployment, ReplicaSet or StatefulSet."""
        with self.world.store.lock:
            self.world.sync()
            obj = self.objects.stored(r, ns, name)
            current = self._scale_of(obj)
            if req.method == "GET":
                return json_response(current)
            body = _json(req)
            if req.method == "PUT":
                wanted = body
            else:
                wanted = apply_patch(current, req.headers.get("content-type", ""), body)
            replicas = (wanted.get("spec") or {}).get("replicas")
            if not isinstance(replicas, int) or replicas < 0:
                raise invalid(
                    "Scale",
                    name,
                    "spec.replicas",
                    f"Invalid value: {replicas}: must be greater than or equal to 0",
                    "autoscaling",
                )
            rv = (wanted.get("metadata") or {}).get("resourceVersion")
            if req.method == "PUT" and rv and rv != obj["metadata"].get("resourceVersion"):
                raise ApiError(
                    409,
                    "Conflict",
                    f'Operation cannot be fulfilled on {r.plural}.{r.group} "{name}": the object '
                    "has been modified; please apply your changes to the latest version and try "
                    "again",
                )
            new = self.objects.served(r, obj)
            new.setdefault("spec", {})["replicas"] = replicas
            self.objects.write(req, r, obj, new, "patch" if req.method == "PATCH" else "update")
            after = self.world.store.find(r.kind, ns, name) or new
            out = self._scale_of(new if req.dry_run else after)
            return json_response(out)

    # -- status ------------------------------------------------------------------------

    def status(self, req: Request, r: Resource, ns: str | None, name: str) -> Response:
        """GET, PUT or PATCH only the status of an object."""
        with self.world.store.lock:
            self.world.sync()
            obj = self.objects.stored(r, ns, name)
            if req.method == "GET":
                return json_response(self.objects.served(r, obj))
            body = _json(req)
            if req.method == "PUT":
                new = body
            else:
                ctype = req.headers.get("content-type", "")
                new = apply_patch(self.objects.served(r, obj), ctype, body)
            verb = "patch" if req.method == "PATCH" else "update"
            return self.objects.write(req, r, obj, new, verb, status=True)

    # -- log ---------------------------------------------------------------------------

    def log(self, req: Request, ns: str, name: str) -> Response:
        """A container's log, with tailLines, sinceSeconds, sinceTime, limitBytes, timestamps."""
        with self.world.store.lock:
            self.world.sync()
            try:
                text = self.world.pod_logs(
                    ns, name, container=req.param("container"), previous=req.flag("previous")
                )
            except StoreError as e:
                raise ApiError(e.code, e.reason, str(e)) from e
            now = self.world.clock.now()
        lines = text.splitlines(keepends=True)
        since = None
        if req.param("sinceSeconds"):
            try:
                since = now - timedelta(seconds=int(req.param("sinceSeconds") or "0"))
            except ValueError as e:
                raise bad_request("sinceSeconds must be a whole number of seconds") from e
        elif req.param("sinceTime"):
            since = parse_time(req.param("sinceTime"))
        if since is not None:
            lines = [ln for ln in lines if _after(ln, since)]
        tail = req.param("tailLines")
        if tail is not None:
            try:
                n = int(tail)
            except ValueError as e:
                raise bad_request("tailLines must be a whole number") from e
            lines = lines[-n:] if n > 0 else []
        if req.flag("timestamps"):
            lines = [ln if _STAMP.match(ln) else f"{now.isoformat()} {ln}" for ln in lines]
        data = "".join(lines).encode()
        limit = req.param("limitBytes")
        if limit and limit.isdigit():
            data = data[: int(limit)]
        return Response(200, data, "text/plain")

    # -- eviction ----------------------------------------------------------------------

    def evict(self, req: Request, ns: str, name: str) -> Response:
        """POST an Eviction for a Pod: the World removes it (its controller replaces it)."""
        body = _json(req)
        if not isinstance(body, dict) or body.get("kind") not in (None, "Eviction"):
            raise bad_request("the body of an eviction must be a policy/v1 Eviction")
        with self.world.store.lock:
            self.world.sync()
            pod = self.world.store.find("Pod", ns, name)
            if pod is None:
                raise ApiError(
                    404,
                    "NotFound",
                    f'pods "{name}" not found',
                    details={"name": name, "kind": "pods"},
                )
            opts = body.get("deleteOptions") or {}
            if not (req.dry_run or "All" in (opts.get("dryRun") or [])):
                self.world.record_write("evict", f"Pod/{ns}/{name}")
                self.world.evict(ns, name)
                self.world.sync()
        return json_response(
            {
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Success",
                "code": 201,
            },
            201,
        )


def _after(line: str, since: Any) -> bool:
    m = _STAMP.match(line)
    t = parse_time(m.group(1)) if m else None
    return t is None or t >= since


def _json(req: Request) -> Any:
    if not req.body:
        raise bad_request("the request has no body")
    try:
        return copy.deepcopy(json.loads(req.body))
    except ValueError as e:
        raise bad_request(f"the request body is not JSON: {e}") from e
