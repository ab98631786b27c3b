"""Functions over a range vector's samples (rate, increase, *_over_time, ...).

Each takes one series' points (ms, value), the Matrix they came from (for the
window's edges), the evaluation time and the scalar arguments, and returns the
output value or None when Prometheus drops the series.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from sandbox.promql.values import Matrix

Points = list[tuple[int, float]]
RangeFn = Callable[[Points, Matrix, int, list[float]], float | None]


def _extrapolated(points: Points, m: Matrix, is_counter: bool, is_rate: bool) -> float | None:
    """Prometheus's extrapolatedRate: the change over the window, extrapolated to its edges."""
    if len(points) < 2:
        return None
    first_t, first_v = points[0]
    last_t, last_v = points[-1]
    result = last_v - first_v
    if is_counter:
        prev = first_v
        for _, v in points[1:]:
            if v < prev:  # a counter reset: the counter restarted from zero
                result += prev
            prev = v
    duration_to_start = (first_t - m.start_ms) / 1000
    duration_to_end = (m.end_ms - last_t) / 1000
    sampled = (last_t - first_t) / 1000
    average = sampled / (len(points) - 1)
    if is_counter and result > 0 and first_v >= 0:
        # Counters cannot go below zero: do not extrapolate past the zero point.
        duration_to_zero = sampled * (first_v / result)
        if duration_to_zero < duration_to_start:
            duration_to_start = duration_to_zero
    threshold = average * 1.1
    interval = sampled
    interval += duration_to_start if duration_to_start < threshold else average / 2
    interval += duration_to_end if duration_to_end < threshold else average / 2
    factor = interval / sampled
    if is_rate:
        factor /= m.range_ms / 1000
    return result * factor


def _instant(points: Points, is_rate: bool) -> float | None:
    """irate / idelta: from the last two samples only."""
    if len(points) < 2:
        return None
    (pt, pv), (lt, lv) = points[-2], points[-1]
    result = lv if is_rate and lv < pv else lv - pv
    if lt == pt:
        return None
    if is_rate:
        result /= (lt - pt) / 1000
    return result


def _linear_regression(points: Points, intercept_ms: int) -> tuple[float, float]:
    n = sum_x = sum_y = sum_xy = sum_x2 = 0.0
    init_y = points[0][1]
    const_y = True
    for i, (t, v) in enumerate(points):
        if const_y and i > 0 and v != init_y:
            const_y = False
        n += 1
        x = (t - intercept_ms) / 1000
        sum_x += x
        sum_y += v
        sum_xy += x * v
        sum_x2 += x * x
    if const_y:
        if math.isinf(init_y):
            return math.nan, math.nan
        return 0.0, init_y
    cov = sum_xy - sum_x * sum_y / n
    var = sum_x2 - sum_x * sum_x / n
    slope = cov / var if var != 0 else math.nan
    return slope, sum_y / n - slope * sum_x / n


def _deriv(points: Points, m: Matrix, ts: int, args: list[float]) -> float | None:
    if len(points) < 2:
        return None
    return _linear_regression(points, points[0][0])[0]


def _predict_linear(points: Points, m: Matrix, ts: int, args: list[float]) -> float | None:
    if len(points) < 2:
        return None
    slope, intercept = _linear_regression(points, ts)
    return slope * args[0] + intercept


def _avg(values: list[float]) -> float:
    mean = 0.0
    count = 0.0
    for v in values:
        count += 1
        if math.isinf(mean):
            if math.isinf(v) and (mean > 0) == (v > 0):
                continue
            if not math.isinf(v) and not math.isnan(v):
                continue
        mean += v / count - mean / count
    return mean


def _variance(values: list[float]) -> float:
    count = mean = aux = 0.0
    for v in values:
        count += 1
        delta = v - mean
        mean += delta / count
        aux += delta * (v - mean)
    return aux / count


def quantile(q: float, values: list[float]) -> float:
    """Prometheus's quantile: linear interpolation between the closest ranks."""
    if not values:
        return math.nan
    if math.isnan(q):
        return math.nan
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    ordered = sorted(values, key=lambda v: (not math.isnan(v), v))
    n = len(ordered)
    rank = q * (n - 1)
    lower = max(0, math.floor(rank))
    upper = min(n - 1, lower + 1)
    weight = rank - math.floor(rank)
    return ordered[lower] * (1 - weight) + ordered[upper] * weight


def _min(values: list[float]) -> float:
    out = values[0]
    for v in values[1:]:
        if v < out or math.isnan(out):
            out = v
    return out


def _max(values: list[float]) -> float:
    out = values[0]
    for v in values[1:]:
        if v > out or math.isnan(out):
            out = v
    return out


def _values(fn: Callable[[list[float]], float]) -> RangeFn:
    return lambda points, m, ts, args: fn([v for _, v in points])


def _resets(values: list[float]) -> float:
    return float(sum(1 for a, b in zip(values, values[1:], strict=False) if b < a))


def _changes(values: list[float]) -> float:
    return float(
        sum(
            1
            for a, b in zip(values, values[1:], strict=False)
            if b != a and not (math.isnan(a) and math.isnan(b))
        )
    )


OVER_RANGE: dict[str, RangeFn] = {
    "rate": lambda p, m, ts, a: _extrapolated(p, m, True, True),
    "increase": lambda p, m, ts, a: _extrapolated(p, m, True, False),
    "delta": lambda p, m, ts, a: _extrapolated(p, m, False, False),
    "irate": lambda p, m, ts, a: _instant(p, True),
    "idelta": lambda p, m, ts, a: _instant(p, False),
    "deriv": _deriv,
    "predict_linear": _predict_linear,
    "resets": _values(_resets),
    "changes": _values(_changes),
    "avg_over_time": _values(_avg),
    "sum_over_time": _values(lambda vs: float(sum(vs))),
    "count_over_time": _values(lambda vs: float(len(vs))),
    "min_over_time": _values(_min),
    "max_over_time": _values(_max),
    "last_over_time": _values(lambda vs: vs[-1]),
    "present_over_time": _values(lambda vs: 1.0),
    "stdvar_over_time": _values(_variance),
    "stddev_over_time": _values(lambda vs: math.sqrt(_variance(vs))),
    "quantile_over_time": lambda p, m, ts, a: quantile(a[0], [v for _, v in p]),
}
