"""histogram_quantile over classic (le-labelled) buckets, as Prometheus 2.42 computes it."""

from __future__ import annotations

import math

from sandbox.promql.values import NAME, Labels, Sample, Vector, get


def _parse_le(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def bucket_quantile(q: float, buckets: list[tuple[float, float]]) -> float:
    """The q-quantile from (upper bound, cumulative count) buckets."""
    if math.isnan(q):
        return math.nan
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    buckets = sorted(buckets, key=lambda b: b[0])
    if not math.isinf(buckets[-1][0]) or buckets[-1][0] < 0:
        return math.nan
    # Coalesce buckets with the same bound, then force the counts to be monotonic.
    merged: list[list[float]] = []
    for bound, count in buckets:
        if merged and merged[-1][0] == bound:
            merged[-1][1] += count
        else:
            merged.append([bound, count])
    top = -math.inf
    for b in merged:
        if b[1] > top:
            top = b[1]
        elif b[1] < top:
            b[1] = top
    if len(merged) < 2:
        return math.nan
    observations = merged[-1][1]
    if observations == 0:
        return math.nan
    rank = q * observations
    idx = next((i for i in range(len(merged) - 1) if merged[i][1] >= rank), len(merged) - 1)
    if idx == len(merged) - 1:
        return merged[-2][0]
    if idx == 0 and merged[0][0] <= 0:
        return merged[0][0]
    start = 0.0
    end = merged[idx][0]
    count = merged[idx][1]
    if idx > 0:
        start = merged[idx - 1][0]
        count -= merged[idx - 1][1]
        rank -= merged[idx - 1][1]
    return start + (end - start) * (rank / count)


def histogram_quantile(q: float, vector: Vector) -> Vector:
    """One sample per bucket family (labels without `le` and `__name__`)."""
    groups: dict[Labels, tuple[Labels, list[tuple[float, float]]]] = {}
    for s in vector:
        bound = _parse_le(get(s.labels, "le"))
        if bound is None:
            continue
        key = tuple(p for p in s.labels if p[0] != "le")
        if key not in groups:
            out_labels = tuple(p for p in s.labels if p[0] not in ("le", NAME))
            groups[key] = (out_labels, [])
        groups[key][1].append((bound, s.value))
    return [Sample(labels, bucket_quantile(q, b)) for labels, b in groups.values() if b]
