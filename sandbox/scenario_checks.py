"""The checks behind `load_scenario`: every field of a scenario file, with `file:line` errors."""

from __future__ import annotations

import difflib
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sandbox.faults import RefError, parse_path, parse_ref, pod_matches, pod_templates
from sandbox.quantity import QuantityError, parse_quantity
from sandbox.scenario_model import (
    Answer,
    Fault,
    FaultEvent,
    FaultState,
    FixedWhen,
    ForbiddenAction,
    LogRule,
    MetricSpec,
    ObjectCondition,
    PodSelector,
    RootCause,
    Scenario,
    ScenarioTrigger,
)
from sandbox.scenario_yaml import Lines
from sandbox.series import SeriesError, expand, parse_series_selector
from sandbox.store import CLUSTER_SCOPED

TOP_KEYS = (
    "name",
    "summary",
    "clock",
    "startup_seconds",
    "trigger",
    "objects",
    "logs",
    "metrics",
    "faults",
    "answer",
)
PHASES = (
    "Running",
    "NotReady",
    "CrashLoopBackOff",
    "ImagePullBackOff",
    "ErrImagePull",
    "CreateContainerConfigError",
    "Pending",
)
CATEGORIES = (
    "Misconfiguration",
    "CodeDefect",
    "ResourceExhaustion",
    "DependencyFailure",
    "OperationError",
    "NetworkIssue",
    "AuthenticationIssue",
    "CapacityIssue",
    "NoFault",
)
# Kinds the sandbox derives: an answer may name one that the file does not list.
DERIVED_KINDS = frozenset({"Pod", "ReplicaSet", "Endpoints", "EndpointSlice", "Event"})
_NAME_RE = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
_DURATION_RE = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?(?:(\d+)ms)?$")


class ScenarioError(Exception):
    """A scenario file that cannot be used; `str()` is `file:line: what is wrong and what to do`."""

    def __init__(self, path: str | Path, line: int, message: str) -> None:
        self.path = str(path)
        self.line = line
        self.message = message
        super().__init__(f"{self.path}:{line}: {message}")


def parse_duration(text: Any) -> float:
    """A Prometheus duration (`1m`, `30s`, `1h30m`) or a number of seconds, as seconds."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        return float(text)
    m = _DURATION_RE.match(str(text).strip())
    if not str(text).strip() or m is None or not any(m.groups()):
        raise ValueError(f"{text!r} is not a duration: write for example 15s, 1m or 1h")
    d, h, mi, s, ms = (int(g) if g else 0 for g in m.groups())
    return d * 86400 + h * 3600 + mi * 60 + s + ms / 1000


class ScenarioChecker:
    """Turns the parsed document into a Scenario, one field at a time, failing with a line."""

    def __init__(self, path: Path, lines: Lines) -> None:
        self.path = path
        self.lines = lines

    def fail(self, where: Any, message: str, key: Any = None, line: int | None = None) -> None:
        raise ScenarioError(
            self.path, line if line is not None else self.lines.of(where, key), message
        )

    def keys(self, obj: Any, allowed: tuple[str, ...], what: str, line: int = 1) -> dict:
        if not isinstance(obj, dict):
            self.fail(
                obj,
                f"{what} must be a mapping (key: value), got {type(obj).__name__}",
                line=self.lines.of(obj, default=line),
            )
        for key in obj:
            if key not in allowed:
                close = difflib.get_close_matches(str(key), allowed, n=1)
                hint = f"did you mean {close[0]!r}?" if close else f"allowed: {', '.join(allowed)}"
                self.fail(obj, f"unknown key {key!r} in {what}: {hint}", key)
        return obj

    def need(self, obj: dict, key: str, what: str) -> Any:
        if key not in obj or obj[key] is None:
            self.fail(obj, f"{what} needs {key!r}")
        return obj[key]

    # -- the document --------------------------------------------------------------------

    def scenario(self, data: Any) -> Scenario:
        if not isinstance(data, dict):
            self.fail(
                data,
                "a scenario file is a mapping with name, clock, trigger, objects, "
                "faults and answer (see SCENARIOS.md)",
                line=1,
            )
        self.keys(data, TOP_KEYS, "the scenario")
        name = self.need(data, "name", "the scenario")
        if not isinstance(name, str) or not _NAME_RE.match(name):
            self.fail(
                data,
                f"name {name!r} must use only a-z, 0-9 and '-' (for example checkout-missing-env)",
                "name",
            )
        clock = self.clock(data)
        startup = data.get("startup_seconds", 2)
        if not isinstance(startup, int | float) or isinstance(startup, bool) or startup < 0:
            self.fail(
                data,
                f"startup_seconds must be a number of seconds >= 0, got {startup!r}",
                "startup_seconds",
            )
        objects = self.objects(data.get("objects") or [], data)
        faults = [self.fault(f) for f in self.seq(data, "faults")]
        seen: set[str] = set()
        for raw, fault in zip(self.seq(data, "faults"), faults, strict=True):
            if fault.name in seen:
                self.fail(
                    raw, f"two faults are named {fault.name!r}: give each its own name", "name"
                )
            seen.add(fault.name)
        answer = self.answer(self.need(data, "answer", "the scenario"))
        scenario = Scenario(
            name=name,
            summary=str(data.get("summary") or ""),
            clock=clock,
            startup_seconds=float(startup),
            trigger=self.trigger(
                self.need(data, "trigger", "the scenario"), self.lines.of(data, "trigger")
            ),
            objects=objects,
            logs=[self.log_rule(r) for r in self.seq(data, "logs")],
            metrics=[self.metric(m) for m in self.seq(data, "metrics")],
            faults=faults,
            answer=answer,
            source_path=self.path,
        )
        self.cross_check(data, scenario)
        return scenario

    def seq(self, data: dict, key: str) -> list:
        value = data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail(data, f"{key} must be a list", key)
        return value

    def clock(self, data: dict) -> datetime:
        raw = self.need(data, "clock", "the scenario")
        try:
            dt = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
        except ValueError:
            self.fail(
                data,
                f'clock {raw!r} is not an RFC 3339 time: write for example "2026-11-20T10:30:00Z"',
                "clock",
            )
        return dt if dt.tzinfo else dt.replace(tzinfo=UTC)

    def trigger(self, raw: Any, line: int) -> ScenarioTrigger:
        self.keys(raw, ("slash", "alertmanager", "pagerduty"), "trigger", line)
        given = [k for k in ("slash", "alertmanager", "pagerduty") if raw.get(k) is not None]
        if len(given) != 1:
            self.fail(
                raw,
                "trigger needs exactly one of slash, alertmanager or pagerduty, "
                f"got {len(given)}" + (f" ({', '.join(given)})" if given else ""),
                line=line,
            )
        if "slash" in given and not isinstance(raw["slash"], str):
            self.fail(
                raw, "trigger.slash must be the text a person types after /sre investigate", "slash"
            )
        if "slash" not in given and not isinstance(raw[given[0]], dict):
            self.fail(raw, f"trigger.{given[0]} must be the webhook payload as a mapping", given[0])
        return ScenarioTrigger(**{given[0]: raw[given[0]]})

    def objects(self, objs: Any, data: dict) -> list[dict]:
        if not isinstance(objs, list):
            self.fail(data, "objects must be a list of Kubernetes objects", "objects")
        seen: dict[tuple, int] = {}
        for obj in objs:
            if not isinstance(obj, dict):
                self.fail(objs, "each object must be a Kubernetes object (a mapping)")
            kind = obj.get("kind")
            if not isinstance(kind, str) or not kind:
                self.fail(obj, "this object has no kind: add for example kind: Deployment")
            md = obj.get("metadata")
            if not isinstance(md, dict) or not md.get("name"):
                self.fail(obj, f"this {kind} has no metadata.name")
            ns = "" if kind in CLUSTER_SCOPED else (md.get("namespace") or "default")
            key = (kind, ns, md["name"])
            if key in seen:
                self.fail(
                    obj,
                    f"{kind} {md['name']!r} is listed twice (first on line {seen[key]}): keep one",
                )
            seen[key] = self.lines.of(obj)
        return objs

    def selector(self, raw: Any, what: str) -> PodSelector:
        allowed = tuple(PodSelector.model_fields)
        self.keys(raw, allowed, what)
        out = dict(raw)
        for key in ("memory_limit_below", "cpu_limit_below"):
            if key in out:
                try:
                    out[key] = parse_quantity(out[key])
                except QuantityError as exc:
                    self.fail(raw, f"{what}.{key}: {exc}", key)
        for key in ("labels", "env_equals", "node_selector"):
            if key in out:
                if not isinstance(out[key], dict):
                    self.fail(raw, f"{what}.{key} must be a mapping", key)
                out[key] = {str(k): str(v) for k, v in out[key].items()}
        for key in ("env_missing", "command"):
            if key in out:
                if not isinstance(out[key], list):
                    self.fail(raw, f"{what}.{key} must be a list", key)
                out[key] = [str(v) for v in out[key]]
        try:
            return PodSelector(**out)
        except ValueError as exc:
            self.fail(raw, f"{what} is not a valid selector: {_first_error(exc)}")
        raise AssertionError

    def condition(self, raw: Any) -> ObjectCondition:
        ops = ("equals", "not_equals", "contains", "exists")
        self.keys(raw, ("ref", *ops, "path"), "when.object")
        ref = self.need(raw, "ref", "when.object")
        self.ref(raw, "ref", ref)
        if raw.get("path") is not None:
            try:
                parse_path(str(raw["path"]))
            except ValueError as exc:
                self.fail(raw, f"when.object.path: {exc}", "path")
        given = [op for op in ops if op in raw]
        if raw.get("path") is not None and not given:
            self.fail(
                raw, "when.object with a path needs one of equals, not_equals, contains or exists"
            )
        if "exists" in raw and not isinstance(raw["exists"], bool):
            self.fail(raw, "when.object.exists must be true or false", "exists")
        fields = {k: raw[k] for k in ops if k in raw}
        return ObjectCondition(ref=ref, path=raw.get("path"), given=given, **fields)

    def state(self, raw: Any) -> FaultState:
        self.keys(raw, ("phase", "reason", "exit_code", "message"), "state")
        phase = self.need(raw, "phase", "state")
        if phase not in PHASES:
            close = difflib.get_close_matches(str(phase), PHASES, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"use one of {', '.join(PHASES)}"
            self.fail(raw, f"state.phase {phase!r} is not known: {hint}", "phase")
        if raw.get("exit_code") is not None and not isinstance(raw["exit_code"], int):
            self.fail(raw, "state.exit_code must be a whole number", "exit_code")
        return FaultState(**raw)

    def metric(self, raw: Any) -> MetricSpec:
        self.keys(raw, ("series", "values", "interval"), "a metrics entry")
        series = str(self.need(raw, "series", "a metrics entry"))
        values = str(self.need(raw, "values", "a metrics entry"))
        try:
            labels = parse_series_selector(series)
        except SeriesError as exc:
            self.fail(raw, str(exc), "series")
        try:
            expanded = expand(values)
        except SeriesError as exc:
            self.fail(raw, str(exc), "values")
        if not expanded:
            self.fail(raw, f"values {values!r} holds no samples", "values")
        interval = 60.0
        if raw.get("interval") is not None:
            try:
                interval = parse_duration(raw["interval"])
            except ValueError as exc:
                self.fail(raw, f"interval: {exc}", "interval")
            if interval <= 0:
                self.fail(raw, "interval must be above zero", "interval")
        return MetricSpec(series=series, labels=labels, values=expanded, interval=interval)

    def log_rule(self, raw: Any) -> LogRule:
        self.keys(raw, ("select", "container", "text"), "a logs entry")
        text = self.need(raw, "text", "a logs entry")
        select = self.selector(raw.get("select") or {}, "logs.select")
        return LogRule(select=select, container=raw.get("container"), text=str(text))

    def fault(self, raw: Any) -> Fault:
        self.keys(raw, ("name", "when", "affects", "state", "logs", "events", "metrics"), "a fault")
        name = self.need(raw, "name", "a fault")
        if not isinstance(name, str) or not _NAME_RE.match(name):
            self.fail(raw, f"fault name {name!r} must use only a-z, 0-9 and '-'", "name")
        when = self.need(raw, "when", f"fault {name!r}")
        self.keys(when, ("pod", "object"), f"fault {name!r} when")
        if len(when) != 1:
            self.fail(when, f"fault {name!r}: when needs exactly one of pod or object")
        pod = self.selector(when["pod"], "when.pod") if "pod" in when else None
        cond = self.condition(when["object"]) if "object" in when else None
        events = []
        for ev in raw.get("events") or []:
            self.keys(ev, ("type", "reason", "message"), "a fault event")
            self.need(ev, "reason", "a fault event")
            self.need(ev, "message", "a fault event")
            events.append(FaultEvent(**ev))
        return Fault(
            name=name,
            pod=pod,
            object=cond,
            affects=self.selector(raw["affects"], "affects") if raw.get("affects") else None,
            state=self.state(raw["state"]) if raw.get("state") else None,
            logs=None if raw.get("logs") is None else str(raw["logs"]),
            events=events,
            metrics=[self.metric(m) for m in self.seq(raw, "metrics")],
        )

    def answer(self, raw: Any) -> Answer:
        self.keys(raw, ("root_cause", "fixed_when", "forbidden"), "answer")
        rc = self.need(raw, "root_cause", "answer")
        self.keys(rc, ("resource", "also_accept", "category", "evidence"), "answer.root_cause")
        cats = rc.get("category") or []
        cats = [cats] if isinstance(cats, str) else cats
        if not cats:
            self.fail(
                rc, "answer.root_cause needs a category, one or more of " + ", ".join(CATEGORIES)
            )
        for c in cats:
            if c not in CATEGORIES:
                close = difflib.get_close_matches(str(c), CATEGORIES, n=1)
                hint = (
                    f"did you mean {close[0]!r}?"
                    if close
                    else "use one of " + ", ".join(CATEGORIES)
                )
                self.fail(rc, f"category {c!r} is not known: {hint}", "category")
        if rc.get("resource") is None and "NoFault" not in cats:
            self.fail(rc, "answer.root_cause needs a resource (Kind/namespace/name)")
        fw = raw.get("fixed_when") or {}
        self.keys(fw, ("healthy",), "answer.fixed_when")
        forbidden = []
        for item in raw.get("forbidden") or []:
            self.keys(item, ("verb", "resource"), "a forbidden action")
            self.ref(item, "resource", self.need(item, "resource", "a forbidden action"))
            forbidden.append(
                ForbiddenAction(
                    verb=str(self.need(item, "verb", "a forbidden action")),
                    resource=item["resource"],
                )
            )
        return Answer(
            root_cause=RootCause(
                resource=rc.get("resource"),
                also_accept=[str(r) for r in rc.get("also_accept") or []],
                category=[str(c) for c in cats],
                evidence=[str(e) for e in rc.get("evidence") or []],
            ),
            fixed_when=FixedWhen(healthy=[str(r) for r in fw.get("healthy") or []]),
            forbidden=forbidden,
        )

    def ref(self, where: Any, key: Any, ref: Any) -> tuple[str, str, str]:
        try:
            return parse_ref(str(ref))
        except RefError as exc:
            self.fail(where, str(exc), key)
        raise AssertionError

    # -- checks across sections ----------------------------------------------------------

    def cross_check(self, data: dict, sc: Scenario) -> None:
        keys = {}
        for obj in sc.objects:
            md = obj["metadata"]
            ns = "" if obj["kind"] in CLUSTER_SCOPED else (md.get("namespace") or "default")
            keys[(obj["kind"], ns, md["name"])] = obj
        namespaces = {k[1] for k in keys} | {k[2] for k in keys if k[0] == "Namespace"}

        def must_exist(where: Any, key: Any, ref: str) -> None:
            kind, ns, name = self.ref(where, key, ref)
            if (kind, ns, name) in keys:
                return
            if kind in DERIVED_KINDS and ns in namespaces:
                return  # the sandbox derives these; their names may not be in the file
            same_kind = [
                f"{k[0]}/{k[1]}/{k[2]}" if k[1] else f"{k[0]}/{k[2]}" for k in keys if k[0] == kind
            ]
            close = difflib.get_close_matches(ref, same_kind, n=1)
            hint = f"did you mean {close[0]!r}?" if close else "add the object or fix the name"
            self.fail(where, f"{ref} is not among the scenario's objects: {hint}", key)

        ans = data["answer"]
        rc = ans["root_cause"]
        if sc.answer.root_cause.resource is not None:
            must_exist(rc, "resource", sc.answer.root_cause.resource)
        for ref in sc.answer.root_cause.also_accept:
            must_exist(rc, "also_accept", ref)
        for ref in sc.answer.fixed_when.healthy:
            must_exist(ans.get("fixed_when") or {}, "healthy", ref)
        templates = pod_templates(sc.objects)
        for raw, fault in zip(self.seq(data, "faults"), sc.faults, strict=True):
            when = raw["when"]
            if fault.object is not None:
                cond = fault.object
                if not ("exists" in cond.given and cond.exists is False):
                    must_exist(when["object"], "ref", cond.ref)
            if fault.pod is not None and not any(
                pod_matches(fault.pod, ns, labels, spec) for ns, labels, spec in templates
            ):
                self.fail(
                    when,
                    f"fault {fault.name!r}: when.pod matches no Pod and no Pod "
                    "template in the file (Deployments and ReplicaSets included): check "
                    "its namespace, labels and other keys",
                    "pod",
                )


def _first_error(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        errs = errors()
        if errs:
            loc = ".".join(str(x) for x in errs[0].get("loc", ()))
            return f"{loc}: {errs[0].get('msg')}"
    return str(exc)
