"""Aggregation operators (sum, avg, topk, quantile, ...) as Prometheus 2.42 computes them."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from sandbox.promql.ast import Aggregate
from sandbox.promql.errors import ExecutionError, Unsupported
from sandbox.promql.range_functions import quantile
from sandbox.promql.values import (
    Labels,
    Sample,
    Vector,
    keep_only,
    with_label,
    without,
)

if TYPE_CHECKING:
    from sandbox.promql.engine import Evaluator

_SUPPORTED = {
    "sum",
    "avg",
    "min",
    "max",
    "count",
    "group",
    "stddev",
    "stdvar",
    "topk",
    "bottomk",
    "quantile",
    "count_values",
}


def _format_f(v: float) -> str:
    """Go's strconv.FormatFloat(v, 'f', -1, 64), used for count_values' label."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    text = repr(v)
    if "e" in text or "E" in text:
        from decimal import Decimal

        text = format(Decimal(text), "f")
    return text[:-2] if text.endswith(".0") else text


def _group_key(node: Aggregate, labels: Labels) -> Labels:
    if node.by is True:
        return keep_only(labels, node.labels)
    if node.by is False:
        return without(labels, node.labels)
    return ()


def aggregate(ev: Evaluator, node: Aggregate, ts: int) -> Vector:
    """Evaluate an aggregation at `ts`; output groups in first-seen order, as Prometheus."""
    op = node.op
    if op not in _SUPPORTED:
        raise Unsupported(f"the aggregation {op}")
    vec = ev.eval_vector(node.expr, ts)
    if op == "count_values":
        label = str(ev.eval(node.param, ts).value)  # type: ignore[arg-type, union-attr]
        if not label or not (label[0].isalpha() or label[0] == "_"):
            raise ExecutionError(f'invalid label name "{label}"')
        vec = [
            Sample(with_label(_group_key(node, s.labels), label, _format_f(s.value)), s.value)
            for s in vec
        ]
        groups = _groups(vec, lambda labels: labels)
        return [Sample(k, float(len(v))) for k, v in groups.items()]
    param = ev.eval_scalar(node.param, ts) if op in ("topk", "bottomk", "quantile") else 0.0
    groups = _groups(vec, lambda labels: _group_key(node, labels))
    if op in ("topk", "bottomk"):
        return _top(groups, param, op == "topk")
    out: Vector = []
    for key, samples in groups.items():
        values = [s.value for s in samples]
        out.append(Sample(key, _reduce(op, values, param)))
    return out


def _groups(vec: Vector, key_of) -> dict[Labels, list[Sample]]:  # noqa: ANN001
    groups: dict[Labels, list[Sample]] = {}
    for s in vec:
        groups.setdefault(key_of(s.labels), []).append(s)
    return groups


def _reduce(op: str, values: list[float], param: float) -> float:
    match op:
        case "sum":
            return float(sum(values))
        case "count":
            return float(len(values))
        case "group":
            return 1.0
        case "min":
            out = values[0]
            for v in values[1:]:
                if out > v or math.isnan(out):
                    out = v
            return out
        case "max":
            out = values[0]
            for v in values[1:]:
                if out < v or math.isnan(out):
                    out = v
            return out
        case "avg":
            mean, count = values[0], 1.0
            for v in values[1:]:
                count += 1
                if math.isinf(mean):
                    if math.isinf(v) and (mean > 0) == (v > 0):
                        continue
                    if not math.isinf(v) and not math.isnan(v):
                        continue
                mean += v / count - mean / count
            return mean
        case "stddev" | "stdvar":
            count = mean = aux = 0.0
            for v in values:
                count += 1
                delta = v - mean
                mean += delta / count
                aux += delta * (v - mean)
            return aux / count if op == "stdvar" else math.sqrt(aux / count)
        case "quantile":
            return quantile(param, values)
    raise AssertionError(op)


def _top(groups: dict[Labels, list[Sample]], param: float, largest: bool) -> Vector:
    k = int(param) if math.isfinite(param) else 0
    if k < 1:
        return []
    out: Vector = []
    for samples in groups.values():
        # NaN ranks below every number for topk and above it for bottomk, as in Prometheus.
        def rank(s: Sample) -> tuple[int, float]:
            if math.isnan(s.value):
                return (1, 0.0)
            return (0, -s.value if largest else s.value)

        chosen = sorted(samples, key=rank)[:k]
        out.extend(Sample(s.labels, s.value) for s in chosen)
    return out
