"""Values a PromQL expression evaluates to, and label-set helpers.

Label sets are sorted tuples of (name, value) pairs, so they hash and compare
the way Prometheus's `labels.Labels` do.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sandbox.promql.errors import ExecutionError

Labels = tuple[tuple[str, str], ...]
NAME = "__name__"


def labels_of(mapping: Mapping[str, str]) -> Labels:
    """A label set from a mapping; empty values are dropped as in Prometheus."""
    return tuple(sorted((k, v) for k, v in mapping.items() if v != ""))


def get(labels: Labels, name: str) -> str:
    """The value of label `name`, or "" when absent."""
    for k, v in labels:
        if k == name:
            return v
    return ""


def drop_name(labels: Labels) -> Labels:
    """The label set without `__name__`."""
    return tuple(p for p in labels if p[0] != NAME)


def keep_only(labels: Labels, names: Iterable[str]) -> Labels:
    """Only the labels listed (`by`, `on`)."""
    wanted = set(names)
    return tuple(p for p in labels if p[0] in wanted)


def without(labels: Labels, names: Iterable[str]) -> Labels:
    """The labels not listed, and never `__name__` (`without`, `ignoring`)."""
    unwanted = set(names) | {NAME}
    return tuple(p for p in labels if p[0] not in unwanted)


def with_label(labels: Labels, name: str, value: str) -> Labels:
    """The label set with `name` set to `value` (removed when value is "")."""
    rest = {k: v for k, v in labels if k != name}
    if value != "":
        rest[name] = value
    return labels_of(rest)


def render(labels: Labels) -> str:
    """`{a="b", c="d"}` as Prometheus prints label sets in messages."""
    return "{" + ", ".join(f'{k}="{v}"' for k, v in labels) + "}"


@dataclass
class Sample:
    """One element of an instant vector; `t` is the sample's own time (ms) when selected raw."""

    labels: Labels
    value: float
    t: int | None = None


@dataclass
class Scalar:
    """A scalar result."""

    value: float


@dataclass
class String:
    """A string result."""

    value: str


@dataclass
class RangeSeries:
    """One series of a range vector: raw samples (ms, value) inside the range."""

    labels: Labels
    points: list[tuple[int, float]]


@dataclass
class Matrix:
    """A range vector, with the window it covers (needed for rate's extrapolation)."""

    series: list[RangeSeries]
    start_ms: int  # inclusive lower bound of the window
    end_ms: int  # inclusive upper bound of the window
    range_ms: int
    labels_in_selector: list[tuple[str, str, str]] = field(default_factory=list)


Vector = list[Sample]
Value = Vector | Scalar | String | Matrix


def check_unique(vector: Vector) -> Vector:
    """Raise as Prometheus does when an operation produced two samples with one label set."""
    seen: set[Labels] = set()
    for s in vector:
        if s.labels in seen:
            raise ExecutionError("vector cannot contain metrics with the same labelset")
        seen.add(s.labels)
    return vector


def go_min(a: float, b: float) -> float:
    """Go's math.Min: NaN wins."""
    if math.isnan(a) or math.isnan(b):
        return math.nan
    return min(a, b)


def go_max(a: float, b: float) -> float:
    """Go's math.Max: NaN wins."""
    if math.isnan(a) or math.isnan(b):
        return math.nan
    return max(a, b)


def div(a: float, b: float) -> float:
    """IEEE division, as Go does it (x/0 is ±Inf or NaN, never an exception)."""
    try:
        return a / b
    except ZeroDivisionError:
        if math.isnan(a) or a == 0:
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)
