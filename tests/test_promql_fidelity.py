"""The sandbox's PromQL answers exactly as a real Prometheus 2.42 does, on the same samples.

The shared scenarios' metrics (baseline overlaid with their faults) and synthetic
counters, gauges and histogram buckets with resets, gaps and NaNs are backfilled
into a real prometheus with promtool. Every query of the corpus is then asked of
both, through the HTTP API, and the answers must agree: same resultType, same
label sets, same timestamps, same values (within float tolerance).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from sandbox.prometheus_api import handle
from sandbox.promql import StaticSeriesSource
from sandbox.series import Series, expand, parse_series_selector
from tests.conftest import SHARED_SCENARIOS
from tests.support.prometheus import RealPrometheus

pytestmark = pytest.mark.xdist_group("real_prometheus")

# The last sample of every series: an hour boundary a few hours back, well inside any block range.
NOW = 1_700_000_000.0 // 3600 * 3600 + 3 * 3600
T_END = NOW - 3 * 3600


def _duration_s(text: str | None) -> float:
    if not text:
        return 60.0
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
    for unit in ("ms", "s", "m", "h", "d"):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * units[unit]
    return float(text)


def _samples(values: str, interval: float) -> dict[float, float]:
    expanded = expand(values)
    first = T_END - interval * (len(expanded) - 1)
    return {first + i * interval: v for i, v in enumerate(expanded) if v is not None}


def scenario_series(folder: Path) -> list[Series]:
    """Each scenario's metrics, faults taken as present throughout (they override the baseline)."""
    out: dict[tuple, dict[float, float]] = {}
    for path in sorted(folder.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text())
        scenario = path.stem
        for m in doc.get("metrics") or []:
            labels = parse_series_selector(m["series"]) | {"scenario": scenario}
            key = tuple(sorted(labels.items()))
            out.setdefault(key, {}).update(_samples(m["values"], _duration_s(m.get("interval"))))
        for fault in doc.get("faults") or []:
            for m in fault.get("metrics") or []:
                labels = parse_series_selector(m["series"]) | {"scenario": scenario}
                key = tuple(sorted(labels.items()))
                out.setdefault(key, {}).update(
                    _samples(m["values"], _duration_s(m.get("interval")))
                )
    return [Series(dict(k), sorted(v.items())) for k, v in out.items()]


SYNTHETIC: list[tuple[str, str, str]] = [
    # A counter reset half-way, a counter with a gap longer than the lookback, a steady counter.
    ('sb_requests_total{job="api",instance="a"}', "0+10x20 5+10x20", "1m"),
    ('sb_requests_total{job="api",instance="b"}', "0+7x10 _x8 80+7x21", "1m"),
    ('sb_requests_total{job="worker",instance="c"}', "100+3x40", "1m"),
    ('sb_temperature{room="x",building="b1"}', "20+0.5x10 25-0.25x69", "30s"),
    ('sb_temperature{room="y",building="b1"}', "18 19 21 17 22 16x75", "30s"),
    ('sb_temperature{room="z",building="b2"}', "30-0.1x80", "30s"),
    ('sb_latency_bucket{job="api",le="0.1"}', "0+5x40", "1m"),
    ('sb_latency_bucket{job="api",le="0.5"}', "0+8x40", "1m"),
    ('sb_latency_bucket{job="api",le="1"}', "0+9x40", "1m"),
    ('sb_latency_bucket{job="api",le="+Inf"}', "0+10x40", "1m"),
    ('sb_latency_bucket{job="worker",le="0.1"}', "0+1x40", "1m"),
    ('sb_latency_bucket{job="worker",le="0.5"}', "0+2x40", "1m"),
    ('sb_latency_bucket{job="worker",le="1"}', "0+6x40", "1m"),
    ('sb_latency_bucket{job="worker",le="+Inf"}', "0+7x40", "1m"),
    ('sb_info{job="api",version="1.2"}', "1x40", "1m"),
    ('sb_info{job="worker",version="2.0"}', "1x40", "1m"),
    ('sb_up{job="api",instance="a"}', "1x40", "1m"),
    ('sb_up{job="api",instance="b"}', "1x20 0x20", "1m"),
    ('sb_up{job="worker",instance="c"}', "1x40", "1m"),
    ('sb_nan{a="1"}', "1 NaN 3 NaN 5x36", "1m"),
    ('sb_nan{a="2"}', "2x40", "1m"),
    ('sb_scrape_15s{job="api"}', "0+15x200", "15s"),
]


def all_series() -> list[Series]:
    """The scenario series plus the synthetic ones."""
    synthetic = [
        Series(parse_series_selector(sel), sorted(_samples(values, _duration_s(iv)).items()))
        for sel, values, iv in SYNTHETIC
    ]
    return scenario_series(SHARED_SCENARIOS) + synthetic


INSTANT_QUERIES = [
    "http_requests_total",
    "rate(http_requests_total[5m])",
    "sum by (service) (rate(http_requests_total[5m]))",
    "sum without (code) (increase(http_requests_total[10m]))",
    'sum by (service) (rate(http_requests_total{code=~"5.."}[5m]))'
    " / sum by (service) (rate(http_requests_total[5m]))",
    "rate(sb_requests_total[5m])",
    "increase(sb_requests_total[7m])",
    "increase(sb_scrape_15s[1m])",
    "rate(sb_scrape_15s[50s])",
    "irate(sb_requests_total[3m])",
    "resets(sb_requests_total[30m])",
    "changes(sb_temperature[20m])",
    "delta(sb_temperature[10m])",
    "idelta(sb_temperature[5m])",
    "deriv(sb_temperature[10m])",
    "predict_linear(sb_temperature[10m], 600)",
    "avg_over_time(sb_temperature[10m])",
    "max_over_time(sb_temperature[10m])",
    "min_over_time(sb_temperature[10m])",
    "sum_over_time(sb_temperature[10m])",
    "count_over_time(sb_requests_total[15m])",
    "last_over_time(sb_temperature[10m])",
    "quantile_over_time(0.9, sb_temperature[10m])",
    "stddev_over_time(sb_temperature[10m])",
    "stdvar_over_time(sb_temperature[10m])",
    "present_over_time(sb_requests_total[5m])",
    "sb_requests_total offset 10m",
    "rate(sb_requests_total[5m] offset 3m)",
    "sb_requests_total - sb_requests_total offset 5m",
    "sum by (job) (sb_requests_total)",
    "avg without (instance) (sb_requests_total)",
    "count(sb_requests_total)",
    "max by (job) (sb_requests_total)",
    "min(sb_temperature)",
    "stddev(sb_temperature)",
    "stdvar by (building) (sb_temperature)",
    "group by (job) (sb_requests_total)",
    "topk(2, sb_requests_total)",
    "bottomk(1, sb_temperature)",
    "topk by (job) (1, sb_requests_total)",
    "quantile(0.5, sb_temperature)",
    'count_values("state", sb_up)',
    "histogram_quantile(0.9, sum by (le, job) (rate(sb_latency_bucket[5m])))",
    "histogram_quantile(0.5, sb_latency_bucket)",
    "sb_requests_total * on(job) group_left(version) sb_info",
    "sb_info * on(job) group_right(version) sb_requests_total",
    "sb_requests_total / ignoring(instance) group_left sum by (job) (sb_requests_total)",
    "sb_requests_total + ignoring(instance) sb_requests_total",
    "sb_up * on(instance, job) sb_requests_total",
    "sb_temperature > 20",
    "sb_temperature > bool 20",
    "20 < sb_temperature",
    "sb_up == 0",
    "sb_requests_total > bool on(job, instance) sb_up",
    "sb_up and on(instance) sb_requests_total",
    "sb_requests_total unless on(instance) (sb_up == 0)",
    "sb_temperature or sb_up",
    'absent(nonexistent{job="x",env=~"p.*"})',
    "absent(sb_up)",
    'label_replace(sb_up, "host", "$1", "instance", "(.*)")',
    'label_replace(sb_up, "host", "${1}-x", "job", "(a)p.*")',
    'label_join(sb_up, "both", "/", "job", "instance")',
    "sort_desc(sb_temperature)",
    "sort(sb_requests_total)",
    "clamp_max(sb_temperature, 20)",
    "clamp(sb_temperature, 17, 21)",
    "round(sb_temperature)",
    "round(sb_temperature, 0.3)",
    "abs(-sb_temperature)",
    "ceil(sb_temperature)",
    "floor(sb_temperature)",
    "sqrt(sb_temperature)",
    "scalar(sum(sb_up))",
    "vector(1)",
    "time()",
    "timestamp(sb_up)",
    "timestamp(sb_up offset 90s)",
    "sb_nan > 0",
    "max(sb_nan)",
    "min(sb_nan)",
    "sb_nan / 0",
    "-sb_nan % 2",
    "1 + 2 * 3 - 2 ^ 3 ^ 2",
    "2 > bool 1",
    "sb_temperature ^ 2 atan2 1",
    "sb_requests_total[3m]",
    "max_over_time(rate(sb_requests_total[5m])[30m:1m])",
    "avg_over_time(sum by (job) (sb_requests_total)[10m:])",
    "rate(sb_requests_total[10m:2m])",
    "min_over_time(sb_temperature[5m:45s] offset 2m)",
    "sb_temperature[3m:50s]",
    "sb_requests_total @ {t_minus_20m}",
    "rate(sb_requests_total[5m] @ {t_minus_20m})",
]

# Eval times: the last sample, an unaligned moment mid-series, and inside the lookback tail.
EVAL_TIMES = {
    "at-last-sample": T_END,
    "mid-series-unaligned": T_END - 17 * 60 - 13.5,
    "early": T_END - 33 * 60 - 7,
    "lookback-tail": T_END + 4 * 60,
}

RANGE_QUERIES = [
    ("rate(http_requests_total[5m])", T_END - 50 * 60, T_END + 6 * 60, "1m"),
    ("sum by (job) (rate(sb_requests_total[2m]))", T_END - 45 * 60, T_END, "37"),
    ("sb_up", T_END - 50 * 60, T_END + 7 * 60, "2m"),
    ("sb_requests_total offset 2m", T_END - 30 * 60, T_END, "90s"),
    (
        "histogram_quantile(0.9, rate(sb_latency_bucket[5m]))",
        T_END - 40 * 60,
        T_END,
        "1m",
    ),
    ("scalar(sum(sb_up))", T_END - 10 * 60, T_END, "1m"),
    ("time()", T_END - 5 * 60, T_END, "60"),
    ("sb_requests_total @ end()", T_END - 10 * 60, T_END, "1m"),
    ("sb_temperature > bool 20", T_END - 30 * 60, T_END, "45s"),
]


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """(real prometheus URL, our static source) over the same samples."""
    series = all_series()
    with RealPrometheus.backfilled(series, tmp_path_factory.mktemp("prom")) as prom:
        yield prom.url, StaticSeriesSource(series, NOW)


def _real(url: str, path: str, params: dict[str, str]) -> tuple[int, dict]:
    r = httpx.get(url + path, params=params, timeout=10)
    return r.status_code, r.json()


def _ours(source: StaticSeriesSource, path: str, params: dict[str, str]) -> tuple[int, dict]:
    import json

    status, headers, body = handle(
        source, "GET", "/prometheus" + path, {k: [v] for k, v in params.items()}, b""
    )
    assert headers["Content-Type"] == "application/json"
    return status, json.loads(body)


def _num(text: str) -> float:
    return float(text.replace("+Inf", "inf"))


def _close(a: str, b: str) -> bool:
    x, y = _num(a), _num(b)
    if math.isnan(x) or math.isnan(y):
        return math.isnan(x) and math.isnan(y)
    return x == y or math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12)


def _points_equal(ours: list, real: list) -> bool:
    return len(ours) == len(real) and all(
        o[0] == r[0] and _close(o[1], r[1]) for o, r in zip(ours, real, strict=True)
    )


def assert_same(query: str, real: tuple[int, dict], ours: tuple[int, dict]) -> None:
    """Equal answers: status and errorType, resultType, label sets, timestamps, values."""
    (real_status, real_body), (our_status, our_body) = real, ours
    assert our_body["status"] == real_body["status"], (query, real_body, our_body)
    assert our_status == real_status, (query, real_body, our_body)
    if real_body["status"] == "error":
        assert our_body["errorType"] == real_body["errorType"]
        return
    rd, od = real_body["data"], our_body["data"]
    assert od["resultType"] == rd["resultType"], query
    if rd["resultType"] in ("scalar", "string"):
        assert od["result"][0] == rd["result"][0]
        assert _close(od["result"][1], rd["result"][1]), (query, rd, od)
        return
    key = "value" if rd["resultType"] == "vector" else "values"

    def by_metric(result: list[dict]) -> dict:
        return {tuple(sorted(item["metric"].items())): item[key] for item in result}

    real_map, our_map = by_metric(rd["result"]), by_metric(od["result"])
    assert sorted(our_map) == sorted(real_map), (query, rd["result"], od["result"])
    assert len(od["result"]) == len(rd["result"]), query
    for metric, real_value in real_map.items():
        if key == "value":
            same = real_value[0] == our_map[metric][0] and _close(our_map[metric][1], real_value[1])
        else:
            same = _points_equal(our_map[metric], real_value)
        assert same, (query, metric, real_value, our_map[metric])
    if query.startswith("sort"):
        assert [i["metric"] for i in od["result"]] == [i["metric"] for i in rd["result"]]


def _format(query: str) -> str:
    return query.replace("{t_minus_20m}", f"{T_END - 1200:.3f}")


@pytest.mark.parametrize("query", INSTANT_QUERIES)
def test_instant_query_matches_real_prometheus_at_every_eval_time(both: Any, query: str) -> None:
    url, source = both
    for when in EVAL_TIMES.values():
        params = {"query": _format(query), "time": f"{when:.3f}"}
        assert_same(
            f"{query} @ {when}",
            _real(url, "/api/v1/query", params),
            _ours(source, "/api/v1/query", params),
        )


@pytest.mark.parametrize(("query", "start", "end", "step"), RANGE_QUERIES)
def test_range_query_matches_real_prometheus(
    both: Any, query: str, start: float, end: float, step: str
) -> None:
    url, source = both
    params = {"query": query, "start": str(start), "end": str(end), "step": step}
    assert_same(
        query,
        _real(url, "/api/v1/query_range", params),
        _ours(source, "/api/v1/query_range", params),
    )


def test_the_corpus_covers_the_tricky_semantics() -> None:
    assert len(INSTANT_QUERIES) + len(RANGE_QUERIES) >= 30
    text = " ".join(INSTANT_QUERIES)
    for construct in ("rate(", "offset", "group_left", "bool", "topk", "histogram_quantile"):
        assert construct in text


def test_series_and_label_endpoints_match_real_prometheus(both: Any) -> None:
    url, source = both
    window = {"start": str(T_END - 3600), "end": str(T_END)}
    for path, params in [
        ("/api/v1/series", {"match[]": "sb_up"} | window),
        ("/api/v1/series", {"match[]": '{__name__=~"sb_(up|info)",job="api"}'} | window),
        ("/api/v1/labels", window),
        ("/api/v1/label/job/values", window),
        ("/api/v1/label/__name__/values", window),
    ]:
        real_status, real_body = _real(url, path, params)
        our_status, our_body = _ours(source, path, params)
        assert (our_status, our_body["status"]) == (real_status, real_body["status"]), path
        data_key = (lambda d: sorted(map(str, d))) if path.endswith("series") else list
        assert data_key(our_body["data"]) == data_key(real_body["data"]), path


def test_the_real_prometheus_serves_the_backfilled_samples(both: Any) -> None:
    url, _ = both
    _, body = _real(url, "/api/v1/query", {"query": "count(sb_up)", "time": str(T_END)})
    assert body["data"]["result"][0]["value"][1] == "3"


ERROR_REQUESTS = [
    ("/api/v1/query", {"query": "sum(", "time": str(T_END)}),
    ("/api/v1/query", {"query": "rate(sb_up)", "time": str(T_END)}),
    ("/api/v1/query", {"query": "sb_up", "time": "yesterday"}),
    (
        "/api/v1/query_range",
        {"query": "sb_up[5m]", "start": str(T_END - 60), "end": str(T_END), "step": "15s"},
    ),
    (
        "/api/v1/query_range",
        {"query": "sb_up", "start": str(T_END), "end": str(T_END - 60), "step": "15s"},
    ),
    (
        "/api/v1/query_range",
        {"query": "sb_up", "start": str(T_END - 60), "end": str(T_END), "step": "0"},
    ),
    (
        "/api/v1/query_range",
        {"query": "sb_up", "start": str(T_END - 60), "end": str(T_END), "step": "fast"},
    ),
    (
        "/api/v1/query_range",
        {"query": "sb_up", "start": str(T_END - 864000), "end": str(T_END), "step": "1"},
    ),
    ("/api/v1/series", {}),
    ("/api/v1/label/not-a-label/values", {}),
]


@pytest.mark.parametrize(("path", "params"), ERROR_REQUESTS)
def test_bad_requests_fail_with_the_same_status_and_error_type(
    both: Any, path: str, params: dict[str, str]
) -> None:
    url, source = both
    real_status, real_body = _real(url, path, params)
    our_status, our_body = _ours(source, path, params)
    assert real_body["status"] == "error"
    assert (our_status, our_body["status"], our_body["errorType"]) == (
        real_status,
        "error",
        real_body["errorType"],
    ), (real_body, our_body)
