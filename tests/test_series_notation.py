"""promtool's expanding notation and series selectors, as scenario files use them."""

from __future__ import annotations

import math

import pytest

from sandbox.series import STALE, Series, SeriesError, expand, is_stale, parse_series_selector


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0+600x3", [0, 600, 1200, 1800]),
        ("10-2x2", [10, 8, 6]),
        ("5x2", [5, 5, 5]),
        ("1 2 3", [1, 2, 3]),
        ("_ 1", [None, 1]),
        ("_x3 4", [None, None, None, 4]),
        ("0x40 90+90x1", [0] * 41 + [90, 180]),
        ("1e3 -2.5 .5", [1000, -2.5, 0.5]),
        ("-1+1x2", [-1, 0, 1]),
        ("Inf -Inf", [math.inf, -math.inf]),
        ("", []),
    ],
)
def test_expand_follows_the_promql_test_language(text: str, expected: list[float | None]) -> None:
    assert expand(text) == expected


def test_expand_reads_nan_and_stale_as_distinct_nans() -> None:
    nan, stale, stale2 = expand("NaN stale stalex1")[:3]
    assert nan is not None and math.isnan(nan) and not is_stale(nan)
    assert is_stale(stale) and is_stale(stale2) and is_stale(STALE)
    assert len(expand("stalex1")) == 2


@pytest.mark.parametrize("bad", ["1+x3", "abc", "1x", "1+2", "x3", "_x", "1,2", "{{schema:1}}"])
def test_expand_rejects_malformed_items_naming_them(bad: str) -> None:
    with pytest.raises(SeriesError, match="cannot read series value"):
        expand(bad)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("up", {"__name__": "up"}),
        (
            'http_requests_total{namespace="shop",code="200"}',
            {"__name__": "http_requests_total", "namespace": "shop", "code": "200"},
        ),
        ('m{ a = "x" , b="y", }', {"__name__": "m", "a": "x", "b": "y"}),
        ('{__name__="m",job="j"}', {"__name__": "m", "job": "j"}),
        ('m{path="/a\\"b"}', {"__name__": "m", "path": '/a"b'}),
        ("m{}", {"__name__": "m"}),
    ],
)
def test_series_selector_reads_name_and_labels(text: str, expected: dict[str, str]) -> None:
    assert parse_series_selector(text) == expected


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("", "empty"),
        ('m{a=~"x"}', "label"),
        ('m{a="x" b="y"}', "commas"),
        ('m{a="x"', "expected"),
        ('m{a="x",a="y"}', "twice"),
        ("{}", "neither"),
    ],
)
def test_series_selector_errors_say_what_is_wrong(bad: str, message: str) -> None:
    with pytest.raises(SeriesError, match=message):
        parse_series_selector(bad)


def test_series_exposes_its_metric_name() -> None:
    assert Series({"__name__": "up", "job": "x"}, [(1.0, 1.0)]).name == "up"
