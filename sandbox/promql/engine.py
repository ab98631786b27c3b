"""Evaluate a PromQL syntax tree over a SeriesSource, with Prometheus 2.x semantics.

Selection follows Prometheus 2.42: an instant selector takes each series' latest
sample in the closed window [t - 5m, t] unless it is a staleness marker; a range
selector takes the samples in [t - range, t], markers dropped. `offset` and `@`
move t. A range query is evaluated step by step, exactly as an instant query at
each step (which is how Prometheus defines it).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Protocol

from sandbox.promql import aggregations, binary, functions
from sandbox.promql.ast import (
    Aggregate,
    Binary,
    Call,
    Negate,
    Node,
    Number,
    Paren,
    Selector,
    StringLit,
    Subquery,
    parse,
)
from sandbox.promql.errors import BadData
from sandbox.promql.values import (
    Labels,
    Matrix,
    RangeSeries,
    Sample,
    Scalar,
    String,
    Value,
    Vector,
    check_unique,
    drop_name,
    labels_of,
)
from sandbox.series import Series, is_stale

LOOKBACK_MS = 5 * 60 * 1000
# A subquery without a step uses the evaluation interval; Prometheus's default is 1m.
DEFAULT_SUBQUERY_STEP_MS = 60 * 1000
MAX_POINTS = 11000


class SeriesSource(Protocol):
    """Anything that can list its series with samples in [start_ts, end_ts] (unix seconds)."""

    def series(self, start_ts: float, end_ts: float) -> list[Series]:
        """Every series with its samples inside the window."""
        ...


@dataclass
class StaticSeriesSource:
    """A fixed list of series, for tests and tools; `now` is its idea of the current time."""

    items: list[Series]
    now: float

    def series(self, start_ts: float, end_ts: float) -> list[Series]:
        """The stored series cut to the window; series without samples there are left out."""
        out = []
        for s in self.items:
            samples = [(t, v) for t, v in s.samples if start_ts <= t <= end_ts]
            if samples:
                out.append(Series(dict(s.labels), samples))
        return out

    def now_ts(self) -> float:
        """The source's current time (unix seconds)."""
        return self.now


@dataclass
class _Stored:
    labels: Labels
    times: list[int]
    values: list[float]


@dataclass
class RangeResult:
    """A range query's result: one series per label set with its (ms, value) points."""

    result_type: str  # always "matrix"
    series: list[RangeSeries]


class Evaluator:
    """Evaluates one query: fetches the series it needs once, then answers `eval(node, ts)`."""

    def __init__(self, source: SeriesSource, node: Node, start_ms: int, end_ms: int) -> None:
        self.start_ms = start_ms
        self.end_ms = end_ms
        self._cache: dict[tuple, list[_Stored]] = {}
        window = _window(node, start_ms, end_ms)
        self._stored: list[_Stored] = []
        if window is not None:
            for s in source.series(window[0] / 1000, window[1] / 1000):
                pts = sorted((round(t * 1000), float(v)) for t, v in s.samples)
                self._stored.append(
                    _Stored(labels_of(s.labels), [p[0] for p in pts], [p[1] for p in pts])
                )

    # --- selection -------------------------------------------------------

    def _matching(self, sel: Selector) -> list[_Stored]:
        key = tuple((m.op, m.name, m.value) for m in sel.matchers)
        if key not in self._cache:
            found = []
            for st in self._stored:
                d = dict(st.labels)
                if all(m.matches(d.get(m.name, "")) for m in sel.matchers):
                    found.append(st)
            self._cache[key] = found
        return self._cache[key]

    def ref_time(self, sel: Selector | Subquery, ts: int) -> int:
        """The time a selector looks at: `@` (or the eval time) minus its offset."""
        if sel.at is None:
            base = ts
        elif sel.at.kind == "start":
            base = self.start_ms
        elif sel.at.kind == "end":
            base = self.end_ms
        else:
            base = sel.at.ms
        return base - sel.offset_ms

    def select_instant(self, sel: Selector, ts: int) -> Vector:
        """Each matching series' latest sample within the lookback window, with its own time."""
        ref = self.ref_time(sel, ts)
        out: Vector = []
        for st in self._matching(sel):
            i = bisect.bisect_right(st.times, ref) - 1
            if i < 0 or st.times[i] < ref - LOOKBACK_MS or is_stale(st.values[i]):
                continue
            out.append(Sample(st.labels, st.values[i], st.times[i]))
        return out

    def select_range(self, sel: Selector, ts: int) -> Matrix:
        """Each matching series' samples in [ref - range, ref], staleness markers dropped."""
        assert sel.range_ms is not None
        ref = self.ref_time(sel, ts)
        lo = ref - sel.range_ms
        series = []
        for st in self._matching(sel):
            a = bisect.bisect_left(st.times, lo)
            b = bisect.bisect_right(st.times, ref)
            pts = [(st.times[i], st.values[i]) for i in range(a, b) if not is_stale(st.values[i])]
            if pts:
                series.append(RangeSeries(st.labels, pts))
        return Matrix(series, lo, ref, sel.range_ms)

    def eval_subquery(self, node: Subquery, ts: int) -> Matrix:
        """The inner expression at every multiple of the step inside [ref - range, ref]."""
        ref = self.ref_time(node, ts)
        step = node.step_ms or DEFAULT_SUBQUERY_STEP_MS
        lo = ref - node.range_ms
        t = step * (lo // step)
        if t < lo:
            t += step
        by_labels: dict[Labels, list[tuple[int, float]]] = {}
        while t <= ref:
            for s in self.eval_vector(node.expr, t):
                by_labels.setdefault(s.labels, []).append((t, s.value))
            t += step
        series = [RangeSeries(k, pts) for k, pts in by_labels.items()]
        return Matrix(series, lo, ref, node.range_ms)

    # --- evaluation ------------------------------------------------------

    def eval(self, node: Node, ts: int) -> Value:
        """The value of `node` at time `ts` (ms)."""
        if isinstance(node, Number):
            return Scalar(node.value)
        if isinstance(node, StringLit):
            return String(node.value)
        if isinstance(node, Selector):
            if node.range_ms is not None:
                return self.select_range(node, ts)
            return self.select_instant(node, ts)
        if isinstance(node, Paren):
            return self.eval(node.expr, ts)
        if isinstance(node, Subquery):
            return self.eval_subquery(node, ts)
        if isinstance(node, Negate):
            v = self.eval(node.expr, ts)
            if isinstance(v, Scalar):
                return Scalar(-v.value)
            assert isinstance(v, list)
            return check_unique([Sample(drop_name(s.labels), -s.value) for s in v])
        if isinstance(node, Call):
            return functions.call(self, node, ts)
        if isinstance(node, Aggregate):
            return aggregations.aggregate(self, node, ts)
        if isinstance(node, Binary):
            return binary.evaluate(self, node, ts)
        raise AssertionError(f"unknown node {node!r}")

    def eval_vector(self, node: Node, ts: int) -> Vector:
        """Evaluate a node the parser has typed as an instant vector."""
        v = self.eval(node, ts)
        assert isinstance(v, list), v
        return v

    def eval_scalar(self, node: Node, ts: int) -> float:
        """Evaluate a node the parser has typed as a scalar."""
        v = self.eval(node, ts)
        assert isinstance(v, Scalar), v
        return v.value


def _window(node: Node, start_ms: int, end_ms: int) -> tuple[int, int] | None:
    """The time span of samples a query can read, so the source is asked only once."""
    spans: list[tuple[int, int]] = []

    def visit(n: Node, start_ms: int, end_ms: int) -> None:
        if isinstance(n, Subquery):
            lo, hi = _at_span(n, start_ms, end_ms)
            visit(n.expr, lo - n.offset_ms - n.range_ms, hi - n.offset_ms)
            return
        if isinstance(n, Selector):
            lo, hi = _at_span(n, start_ms, end_ms)
            back = n.range_ms if n.range_ms is not None else LOOKBACK_MS
            spans.append((lo - n.offset_ms - back, hi - n.offset_ms))
            return
        for child in _children(n):
            visit(child, start_ms, end_ms)

    visit(node, start_ms, end_ms)
    if not spans:
        return None
    return min(s[0] for s in spans), max(s[1] for s in spans)


def _at_span(n: Selector | Subquery, start_ms: int, end_ms: int) -> tuple[int, int]:
    if n.at is None:
        return start_ms, end_ms
    if n.at.kind == "start":
        return start_ms, start_ms
    if n.at.kind == "end":
        return end_ms, end_ms
    return n.at.ms, n.at.ms


def _children(n: Node) -> list[Node]:
    if isinstance(n, Paren | Negate):
        return [n.expr]
    if isinstance(n, Call):
        return n.args
    if isinstance(n, Aggregate):
        return [n.expr] + ([n.param] if n.param is not None else [])
    if isinstance(n, Binary):
        return [n.lhs, n.rhs]
    return []


def instant_query(source: SeriesSource, query: str, ts: float) -> Value:
    """Evaluate `query` at unix time `ts` (seconds, ms precision)."""
    node = parse(query)
    ms = round(ts * 1000)
    return Evaluator(source, node, ms, ms).eval(node, ms)


def range_query(
    source: SeriesSource, query: str, start: float, end: float, step: float
) -> RangeResult:
    """Evaluate `query` at every step from start to end; one series per label set."""
    if end < start:
        raise BadData("end timestamp must not be before start time")
    if step <= 0:
        raise BadData(
            "zero or negative query resolution step widths are not accepted. Try a positive integer"
        )
    if (end - start) / step > MAX_POINTS:
        raise BadData(
            "exceeded maximum resolution of 11,000 points per timeseries. "
            "Try decreasing the query resolution (?step=XX)"
        )
    node = parse(query)
    start_ms, end_ms, step_ms = round(start * 1000), round(end * 1000), round(step * 1000)
    ev = Evaluator(source, node, start_ms, end_ms)
    by_labels: dict[Labels, list[tuple[int, float]]] = {}
    ts = start_ms
    while ts <= end_ms:
        v = ev.eval(node, ts)
        if isinstance(v, Scalar):
            by_labels.setdefault((), []).append((ts, v.value))
        elif isinstance(v, list):
            for s in v:
                by_labels.setdefault(s.labels, []).append((ts, s.value))
        else:
            kind = "range vector" if isinstance(v, Matrix) else "string"
            raise BadData(
                f'invalid expression type "{kind}" for range query, '
                "must be Scalar or instant Vector"
            )
        ts += step_ms
    series = [RangeSeries(k, pts) for k, pts in sorted(by_labels.items())]
    return RangeResult("matrix", series)
