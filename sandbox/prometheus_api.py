"""Prometheus's HTTP API (v1), served from a SeriesSource by the sandbox's PromQL engine.

`handle(source, method, path, query, body)` answers one request the way a
Prometheus 2.42 started with `--web.route-prefix=/prometheus` would: the same
paths, GET and form-encoded POST, `time`/`start`/`end` as unix seconds or
RFC 3339, `step` as seconds or a duration, and the same JSON shapes, number
formatting and error types. The HTTP server (sandbox/server.py) owns sockets;
this module only maps a request to a response.
"""

from __future__ import annotations

import json
import math
import re
import time
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

import promql_parser

from sandbox.promql import (
    BadData,
    Matrix,
    PromQLError,
    Scalar,
    SeriesSource,
    String,
    instant_query,
    range_query,
)
from sandbox.promql.ast import Selector, parse
from sandbox.promql.values import Labels, labels_of

PREFIX = "/prometheus"
VERSION = "2.42.0"
# Without start/end, the metadata endpoints look this far back (Prometheus: all time).
DEFAULT_METADATA_WINDOW_S = 24 * 3600
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_JSON = {"Content-Type": "application/json"}

Response = tuple[int, dict[str, str], bytes]


def now_of(source: object) -> float:
    """The source's current time: a World's clock, a static source's `now_ts()`, else wall time."""
    clock = getattr(source, "clock", None)
    if clock is not None and hasattr(clock, "now_ts"):
        return float(clock.now_ts())
    if hasattr(source, "now_ts"):
        return float(source.now_ts())  # type: ignore[attr-defined]
    return time.time()


def format_value(v: float) -> str:
    """A sample value as Prometheus writes it: shortest round-trip digits, +Inf/-Inf/NaN."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    a = abs(v)
    text = repr(float(v))
    if a != 0 and (a < 1e-6 or a >= 1e21):
        # Go's 'e' format: mantissa digits, exponent with a sign and at least two digits.
        mantissa, _, exp = f"{Decimal(text):e}".partition("e")
        mantissa = mantissa.rstrip("0").rstrip(".") if "." in mantissa else mantissa
        sign = "-" if exp.startswith("-") else "+"
        return f"{mantissa}e{sign}{exp.lstrip('+-').zfill(2)}"
    if "e" in text or "E" in text:
        text = format(Decimal(text), "f")
    return text[:-2] if text.endswith(".0") else text


def _ts(ms: int) -> int | float:
    """A timestamp in seconds as the JSON number Prometheus writes (ms precision)."""
    return ms // 1000 if ms % 1000 == 0 else ms / 1000


def _ok(data: Any) -> Response:
    return 200, dict(_JSON), json.dumps({"status": "success", "data": data}).encode()


def _error(status: int, error_type: str, message: str) -> Response:
    body = {"status": "error", "errorType": error_type, "error": message}
    return status, dict(_JSON), json.dumps(body).encode()


def parse_time(text: str, param: str) -> float:
    """A time parameter: unix seconds (rounded to ms, as Prometheus) or RFC 3339."""
    try:
        f = float(text)
        if math.isfinite(f):
            return round(f * 1000) / 1000
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        pass
    raise BadData(f'invalid parameter "{param}": cannot parse "{text}" to a valid timestamp')


def parse_step(text: str) -> float:
    """A duration parameter: float seconds or a Prometheus duration (`15s`, `1m30s`)."""
    try:
        f = float(text)
        if math.isfinite(f):
            return f
    except ValueError:
        pass
    try:
        return promql_parser.parse_duration(text).total_seconds()
    except (ValueError, OverflowError):
        raise BadData(
            f'invalid parameter "step": cannot parse "{text}" to a valid duration'
        ) from None


def _metric(labels: Labels) -> dict[str, str]:
    return dict(labels)


def _query(source: SeriesSource, form: dict[str, list[str]]) -> Response:
    q = _first(form, "query")
    ts = parse_time(_first(form, "time"), "time") if _has(form, "time") else now_of(source)
    ms = round(ts * 1000)
    value = instant_query(source, q, ts)
    if isinstance(value, Scalar):
        return _ok({"resultType": "scalar", "result": [_ts(ms), format_value(value.value)]})
    if isinstance(value, String):
        return _ok({"resultType": "string", "result": [_ts(ms), value.value]})
    if isinstance(value, Matrix):
        result = [
            {
                "metric": _metric(s.labels),
                "values": [[_ts(t), format_value(v)] for t, v in s.points],
            }
            for s in sorted(value.series, key=lambda s: s.labels)
        ]
        return _ok({"resultType": "matrix", "result": result})
    result = [
        {"metric": _metric(s.labels), "value": [_ts(ms), format_value(s.value)]} for s in value
    ]
    return _ok({"resultType": "vector", "result": result})


def _query_range(source: SeriesSource, form: dict[str, list[str]]) -> Response:
    start = parse_time(_first(form, "start"), "start")
    end = parse_time(_first(form, "end"), "end")
    step = parse_step(_first(form, "step"))
    res = range_query(source, _first(form, "query"), start, end, step)
    result = [
        {"metric": _metric(s.labels), "values": [[_ts(t), format_value(v)] for t, v in s.points]}
        for s in res.series
    ]
    return _ok({"resultType": "matrix", "result": result})


def _window(source: SeriesSource, form: dict[str, list[str]]) -> tuple[float, float]:
    end = parse_time(_first(form, "end"), "end") if _has(form, "end") else now_of(source)
    if _has(form, "start"):
        start = parse_time(_first(form, "start"), "start")
    else:
        start = end - DEFAULT_METADATA_WINDOW_S
    return start, end


def _selectors(texts: list[str]) -> list[Selector]:
    out = []
    for text in texts:
        try:
            node = parse(text)
        except BadData as exc:
            raise BadData(f'invalid parameter "match[]": {exc}') from None
        if not isinstance(node, Selector) or node.range_ms is not None:
            raise BadData(f'invalid parameter "match[]": {text!r} is not a series selector')
        out.append(node)
    return out


def _matching_labels(source: SeriesSource, form: dict[str, list[str]]) -> list[Labels]:
    """Label sets of the series in the window that match any `match[]` (all when none)."""
    start, end = _window(source, form)
    selectors = _selectors(form.get("match[]", []))
    found: set[Labels] = set()
    for s in source.series(start, end):
        labels = dict(labels_of(s.labels))
        if not selectors or any(
            all(m.matches(labels.get(m.name, "")) for m in sel.matchers) for sel in selectors
        ):
            found.add(labels_of(labels))
    return sorted(found)


def _series(source: SeriesSource, form: dict[str, list[str]]) -> Response:
    if not form.get("match[]"):
        raise BadData("no match[] parameter provided")
    return _ok([_metric(labels) for labels in _matching_labels(source, form)])


def _labels(source: SeriesSource, form: dict[str, list[str]]) -> Response:
    names = {k for labels in _matching_labels(source, form) for k, _ in labels}
    return _ok(sorted(names))


def _label_values(source: SeriesSource, form: dict[str, list[str]], name: str) -> Response:
    if not _LABEL_NAME.match(name):
        raise BadData(f'invalid label name: "{name}"')
    values = {v for labels in _matching_labels(source, form) for k, v in labels if k == name}
    return _ok(sorted(values))


def _buildinfo() -> Response:
    return _ok(
        {
            "version": VERSION,
            "revision": "sre-bot-sandbox",
            "branch": "sandbox",
            "buildUser": "sre-bot",
            "buildDate": "20260101-00:00:00",
            "goVersion": "go1.19",
        }
    )


def _first(form: dict[str, list[str]], key: str) -> str:
    values = form.get(key)
    return values[0] if values else ""


def _has(form: dict[str, list[str]], key: str) -> bool:
    return bool(form.get(key)) and form[key][0] != ""


def handle(
    source: SeriesSource, method: str, path: str, query: dict[str, list[str]], body: bytes
) -> Response:
    """Answer one Prometheus API request: (status, headers, body)."""
    if path.startswith(PREFIX + "/") or path == PREFIX:
        path = path[len(PREFIX) :]
    method = method.upper()
    if path == "/-/ready" or path == "/-/healthy":
        text = "Prometheus Server is Ready.\n" if path == "/-/ready" else "Prometheus is Healthy.\n"
        return 200, {"Content-Type": "text/plain; charset=utf-8"}, text.encode()
    if method not in ("GET", "POST"):
        return 405, {"Content-Type": "text/plain; charset=utf-8"}, b"Method Not Allowed\n"
    # As Go's ParseForm: the form-encoded body's values come before the URL's.
    form: dict[str, list[str]] = {}
    if method == "POST" and body:
        for k, vs in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items():
            form.setdefault(k, []).extend(vs)
    for k, vs in query.items():
        form.setdefault(k, []).extend(vs)
    try:
        if path == "/api/v1/query":
            return _query(source, form)
        if path == "/api/v1/query_range":
            return _query_range(source, form)
        if path == "/api/v1/series":
            return _series(source, form)
        if path == "/api/v1/labels":
            return _labels(source, form)
        m = re.fullmatch(r"/api/v1/label/([^/]+)/values", path)
        if m:
            return _label_values(source, form, m.group(1))
        if path == "/api/v1/status/buildinfo":
            return _buildinfo()
    except PromQLError as exc:
        return _error(exc.http_status, exc.error_type, str(exc))
    return 404, {"Content-Type": "text/plain; charset=utf-8"}, b"404 page not found\n"
