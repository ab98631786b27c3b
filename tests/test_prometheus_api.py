"""The sandbox's Prometheus HTTP API: request forms, response shapes, and errors."""

from __future__ import annotations

import json
import math
from types import SimpleNamespace
from typing import Any

import pytest

from sandbox.prometheus_api import format_value, handle
from sandbox.promql import StaticSeriesSource
from sandbox.series import Series

NOW = 1_800_000_000.0
SOURCE = StaticSeriesSource(
    [
        Series({"__name__": "up", "job": "api"}, [(NOW - 60 * i, 1.0) for i in range(10, -1, -1)]),
        Series({"__name__": "up", "job": "db"}, [(NOW - 60 * i, 0.0) for i in range(10, -1, -1)]),
        Series({"__name__": "weird", "job": "x"}, [(NOW, math.inf), (NOW - 60, math.nan)]),
    ],
    NOW,
)


def call(path: str, method: str = "GET", body: bytes = b"", source: Any = SOURCE, **params: str):
    status, headers, raw = handle(
        source, method, "/prometheus" + path, {k: [v] for k, v in params.items()}, body
    )
    return (
        status,
        headers,
        json.loads(raw) if headers["Content-Type"] == "application/json" else raw,
    )


def test_instant_query_answers_in_prometheus_json_shape() -> None:
    status, headers, body = call("/api/v1/query", query='up{job="api"}', time=str(NOW))
    assert status == 200 and headers["Content-Type"] == "application/json"
    assert body == {
        "status": "success",
        "data": {
            "resultType": "vector",
            "result": [{"metric": {"__name__": "up", "job": "api"}, "value": [NOW, "1"]}],
        },
    }


def test_query_without_time_is_evaluated_at_the_sources_now() -> None:
    _, _, body = call("/api/v1/query", query="time()")
    assert body["data"] == {"resultType": "scalar", "result": [NOW, str(int(NOW))]}


def test_query_time_defaults_to_a_worlds_clock() -> None:
    class World:
        clock = SimpleNamespace(now_ts=lambda: NOW - 120)

        def series(self, start: float, end: float) -> list[Series]:
            return SOURCE.series(start, end)

    _, _, body = call("/api/v1/query", source=World(), query="time()")
    assert body["data"]["result"] == [NOW - 120, str(int(NOW - 120))]


def test_post_with_a_form_body_answers_like_get() -> None:
    form = f"query=sum(up)&time={NOW}".encode()
    assert call("/api/v1/query", "POST", form) == call(
        "/api/v1/query", query="sum(up)", time=str(NOW)
    )


def test_times_may_be_rfc3339_and_steps_durations() -> None:
    _, _, body = call(
        "/api/v1/query_range",
        query="sum(up)",
        start="2027-01-15T07:50:00Z",
        end="2027-01-15T08:00:00.000Z",
        step="5m",
    )
    assert body["data"]["resultType"] == "matrix"
    assert [p[0] for p in body["data"]["result"][0]["values"]] == [NOW - 600, NOW - 300, NOW]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.0, "1"),
        (0.1, "0.1"),
        (2 / 3, "0.6666666666666666"),
        (1e20, "100000000000000000000"),
        (1e21, "1e+21"),
        (1.5e-7, "1.5e-07"),
        (math.inf, "+Inf"),
        (-math.inf, "-Inf"),
        (math.nan, "NaN"),
    ],
)
def test_values_are_formatted_like_prometheus(value: float, text: str) -> None:
    assert format_value(value) == text


def test_special_values_travel_as_strings() -> None:
    _, _, body = call("/api/v1/query", query="weird", time=str(NOW))
    assert body["data"]["result"][0]["value"][1] == "+Inf"


def test_unsupported_constructs_are_bad_data_naming_the_construct() -> None:
    status, _, body = call("/api/v1/query", query='sort_by_label(up, "job")', time=str(NOW))
    assert status == 400
    assert body["errorType"] == "bad_data"
    assert body["error"] == "the function sort_by_label() is not supported by the sandbox"


def test_execution_errors_are_422() -> None:
    status, _, body = call("/api/v1/query", query="up + ignoring(job) up", time=str(NOW))
    assert (status, body["errorType"]) == (422, "execution")
    assert "many-to-many matching not allowed" in body["error"]


def test_series_labels_and_label_values_honour_match() -> None:
    _, _, series = call("/api/v1/series", **{"match[]": 'up{job="db"}'})
    assert series["data"] == [{"__name__": "up", "job": "db"}]
    _, _, labels = call("/api/v1/labels")
    assert labels["data"] == ["__name__", "job"]
    _, _, values = call("/api/v1/label/job/values", **{"match[]": "up"})
    assert values["data"] == ["api", "db"]


def test_ready_and_buildinfo_answer_like_a_prometheus() -> None:
    status, _, text = call("/-/ready")
    assert (status, text) == (200, b"Prometheus Server is Ready.\n")
    _, _, body = call("/api/v1/status/buildinfo")
    assert body["data"]["version"].startswith("2.")


def test_unknown_paths_are_404_and_other_methods_405() -> None:
    assert handle(SOURCE, "GET", "/prometheus/api/v1/nope", {}, b"")[0] == 404
    assert handle(SOURCE, "DELETE", "/prometheus/api/v1/query", {}, b"")[0] == 405
