"""Object CRUD: list, get, create, update, patch and delete, with dry-run and Table printing."""

from __future__ import annotations

import copy
import re
import secrets
import string
from typing import Any

from sandbox.kubeapi import tables
from sandbox.kubeapi.errors import ApiError, bad_request, from_store, invalid
from sandbox.kubeapi.http import Request, Response, json_response
from sandbox.kubeapi.patch import apply_patch
from sandbox.kubeapi.resources import Resource
from sandbox.kubeapi.timefmt import rfc3339
from sandbox.selectors import FieldSelector, LabelSelector
from sandbox.store import (
    GENERATION_KINDS,
    AlreadyExists,
    Conflict,
    NotFound,
    StoreError,
    ref_of,
)

Obj = dict[str, Any]
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
# Kinds whose whole body is spec-like: a main-resource write may change everything.
_NO_STATUS_KINDS = frozenset({"ConfigMap", "Secret", "Endpoints", "Event", "StorageClass"})


class ObjectApi:
    """CRUD over the World's store, the way kube-apiserver serves it."""

    def __init__(self, world: Any) -> None:
        self.world = world
        self.table_rows = tables.RowCache()

    @property
    def store(self) -> Any:
        """The World's object store."""
        return self.world.store

    # -- helpers shared with subresources and watches ---------------------------------

    def now(self) -> str:
        """The sandbox's current time as RFC 3339."""
        return rfc3339(self.world.clock.now())

    def served(self, r: Resource, obj: Obj) -> Obj:
        """A copy of a stored object as this resource version serves it."""
        out = copy.deepcopy(obj)
        out["apiVersion"] = r.group_version
        out["kind"] = r.kind
        md = out.get("metadata") or {}
        for ref in md.get("ownerReferences") or []:
            if not ref.get("uid"):
                # Scenario files name owners without uids; kubectl's rollout history matches
                # owners by uid, so serve the owner's real one.
                owner = self.store.find(
                    ref.get("kind", ""), md.get("namespace"), ref.get("name", "")
                )
                if owner is not None:
                    ref["uid"] = owner["metadata"].get("uid")
        return out

    def stored(self, r: Resource, ns: str | None, name: str) -> Obj:
        """The stored object (not a copy), or a NotFound Status."""
        obj = self.store.find(r.kind, ns, name)
        if obj is None:
            raise from_store(NotFound(""), r.plural, name, r.group)
        return obj

    def record(self, verb: str, obj: Obj) -> None:
        """Tell the World about a write it served (for the `forbidden` checks)."""
        self.world.record_write(verb, ref_of(obj))

    def require_namespace(self, r: Resource, ns: str | None) -> None:
        """Writes into a missing namespace fail as in a cluster."""
        if r.namespaced and ns and self.store.find("Namespace", None, ns) is None:
            raise ApiError(
                404,
                "NotFound",
                f'namespaces "{ns}" not found',
                details={"name": ns, "kind": "namespaces"},
            )

    # -- reads -----------------------------------------------------------------------

    def list(self, req: Request, r: Resource, ns: str | None) -> Response:
        """A list (or a Table when the client asks for one)."""
        labels = LabelSelector.parse(req.param("labelSelector"))
        fields = FieldSelector.parse(req.param("fieldSelector"))
        with self.store.lock:
            self.world.sync()
            items = self.store.list(r.kind, ns or None, labels, fields)
            rv = self.store.resource_version
            if req.wants_table:
                include = req.param("includeObject", "Metadata") or "Metadata"
                doc = tables.table(
                    r.kind,
                    [self.served(r, o) for o in items] if include == "Object" else items,
                    self.world.clock.now(),
                    include=include,
                    resource_version=rv,
                    cache=self.table_rows,
                )
                self.table_rows.prune(len(self.store))
                return json_response(doc)
            return json_response(
                {
                    "kind": f"{r.kind}List",
                    "apiVersion": r.group_version,
                    "metadata": {"resourceVersion": rv},
                    "items": [self.served(r, o) for o in items],
                }
            )

    def get(self, req: Request, r: Resource, ns: str | None, name: str) -> Response:
        """One object (or a one-row Table)."""
        with self.store.lock:
            self.world.sync()
            obj = self.served(r, self.stored(r, ns, name))
            if req.wants_table:
                include = req.param("includeObject", "Metadata") or "Metadata"
                rv = obj["metadata"].get("resourceVersion", "")
                doc = tables.table(
                    r.kind, [obj], self.world.clock.now(), include=include, resource_version=rv
                )
                return json_response(doc)
            return json_response(obj)

    # -- writes ----------------------------------------------------------------------

    def create(self, req: Request, r: Resource, ns: str | None, body: Any) -> Response:
        """POST a new object."""
        obj = self._check_body(r, ns, body)
        md = obj.setdefault("metadata", {})
        if not md.get("name") and md.get("generateName"):
            alphabet = string.ascii_lowercase + string.digits
            md["name"] = md["generateName"] + "".join(secrets.choice(alphabet) for _ in range(5))
        name = md.get("name") or ""
        if not name:
            raise invalid(
                r.kind,
                "",
                "metadata.name",
                "Required value: name or generateName is required",
                r.group,
            )
        _validate_name(r, name)
        with self.store.lock:
            self.world.sync()
            self.require_namespace(r, ns)
            if self.store.find(r.kind, ns, name) is not None:
                raise from_store(AlreadyExists(""), r.plural, name, r.group)
            if req.dry_run:
                md.setdefault("creationTimestamp", self.now())
                md.setdefault("uid", "00000000-0000-0000-0000-dryrun000000")
                md.setdefault("resourceVersion", self.store.resource_version)
                return json_response(self.served(r, obj), 201)
            for k in ("uid", "resourceVersion", "creationTimestamp"):
                md.pop(k, None)
            try:
                stored = self.store.create(obj, now=self.now())
            except StoreError as e:
                raise from_store(e, r.plural, name, r.group) from e
            self.record("create", stored)
            out = self.served(r, stored)
            self.world.sync()
            return json_response(out, 201)

    def update(self, req: Request, r: Resource, ns: str | None, name: str, body: Any) -> Response:
        """PUT a whole object (optimistic concurrency when it names a resourceVersion)."""
        obj = self._check_body(r, ns, body)
        if obj.get("metadata", {}).get("name") not in (None, name):
            raise bad_request(
                "the name of the object does not match the name on the URL "
                f"({obj['metadata']['name']!r} vs {name!r})"
            )
        obj.setdefault("metadata", {})["name"] = name
        expect = obj["metadata"].get("resourceVersion")
        with self.store.lock:
            self.world.sync()
            old = self.stored(r, ns, name)
            if expect and expect != old["metadata"].get("resourceVersion"):
                raise from_store(Conflict(""), r.plural, name, r.group)
            return self.write(req, r, old, obj, "update")

    def patch(
        self, req: Request, r: Resource, ns: str | None, name: str, ctype: str, body: Any
    ) -> Response:
        """PATCH with a JSON, merge or strategic merge patch."""
        with self.store.lock:
            self.world.sync()
            old = self.stored(r, ns, name)
            new = apply_patch(self.served(r, old), ctype, body)
            md = new.get("metadata") or {}
            if md.get("name") != name or (r.namespaced and md.get("namespace") not in (None, ns)):
                raise invalid(r.kind, name, "metadata.name", "field is immutable", r.group)
            rv = md.get("resourceVersion")
            if rv and rv != old["metadata"].get("resourceVersion"):
                raise from_store(Conflict(""), r.plural, name, r.group)
            return self.write(req, r, old, new, "patch")

    def write(
        self, req: Request, r: Resource, old: Obj, new: Obj, verb: str, *, status: bool = False
    ) -> Response:
        """Replace `old` by `new` (caller holds the lock): validate, dry-run or store, record."""
        new["apiVersion"] = old.get("apiVersion") or r.group_version
        new["kind"] = r.kind
        if not status and "status" in old and r.kind not in _NO_STATUS_KINDS:
            # The main resource cannot change status, as in kube-apiserver.
            new["status"] = copy.deepcopy(old["status"])
        if status:
            new = {**copy.deepcopy(old), "status": new.get("status")}
        _validate(r, new)
        md = new.setdefault("metadata", {})
        for k in ("uid", "creationTimestamp"):
            if old["metadata"].get(k) is not None:
                md[k] = old["metadata"][k]
        bump = new.get("spec") != old.get("spec")
        if req.dry_run:
            if bump and r.kind in GENERATION_KINDS:
                md["generation"] = old["metadata"].get("generation", 1) + 1
            return json_response(self.served(r, new))
        md.pop("resourceVersion", None)
        try:
            stored = self.store.replace(new, bump_generation=bump)
        except StoreError as e:
            raise from_store(e, r.plural, md.get("name", ""), r.group) from e
        self.record(verb, stored)
        out = self.served(r, stored)
        self.world.sync()
        return json_response(out)

    def delete(self, req: Request, r: Resource, ns: str | None, name: str) -> Response:
        """DELETE an object; its dependents (ownerReferences) and namespace contents follow."""
        with self.store.lock:
            self.world.sync()
            obj = self.stored(r, ns, name)
            out = self.served(r, obj)
            if req.dry_run:
                return json_response(out)
            self.record("delete", obj)
            self.store.delete(r.kind, ns, name)
            self._cascade(obj)
            self.world.sync()
            return json_response(out)

    def _cascade(self, owner: Obj) -> None:
        """Garbage-collect dependents, as kube-controller-manager would (background)."""
        uid = owner["metadata"].get("uid")
        kind, name = owner["kind"], owner["metadata"]["name"]
        ns = owner["metadata"].get("namespace")
        doomed = []
        for o in self.store:
            md = o.get("metadata") or {}
            if kind == "Namespace" and md.get("namespace") == name:
                doomed.append(o)
                continue
            if md.get("namespace") != ns:
                continue
            for ref in md.get("ownerReferences") or []:
                if ref.get("kind") == kind and (ref.get("uid") == uid or ref.get("name") == name):
                    doomed.append(o)
                    break
        for o in doomed:
            md = o["metadata"]
            if self.store.find(o["kind"], md.get("namespace"), md["name"]) is not None:
                self.store.delete(o["kind"], md.get("namespace"), md["name"])
                if o["kind"] != "Event":
                    self._cascade(o)

    def _check_body(self, r: Resource, ns: str | None, body: Any) -> Obj:
        if not isinstance(body, dict):
            raise bad_request(f"the request body must be a {r.kind} object")
        if body.get("kind") not in (None, r.kind):
            raise bad_request(
                f"the body is a {body.get('kind')}, but this path serves {r.kind} objects"
            )
        obj = copy.deepcopy(body)
        obj["kind"] = r.kind
        obj.setdefault("apiVersion", r.group_version)
        md = obj.setdefault("metadata", {})
        if r.namespaced:
            if md.get("namespace") and ns and md["namespace"] != ns:
                raise bad_request(
                    "the namespace of the provided object does not match the namespace sent "
                    "on the request"
                )
            md["namespace"] = ns or md.get("namespace") or "default"
        else:
            md.pop("namespace", None)
        return obj


def _validate_name(r: Resource, name: str) -> None:
    if len(name) > 253 or not _DNS_SUBDOMAIN.match(name):
        raise invalid(
            r.kind,
            name,
            "metadata.name",
            f'Invalid value: "{name}": a lowercase RFC 1123 subdomain must consist of lower '
            "case alphanumeric characters, '-' or '.', and must start and end with an "
            "alphanumeric character",
            r.group,
        )


def _validate(r: Resource, obj: Obj) -> None:
    """The few validations the sandbox enforces (the ones fixes commonly trip over)."""
    name = (obj.get("metadata") or {}).get("name", "")
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    replicas = spec.get("replicas")
    if replicas is not None and (not isinstance(replicas, int) or replicas < 0):
        raise invalid(
            r.kind,
            name,
            "spec.replicas",
            f"Invalid value: {replicas}: must be greater than or equal to 0",
            r.group,
        )
    containers = ((spec.get("template") or {}).get("spec") or {}).get("containers")
    if r.kind == "Pod":
        containers = spec.get("containers")
    for i, c in enumerate(containers or []):
        if not isinstance(c, dict) or not c.get("image"):
            raise invalid(
                r.kind,
                name,
                f"spec.template.spec.containers[{i}].image",
                "Required value",
                r.group,
            )
