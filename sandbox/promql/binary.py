"""Binary operators: arithmetic, comparisons (with and without `bool`), set operators,
and vector matching (`on`/`ignoring`, `group_left`/`group_right`), as in Prometheus 2.42."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from sandbox.promql.ast import Binary
from sandbox.promql.errors import ExecutionError
from sandbox.promql.values import (
    Labels,
    Sample,
    Scalar,
    Value,
    Vector,
    check_unique,
    div,
    drop_name,
    get,
    keep_only,
    render,
    with_label,
    without,
)

if TYPE_CHECKING:
    from sandbox.promql.engine import Evaluator

COMPARISONS = {"==", "!=", ">", "<", ">=", "<="}
SET_OPS = {"and", "or", "unless"}


def _pow(a: float, b: float) -> float:
    try:
        return math.pow(a, b)
    except OverflowError:
        return math.inf if a > 0 or float(b).is_integer() and int(b) % 2 == 0 else -math.inf
    except ValueError:
        if a == 0 and b < 0:
            return math.inf
        return math.nan


def _mod(a: float, b: float) -> float:
    try:
        return math.fmod(a, b)
    except ValueError:
        return math.nan


def _atan2(a: float, b: float) -> float:
    return math.atan2(a, b)


def apply(op: str, lhs: float, rhs: float) -> tuple[float, bool]:
    """The value of `lhs op rhs` and whether the element is kept (comparisons filter)."""
    match op:
        case "+":
            return lhs + rhs, True
        case "-":
            return lhs - rhs, True
        case "*":
            return lhs * rhs, True
        case "/":
            return div(lhs, rhs), True
        case "^":
            return _pow(lhs, rhs), True
        case "%":
            return _mod(lhs, rhs), True
        case "atan2":
            return _atan2(lhs, rhs), True
        case "==":
            return lhs, lhs == rhs
        case "!=":
            return lhs, lhs != rhs
        case ">":
            return lhs, lhs > rhs
        case "<":
            return lhs, lhs < rhs
        case ">=":
            return lhs, lhs >= rhs
        case "<=":
            return lhs, lhs <= rhs
    raise AssertionError(op)


def evaluate(ev: Evaluator, node: Binary, ts: int) -> Value:
    """Evaluate `node` at `ts`."""
    lhs = ev.eval(node.lhs, ts)
    rhs = ev.eval(node.rhs, ts)
    if isinstance(lhs, Scalar) and isinstance(rhs, Scalar):
        value, keep = apply(node.op, lhs.value, rhs.value)
        if node.op in COMPARISONS:
            value = 1.0 if keep else 0.0
        return Scalar(value)
    if isinstance(rhs, Scalar):
        assert isinstance(lhs, list)
        return check_unique(_vector_scalar(node, lhs, rhs.value, swap=False))
    if isinstance(lhs, Scalar):
        assert isinstance(rhs, list)
        return check_unique(_vector_scalar(node, rhs, lhs.value, swap=True))
    assert isinstance(lhs, list) and isinstance(rhs, list)
    if node.op in SET_OPS:
        return _set_op(node, lhs, rhs)
    return _vector_vector(node, lhs, rhs)


def _drops_name(op: str) -> bool:
    return op not in COMPARISONS


def _vector_scalar(node: Binary, vec: Vector, scalar: float, swap: bool) -> Vector:
    out = []
    for s in vec:
        lv, rv = (scalar, s.value) if swap else (s.value, scalar)
        value, keep = apply(node.op, lv, rv)
        if node.op in COMPARISONS and swap:
            value = rv  # comparisons always return the vector's value
        if node.return_bool:
            value, keep = (1.0 if keep else 0.0), True
        if keep:
            labels = s.labels
            if _drops_name(node.op) or node.return_bool:
                labels = drop_name(labels)
            out.append(Sample(labels, value))
    return out


def _signature(node: Binary, labels: Labels) -> Labels:
    if node.on:
        return keep_only(labels, node.matching)
    return without(labels, node.matching)


def _set_op(node: Binary, lhs: Vector, rhs: Vector) -> Vector:
    if node.op == "and":
        right = {_signature(node, s.labels) for s in rhs}
        return [s for s in lhs if _signature(node, s.labels) in right]
    if node.op == "unless":
        right = {_signature(node, s.labels) for s in rhs}
        return [s for s in lhs if _signature(node, s.labels) not in right]
    left = {_signature(node, s.labels) for s in lhs}
    return list(lhs) + [s for s in rhs if _signature(node, s.labels) not in left]


def _result_labels(node: Binary, many: Labels, one: Labels) -> Labels:
    labels = many
    if _drops_name(node.op):
        labels = drop_name(labels)
    if node.card == "one-to-one":
        labels = (
            keep_only(labels, node.matching)
            if node.on
            else tuple(p for p in labels if p[0] not in set(node.matching))
        )
    for name in node.include:
        labels = with_label(labels, name, get(one, name))
    return labels


def _vector_vector(node: Binary, lhs: Vector, rhs: Vector) -> Vector:
    if node.card == "one-to-many":
        lhs, rhs = rhs, lhs
    right: dict[Labels, Sample] = {}
    for s in rhs:
        sig = _signature(node, s.labels)
        if sig in right:
            side = "left" if node.card == "one-to-many" else "right"
            raise ExecutionError(
                f"found duplicate series for the match group {render(sig)} on the {side} "
                f"hand-side of the operation: [{render(s.labels)}, {render(right[sig].labels)}]"
                ";many-to-many matching not allowed: matching labels must be unique on one side"
            )
        right[sig] = s
    matched: dict[Labels, set[Labels]] = {}
    out: Vector = []
    for ls in lhs:
        sig = _signature(node, ls.labels)
        rs = right.get(sig)
        if rs is None:
            continue
        vl, vr = (rs.value, ls.value) if node.card == "one-to-many" else (ls.value, rs.value)
        value, keep = apply(node.op, vl, vr)
        if node.return_bool:
            value = 1.0 if keep else 0.0
        elif not keep:
            continue
        labels = _result_labels(node, ls.labels, rs.labels)
        if node.return_bool:
            labels = drop_name(labels)
        if node.card == "one-to-one":
            if sig in matched:
                raise ExecutionError(
                    "multiple matches for labels: many-to-one matching must be explicit "
                    "(group_left/group_right)"
                )
            matched[sig] = set()
        else:
            seen = matched.setdefault(sig, set())
            if labels in seen:
                raise ExecutionError(
                    "multiple matches for labels: grouping labels must ensure unique matches"
                )
            seen.add(labels)
        out.append(Sample(labels, value))
    return out
