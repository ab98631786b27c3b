"""Engine semantics the fidelity suite cannot backfill: staleness markers, lookback edges, errors."""

from __future__ import annotations

import pytest

from sandbox.promql import BadData, StaticSeriesSource, Unsupported, instant_query, range_query
from sandbox.series import STALE, Series

T = 1_800_000_000.0


def source(*samples: tuple[float, float], name: str = "m") -> StaticSeriesSource:
    return StaticSeriesSource([Series({"__name__": name}, list(samples))], T)


def values(src: StaticSeriesSource, query: str, at: float) -> list[float]:
    return [s.value for s in instant_query(src, query, at)]


def test_a_staleness_marker_ends_the_series_before_the_lookback_does() -> None:
    src = source((T - 120, 1.0), (T - 60, STALE))
    assert values(src, "m", T - 90) == [1.0]
    assert values(src, "m", T) == []


def test_staleness_markers_are_dropped_from_range_vectors() -> None:
    src = source((T - 120, 1.0), (T - 60, STALE), (T, 3.0))
    assert values(src, "count_over_time(m[5m])", T) == [2.0]


def test_lookback_window_includes_a_sample_exactly_five_minutes_old() -> None:
    src = source((T - 300, 7.0))
    assert values(src, "m", T) == [7.0]
    assert values(src, "m", T + 0.001) == []


def test_rate_needs_two_samples_in_the_window() -> None:
    src = source((T - 600, 1.0), (T - 30, 2.0))
    assert values(src, "rate(m[5m])", T) == []


def test_range_query_over_a_range_vector_is_bad_data() -> None:
    with pytest.raises(BadData, match="range vector"):
        range_query(source((T, 1.0)), "m[5m]", T - 60, T, 15)


@pytest.mark.parametrize(
    ("query", "construct"),
    [
        ("double_exponential_smoothing(m[10m], 0.5, 0.5)", "double_exponential_smoothing"),
        ("limitk(1, m)", "limitk"),
        ("histogram_count(m)", "histogram_count"),
    ],
)
def test_unsupported_constructs_name_themselves(query: str, construct: str) -> None:
    with pytest.raises(Unsupported, match=construct) as info:
        instant_query(source((T, 1.0)), query, T)
    assert str(info.value).endswith("is not supported by the sandbox")


def test_syntax_errors_are_bad_data() -> None:
    with pytest.raises(BadData, match="parse error"):
        instant_query(source((T, 1.0)), "sum(", T)
