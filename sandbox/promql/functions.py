"""PromQL functions, each as Prometheus 2.42 computes it (promql/functions.go)."""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sandbox.promql import range_functions
from sandbox.promql.ast import Call, Paren, Selector, Subquery
from sandbox.promql.errors import ExecutionError, Unsupported
from sandbox.promql.histograms import histogram_quantile
from sandbox.promql.values import (
    Labels,
    Matrix,
    Sample,
    Scalar,
    Value,
    Vector,
    check_unique,
    drop_name,
    get,
    go_max,
    go_min,
    labels_of,
    with_label,
)

if TYPE_CHECKING:
    from sandbox.promql.engine import Evaluator

_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


def _round(v: float, to_nearest: float) -> float:
    inverse = 1.0 / to_nearest if to_nearest != 0 else math.copysign(math.inf, to_nearest)
    return math.floor(v * inverse + 0.5) / inverse


def _safe(fn: Callable[[float], float]) -> Callable[[float], float]:
    """Wrap a math function so domain errors give NaN and overflows Inf, as in Go."""

    def wrapped(v: float) -> float:
        try:
            return fn(v)
        except ValueError:
            return math.nan
        except OverflowError:
            return math.inf

    return wrapped


def _ln(v: float) -> float:
    if v == 0:
        return -math.inf
    return math.log(v) if v > 0 else math.nan


def _sgn(v: float) -> float:
    if math.isnan(v):
        return v
    return 1.0 if v > 0 else -1.0 if v < 0 else 0.0


SIMPLE: dict[str, Callable[[float], float]] = {
    "abs": abs,
    "ceil": _safe(lambda v: float(math.ceil(v)) if math.isfinite(v) else v),
    "floor": _safe(lambda v: float(math.floor(v)) if math.isfinite(v) else v),
    "exp": _safe(math.exp),
    "sqrt": _safe(math.sqrt),
    "ln": _ln,
    "log2": lambda v: _ln(v) / math.log(2) if v != 0 else -math.inf,
    "log10": lambda v: _ln(v) / math.log(10) if v != 0 else -math.inf,
    "sgn": _sgn,
    "deg": lambda v: v * 180 / math.pi,
    "rad": lambda v: v * math.pi / 180,
    "sin": _safe(math.sin),
    "cos": _safe(math.cos),
    "tan": _safe(math.tan),
    "asin": _safe(math.asin),
    "acos": _safe(math.acos),
    "atan": _safe(math.atan),
    "sinh": _safe(math.sinh),
    "cosh": _safe(math.cosh),
    "tanh": _safe(math.tanh),
    "asinh": _safe(math.asinh),
    "acosh": _safe(math.acosh),
    "atanh": _safe(math.atanh),
}

_DATE: dict[str, Callable[[datetime], float]] = {
    "minute": lambda d: d.minute,
    "hour": lambda d: d.hour,
    "day_of_week": lambda d: (d.weekday() + 1) % 7,
    "day_of_month": lambda d: d.day,
    "day_of_year": lambda d: d.timetuple().tm_yday,
    "month": lambda d: d.month,
    "year": lambda d: d.year,
    "days_in_month": lambda d: calendar.monthrange(d.year, d.month)[1],
}


def call(ev: Evaluator, node: Call, ts: int) -> Value:
    """Evaluate the function call `node` at `ts` (ms)."""
    name = node.name
    if name in range_functions.OVER_RANGE:
        return _over_range(ev, node, ts)
    if name in SIMPLE:
        fn = SIMPLE[name]
        vec = ev.eval_vector(node.args[0], ts)
        return check_unique([Sample(drop_name(s.labels), fn(s.value)) for s in vec])
    if name in _DATE:
        return _date(ev, node, ts)
    handler = _HANDLERS.get(name)
    if handler is None:
        raise Unsupported(f"the function {name}()")
    return handler(ev, node, ts)


def _over_range(ev: Evaluator, node: Call, ts: int) -> Vector:
    name = node.name
    matrix_arg = next(i for i, a in enumerate(node.args) if _is_range(a))
    matrix = ev.eval(node.args[matrix_arg], ts)
    assert isinstance(matrix, Matrix)
    extra = [ev.eval_scalar(a, ts) for i, a in enumerate(node.args) if i != matrix_arg]
    fn = range_functions.OVER_RANGE[name]
    out: Vector = []
    for series in matrix.series:
        value = fn(series.points, matrix, ts, extra)
        if value is None:
            continue
        labels = series.labels if name == "last_over_time" else drop_name(series.labels)
        out.append(Sample(labels, value))
    return check_unique(out)


def _is_range(node: object) -> bool:
    while isinstance(node, Paren):
        node = node.expr
    return isinstance(node, Subquery) or (isinstance(node, Selector) and node.range_ms is not None)


def _date(ev: Evaluator, node: Call, ts: int) -> Vector:
    fn = _DATE[node.name]
    if not node.args:
        return [Sample((), float(fn(datetime.fromtimestamp(ts / 1000, UTC))))]
    out = []
    for s in ev.eval_vector(node.args[0], ts):
        d = datetime.fromtimestamp(s.value, UTC)
        out.append(Sample(drop_name(s.labels), float(fn(d))))
    return check_unique(out)


def _time(ev: Evaluator, node: Call, ts: int) -> Value:
    return Scalar(ts / 1000)


def _pi(ev: Evaluator, node: Call, ts: int) -> Value:
    return Scalar(math.pi)


def _vector(ev: Evaluator, node: Call, ts: int) -> Value:
    return [Sample((), ev.eval_scalar(node.args[0], ts))]


def _scalar(ev: Evaluator, node: Call, ts: int) -> Value:
    vec = ev.eval_vector(node.args[0], ts)
    return Scalar(vec[0].value if len(vec) == 1 else math.nan)


def _timestamp(ev: Evaluator, node: Call, ts: int) -> Value:
    arg = node.args[0]
    while isinstance(arg, Paren):
        arg = arg.expr
    if isinstance(arg, Selector):
        vec = ev.select_instant(arg, ts)
        return check_unique([Sample(drop_name(s.labels), (s.t or 0) / 1000) for s in vec])
    vec = ev.eval_vector(node.args[0], ts)
    return check_unique([Sample(drop_name(s.labels), ts / 1000) for s in vec])


def _clamp(ev: Evaluator, node: Call, ts: int) -> Value:
    vec = ev.eval_vector(node.args[0], ts)
    if node.name == "clamp":
        lo, hi = ev.eval_scalar(node.args[1], ts), ev.eval_scalar(node.args[2], ts)
        if hi < lo:
            return []
        return check_unique(
            [Sample(drop_name(s.labels), go_max(lo, go_min(hi, s.value))) for s in vec]
        )
    bound = ev.eval_scalar(node.args[1], ts)
    pick = go_min if node.name == "clamp_max" else go_max
    return check_unique([Sample(drop_name(s.labels), pick(bound, s.value)) for s in vec])


def _round_fn(ev: Evaluator, node: Call, ts: int) -> Value:
    vec = ev.eval_vector(node.args[0], ts)
    to = ev.eval_scalar(node.args[1], ts) if len(node.args) > 1 else 1.0
    return check_unique([Sample(drop_name(s.labels), _round(s.value, to)) for s in vec])


def _sort(ev: Evaluator, node: Call, ts: int) -> Value:
    vec = ev.eval_vector(node.args[0], ts)
    desc = node.name == "sort_desc"
    nans = [s for s in vec if math.isnan(s.value)]
    nums = sorted((s for s in vec if not math.isnan(s.value)), key=lambda s: s.value, reverse=desc)
    return nums + nans


def _absent_labels(arg: object) -> Labels:
    """Labels from the selector's equality matchers, as Prometheus's absent() derives them."""
    if not isinstance(arg, Selector):
        return ()
    found: dict[str, str] = {}
    empty: list[str] = []
    for m in arg.matchers:
        if m.name == "__name__":
            continue
        if m.op == "=" and m.name not in found:
            found[m.name] = m.value
        else:
            empty.append(m.name)
    for name in empty:
        found.pop(name, None)
    return labels_of(found)


def _absent(ev: Evaluator, node: Call, ts: int) -> Value:
    v = ev.eval(node.args[0], ts)
    present = bool(v.series) if isinstance(v, Matrix) else bool(v)
    if present:
        return []
    return [Sample(_absent_labels(node.args[0]), 1.0)]


def _go_expand(template: str, match: re.Match[str]) -> str:
    """Go's regexp.Expand: $1, ${1}, $name, ${name}, $$; unknown groups expand to ""."""
    out = []
    i = 0
    while i < len(template):
        c = template[i]
        if c != "$" or i + 1 >= len(template):
            out.append(c)
            i += 1
            continue
        nxt = template[i + 1]
        if nxt == "$":
            out.append("$")
            i += 2
            continue
        if nxt == "{":
            end = template.find("}", i + 2)
            name = template[i + 2 : end] if end != -1 else ""
            if end == -1 or not re.fullmatch(r"[A-Za-z0-9_]+", name):
                out.append(c)
                i += 1
                continue
            i = end + 1
        else:
            m = re.match(r"[A-Za-z0-9_]+", template[i + 1 :])
            if m is None:
                out.append(c)
                i += 1
                continue
            name = m.group(0)
            i += 1 + len(name)
        out.append(_group(match, name))
    return "".join(out)


def _group(match: re.Match[str], name: str) -> str:
    try:
        key: int | str = int(name) if name.isdigit() else name
        return match.group(key) or ""
    except IndexError:  # an unknown group expands to "", as in Go
        return ""


def _label_replace(ev: Evaluator, node: Call, ts: int) -> Value:
    vec = ev.eval_vector(node.args[0], ts)
    dst, repl, src, regex = (_string(ev, a, ts) for a in node.args[1:5])
    try:
        pattern = re.compile(f"^(?:{regex})$")
    except re.error as exc:
        raise ExecutionError(f'invalid regular expression in label_replace(): "{regex}"') from exc
    if not _LABEL_NAME.match(dst):
        raise ExecutionError(f'invalid destination label name in label_replace(): "{dst}"')
    out = []
    for s in vec:
        m = pattern.match(get(s.labels, src))
        if m is None:
            out.append(Sample(s.labels, s.value))
            continue
        out.append(Sample(with_label(s.labels, dst, _go_expand(repl, m)), s.value))
    return check_unique(out)


def _label_join(ev: Evaluator, node: Call, ts: int) -> Value:
    vec = ev.eval_vector(node.args[0], ts)
    dst, sep, *srcs = (_string(ev, a, ts) for a in node.args[1:])
    if not _LABEL_NAME.match(dst):
        raise ExecutionError(f'invalid destination label name in label_join(): "{dst}"')
    out = [
        Sample(with_label(s.labels, dst, sep.join(get(s.labels, n) for n in srcs)), s.value)
        for s in vec
    ]
    return check_unique(out)


def _string(ev: Evaluator, node: object, ts: int) -> str:
    v = ev.eval(node, ts)  # type: ignore[arg-type]
    return str(getattr(v, "value", ""))


def _histogram_quantile(ev: Evaluator, node: Call, ts: int) -> Value:
    q = ev.eval_scalar(node.args[0], ts)
    return check_unique(histogram_quantile(q, ev.eval_vector(node.args[1], ts)))


_HANDLERS: dict[str, Callable[[Evaluator, Call, int], Value]] = {
    "time": _time,
    "pi": _pi,
    "vector": _vector,
    "scalar": _scalar,
    "timestamp": _timestamp,
    "clamp": _clamp,
    "clamp_min": _clamp,
    "clamp_max": _clamp,
    "round": _round_fn,
    "sort": _sort,
    "sort_desc": _sort,
    "absent": _absent,
    "absent_over_time": _absent,
    "label_replace": _label_replace,
    "label_join": _label_join,
    "histogram_quantile": _histogram_quantile,
}
