"""Metric series over time: baseline samples, replaced by a fault's while that fault is present."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from sandbox.scenario_model import MetricSpec, Scenario
from sandbox.series import Series


@dataclass
class _Group:
    labels: dict[str, str]
    baseline: MetricSpec | None = None
    overrides: list[tuple[str, MetricSpec]] = field(default_factory=list)


def _value(spec: MetricSpec, anchor: float, t: float) -> float | None:
    n = len(spec.values)
    idx = (n - 1) - round((anchor - t) / spec.interval)
    if idx < 0:
        return None
    return spec.values[min(idx, n - 1)]  # past its end, a series keeps its last value


def _first(spec: MetricSpec, anchor: float) -> float:
    return anchor - (len(spec.values) - 1) * spec.interval


class MetricBook:
    """The scenario's series; the last sample of each is at `anchor` (the file's clock, shifted)."""

    def __init__(self, scenario: Scenario, anchor: float) -> None:
        self.anchor = anchor
        self.groups: dict[tuple, _Group] = {}
        for spec in scenario.metrics:
            self._group(spec).baseline = spec
        for fault in scenario.faults:
            for spec in fault.metrics:
                self._group(spec).overrides.append((fault.name, spec))

    def _group(self, spec: MetricSpec) -> _Group:
        key = tuple(sorted(spec.labels.items()))
        if key not in self.groups:
            self.groups[key] = _Group(dict(spec.labels))
        return self.groups[key]

    def series(
        self, start: float, end: float, now: float, present_at: Callable[[str, float], bool]
    ) -> list[Series]:
        """Every series with its samples in [start, end], none later than `now`."""
        out = []
        end = min(end, now)
        for g in self.groups.values():
            specs = ([g.baseline] if g.baseline else []) + [s for _, s in g.overrides]
            step = specs[0].interval
            first = min(_first(s, self.anchor) for s in specs)
            lo = max(start, first)
            k = math.ceil((lo - self.anchor) / step - 1e-9)
            samples = []
            t = self.anchor + k * step
            while t <= end + 1e-9:
                value = None
                for fault_name, spec in g.overrides:
                    if present_at(fault_name, t):
                        value = _value(spec, self.anchor, t)
                        if value is not None:
                            break
                if value is None and g.baseline is not None:
                    value = _value(g.baseline, self.anchor, t)
                if value is not None:
                    samples.append((t, value))
                k += 1
                t = self.anchor + k * step
            if samples:
                out.append(Series(labels=dict(g.labels), samples=samples))
        return out
