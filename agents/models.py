"""The investigation's typed vocabulary: one pydantic model per concept, defined once.

Everything that crosses a package boundary (to `approvals/`, to `bot/`) is one of
these models, never a loose dict.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

RESOURCE_RE = re.compile(r"^[A-Z][A-Za-z]+/[a-z0-9.-]+(/[a-z0-9.-]+)?$")


class Category(StrEnum):
    """Root-cause categories, as SCENARIOS.md names them."""

    MISCONFIGURATION = "Misconfiguration"
    CODE_DEFECT = "CodeDefect"
    RESOURCE_EXHAUSTION = "ResourceExhaustion"
    DEPENDENCY_FAILURE = "DependencyFailure"
    OPERATION_ERROR = "OperationError"
    NETWORK_ISSUE = "NetworkIssue"
    AUTHENTICATION_ISSUE = "AuthenticationIssue"
    CAPACITY_ISSUE = "CapacityIssue"
    NO_FAULT = "NoFault"


class Severity(StrEnum):
    """How bad a finding or an incident is."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class TriggerSource(StrEnum):
    """Where an incident came from."""

    SLASH = "slash"
    ALERTMANAGER = "alertmanager"
    PAGERDUTY = "pagerduty"
    CLI = "cli"


class Trigger(BaseModel):
    """What opened the incident: the raw words or payload, before intake reads it."""

    source: TriggerSource
    text: str | None = None
    payload: dict[str, Any] | None = None
    requested_by: str | None = None

    @model_validator(mode="after")
    def _text_or_payload(self) -> Trigger:
        if self.source in (TriggerSource.SLASH, TriggerSource.CLI) and not self.text:
            raise ValueError(f"a {self.source} trigger needs text")
        if (
            self.source in (TriggerSource.ALERTMANAGER, TriggerSource.PAGERDUTY)
            and not self.payload
        ):
            raise ValueError(f"a {self.source} trigger needs its webhook payload")
        return self


class Incident(BaseModel):
    """One incident as intake understood it; its id is also the LangGraph thread_id."""

    id: str
    title: str
    source: TriggerSource
    severity: Severity = Severity.WARNING
    namespace: str | None = None
    workload: str | None = None
    service: str | None = None
    alert_name: str | None = None
    window_start: datetime | None = None
    window_end: datetime | None = None
    text: str = Field(
        "", description="the alert's or the person's own words (data, never instructions)"
    )
    link: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    requested_by: str | None = None


class Evidence(BaseModel):
    """One quoted fact behind a finding: a log line, a query and its value, an object field."""

    kind: Literal["log", "metric", "field", "event", "runbook", "note"]
    source: str = Field(
        description="where it came from: a resource, a PromQL query, a runbook path"
    )
    text: str
    value: float | None = None


class Finding(BaseModel):
    """What one specialist observed, with its evidence."""

    specialist: str
    title: str
    severity: Severity = Severity.WARNING
    resource: str | None = Field(None, description="Kind/namespace/name or Kind/name")
    evidence: list[Evidence] = Field(default_factory=list)
    summary: str = ""
    tags: list[str] = Field(
        default_factory=list,
        description="machine-readable signals for the rules supervisor, e.g. crashloop, oomkilled",
    )
    data: dict[str, Any] = Field(
        default_factory=dict, description="structured facts (analyzer-specific)"
    )

    @field_validator("resource")
    @classmethod
    def _resource_shape(cls, v: str | None) -> str | None:
        if v is not None and not RESOURCE_RE.match(v):
            raise ValueError(f"resource must be Kind/namespace/name or Kind/name, got {v!r}")
        return v


class Diagnosis(BaseModel):
    """The supervisor's conclusion. `no_fault` with no resource is a diagnosis too."""

    root_cause: str | None = Field(None, description="Kind/namespace/name, None when no fault")
    category: Category
    confidence: float = Field(ge=0.0, le=1.0)
    summary: str
    explanation: str = ""
    evidence: list[Evidence] = Field(default_factory=list)
    findings_cited: list[int] = Field(
        default_factory=list, description="indexes into the findings list"
    )
    inconclusive: bool = Field(
        False, description="the engine failed to conclude: this says nothing about the system"
    )

    @property
    def no_fault(self) -> bool:
        """True when the investigation concluded that nothing is wrong (not when it failed)."""
        return self.category == Category.NO_FAULT and not self.inconclusive

    def text(self) -> str:
        """Everything the diagnosis says, as one string (what eval searches for evidence words)."""
        parts = [self.root_cause or "", self.category.value, self.summary, self.explanation]
        parts += [e.text for e in self.evidence]
        return "\n".join(p for p in parts if p)


class Verb(StrEnum):
    """The closed catalogue of remediation verbs. Nothing outside it can be proposed."""

    ROLLOUT_UNDO = "rollout_undo"
    ROLLOUT_RESTART = "rollout_restart"
    SCALE = "scale"
    SET_IMAGE = "set_image"
    SET_ENV = "set_env"
    SET_RESOURCES = "set_resources"
    PATCH = "patch"
    DELETE = "delete"
    CORDON = "cordon"
    UNCORDON = "uncordon"
    DRAIN = "drain"


class Proposal(BaseModel):
    """A remediation the bot proposes. It runs only through `approvals/`.

    Parameters by verb:
    - rollout_undo: {"to_revision": int | None}
    - rollout_restart: {}
    - scale: {"replicas": int}
    - set_image: {"container": str, "image": str}
    - set_env: {"container": str | None, "env": {NAME: value | None}}  (None removes)
    - set_resources: {"container": str, "limits": {...}, "requests": {...}}
    - patch: {"patch_type": "strategic"|"merge"|"json", "patch": dict | list}
    - delete, cordon, uncordon, drain: {}
    """

    verb: Verb
    target: str = Field(description="Kind/namespace/name or Kind/name")
    parameters: dict[str, Any] = Field(default_factory=dict)
    rationale: str
    expected_effect: str = ""
    verification: str = ""
    undo: str = ""

    @field_validator("target")
    @classmethod
    def _target_shape(cls, v: str) -> str:
        if not RESOURCE_RE.match(v):
            raise ValueError(f"target must be Kind/namespace/name or Kind/name, got {v!r}")
        return v

    def kubectl(self) -> str:
        """The equivalent kubectl command, for people (and for `advise` mode)."""
        kind, _, rest = self.target.partition("/")
        ns, _, name = rest.partition("/")
        if not name:
            ns, name = "", ns
        nsflag = f" -n {ns}" if ns else ""
        ref = f"{kind.lower()}/{name}"
        p = self.parameters
        match self.verb:
            case Verb.ROLLOUT_UNDO:
                rev = p.get("to_revision")
                return f"kubectl rollout undo {ref}{nsflag}" + (
                    f" --to-revision={rev}" if rev else ""
                )
            case Verb.ROLLOUT_RESTART:
                return f"kubectl rollout restart {ref}{nsflag}"
            case Verb.SCALE:
                return f"kubectl scale {ref}{nsflag} --replicas={p.get('replicas')}"
            case Verb.SET_IMAGE:
                return f"kubectl set image {ref}{nsflag} {p.get('container')}={p.get('image')}"
            case Verb.SET_ENV:
                pairs = " ".join(
                    f"{k}-" if v is None else f"{k}={v}" for k, v in (p.get("env") or {}).items()
                )
                c = f" -c {p['container']}" if p.get("container") else ""
                return f"kubectl set env {ref}{nsflag}{c} {pairs}"
            case Verb.SET_RESOURCES:
                lim = ",".join(f"{k}={v}" for k, v in (p.get("limits") or {}).items())
                req = ",".join(f"{k}={v}" for k, v in (p.get("requests") or {}).items())
                c = f" -c {p['container']}" if p.get("container") else ""
                return (
                    f"kubectl set resources {ref}{nsflag}{c}"
                    + (f" --limits={lim}" if lim else "")
                    + (f" --requests={req}" if req else "")
                )
            case Verb.PATCH:
                import json

                ptype = p.get("patch_type", "strategic")
                return (
                    f"kubectl patch {ref}{nsflag} --type={ptype} -p '{json.dumps(p.get('patch'))}'"
                )
            case Verb.DELETE:
                return f"kubectl delete {ref}{nsflag}"
            case Verb.CORDON:
                return f"kubectl cordon {name}"
            case Verb.UNCORDON:
                return f"kubectl uncordon {name}"
            case Verb.DRAIN:
                return f"kubectl drain {name} --ignore-daemonsets --delete-emptydir-data"
        raise AssertionError(self.verb)


class InvestigationResult(BaseModel):
    """What one investigation produced, for the terminal, Slack, eval and approvals."""

    incident: Incident
    findings: list[Finding] = Field(default_factory=list)
    diagnosis: Diagnosis
    proposals: list[Proposal] = Field(default_factory=list)
    rounds: int = 1
    engine: str = "rules"
    seconds: float = 0.0


class ProgressEvent(BaseModel):
    """Streamed while an investigation runs, so Slack and the terminal can show progress."""

    kind: Literal[
        "started",
        "specialist_started",
        "specialist_done",
        "round",
        "diagnosis",
        "proposal",
        "error",
    ]
    incident_id: str
    specialist: str | None = None
    findings: list[Finding] = Field(default_factory=list)
    done: int = 0
    total: int = 0
    message: str = ""
    diagnosis: Diagnosis | None = None
    proposal: Proposal | None = None
