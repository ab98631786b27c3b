"""The typed shape of a scenario file (SCENARIOS.md), as `sandbox.scenario.load_scenario` returns it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ScenarioTrigger(_Model):
    """How the incident is reported: exactly one of the three sources is set."""

    slash: str | None = None
    alertmanager: dict[str, Any] | None = None
    pagerduty: dict[str, Any] | None = None

    @property
    def source(self) -> str:
        """`slash`, `alertmanager` or `pagerduty`."""
        if self.slash is not None:
            return "slash"
        return "alertmanager" if self.alertmanager is not None else "pagerduty"


class PodSelector(_Model):
    """A selector over one Pod's own spec (`when.pod`, `affects`, `logs[].select`)."""

    namespace: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    image: str | None = None
    env_missing: list[str] = Field(default_factory=list)
    env_equals: dict[str, str] = Field(default_factory=dict)
    memory_limit_below: float | None = None  # bytes
    cpu_limit_below: float | None = None  # cores
    command: list[str] | None = None
    readiness_path: str | None = None
    liveness_path: str | None = None
    node_selector: dict[str, str] = Field(default_factory=dict)
    container: str | None = None


class ObjectCondition(_Model):
    """A condition on one object's field (`when.object`)."""

    ref: str
    path: str | None = None
    equals: Any = None
    not_equals: Any = None
    contains: str | None = None
    exists: bool | None = None
    # Which comparisons the file wrote (None is a legal value to compare with).
    given: list[str] = Field(default_factory=list)


class FaultState(_Model):
    """What affected Pods do."""

    phase: str
    reason: str | None = None
    exit_code: int | None = None
    message: str | None = None


class FaultEvent(_Model):
    """An extra Event for each affected Pod."""

    type: str = "Warning"
    reason: str
    message: str


class MetricSpec(_Model):
    """One series in promtool notation; the last sample is at the scenario's clock."""

    series: str
    labels: dict[str, str]
    values: list[float | None]
    interval: float = 60.0  # seconds


class LogRule(_Model):
    """What matching healthy containers print."""

    select: PodSelector
    container: str | None = None
    text: str


class Fault(_Model):
    """One broken thing: when it holds, and the symptoms it brings."""

    name: str
    pod: PodSelector | None = None
    object: ObjectCondition | None = None
    affects: PodSelector | None = None
    state: FaultState | None = None
    logs: str | None = None
    events: list[FaultEvent] = Field(default_factory=list)
    metrics: list[MetricSpec] = Field(default_factory=list)


class RootCause(_Model):
    """Where the fault is, and what a right diagnosis says."""

    resource: str | None = None
    also_accept: list[str] = Field(default_factory=list)
    category: list[str] = Field(default_factory=list)
    evidence: list[str] = Field(default_factory=list)


class FixedWhen(_Model):
    """What must be healthy, besides every fault being absent."""

    healthy: list[str] = Field(default_factory=list)


class ForbiddenAction(_Model):
    """An action that fails the scenario if executed."""

    verb: str
    resource: str


class Answer(_Model):
    """The answer key `sre-bot eval` scores against."""

    root_cause: RootCause
    fixed_when: FixedWhen = Field(default_factory=FixedWhen)
    forbidden: list[ForbiddenAction] = Field(default_factory=list)


class Scenario(_Model):
    """One broken system, the incident that reports it, and the answer key."""

    name: str
    summary: str = ""
    clock: datetime
    startup_seconds: float = 2.0
    trigger: ScenarioTrigger
    objects: list[dict[str, Any]] = Field(default_factory=list)
    logs: list[LogRule] = Field(default_factory=list)
    metrics: list[MetricSpec] = Field(default_factory=list)
    faults: list[Fault] = Field(default_factory=list)
    answer: Answer
    source_path: Path | None = None
