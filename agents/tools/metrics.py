"""Prometheus tools, through its HTTP API with httpx only. Metric names are discovered
(`/api/v1/label/__name__/values`) instead of assumed, so the same tools work on clusters that
name their request counters differently."""

from __future__ import annotations

import math
import time
from typing import Any

import httpx
from pydantic import Field

from agents.tools.base import Tool, ToolArgs, ToolError, ToolResult

TIMEOUT = httpx.Timeout(10.0, connect=3.0)
REQUEST_COUNTERS = [
    "http_requests_total",
    "http_server_requests_total",
    "http_server_requests_seconds_count",
    "requests_total",
    "grpc_server_handled_total",
]
CODE_LABELS = ["code", "status", "status_code", "grpc_code"]
LATENCY_HISTOGRAMS = [
    "http_request_duration_seconds_bucket",
    "http_server_requests_seconds_bucket",
    "request_duration_seconds_bucket",
]


class Prometheus:
    """A small typed client for the Prometheus HTTP API."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    def get(self, path: str, params: dict[str, Any] | list[tuple[str, Any]] | None = None) -> Any:
        """GET an API path and return `data`, or raise ToolError with Prometheus' own message."""
        url = f"{self.base_url}/api/v1/{path}"
        try:
            r = httpx.get(url, params=params, timeout=TIMEOUT)
        except httpx.HTTPError as exc:
            raise ToolError(
                f"Prometheus at {self.base_url} did not answer ({type(exc).__name__}); check SRE_BOT_PROMETHEUS_URL"
            ) from exc
        try:
            body = r.json()
        except ValueError as exc:
            raise ToolError(
                f"Prometheus at {url} answered HTTP {r.status_code} without JSON; is the URL (and its route prefix) right?"
            ) from exc
        if body.get("status") != "success":
            raise ToolError(f"Prometheus: {body.get('errorType')}: {body.get('error')}")
        return body.get("data")

    def now(self) -> float:
        """Prometheus' own current time (its clock, not ours: the two may disagree)."""
        try:
            return self.query("time()")[0]["value"]
        except (ToolError, IndexError):
            return time.time()

    def names(self) -> list[str]:
        """Every metric name Prometheus knows."""
        return list(self.get("label/__name__/values") or [])

    def query(self, expr: str, at: float | None = None) -> list[dict]:
        """Instant query result (vector) as [{metric, value: float}]."""
        params: dict[str, Any] = {"query": expr}
        if at is not None:
            params["time"] = at
        data = self.get("query", params)
        if data.get("resultType") == "scalar":
            return [{"metric": {}, "value": _float(data["result"][1])}]
        return [
            {"metric": s.get("metric", {}), "value": _float(s["value"][1])}
            for s in data.get("result", [])
        ]

    def query_range(
        self, expr: str, minutes: int, step: int = 60, end: float | None = None
    ) -> list[dict]:
        """Range query as [{metric, samples: [(ts, float)]}]."""
        end = end if end is not None else time.time()
        data = self.get(
            "query_range", {"query": expr, "start": end - minutes * 60, "end": end, "step": step}
        )
        return [
            {
                "metric": s.get("metric", {}),
                "samples": [(float(t), _float(v)) for t, v in s.get("values", [])],
            }
            for s in data.get("result", [])
        ]

    def label_names(self, metric: str) -> list[str]:
        """Label names used by one metric."""
        return list(self.get("labels", [("match[]", metric)]) or [])


def _float(v: Any) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def _matchers(namespace: str | None, service: str | None, labels: list[str]) -> str:
    parts = []
    if namespace and "namespace" in labels:
        parts.append(f'namespace="{namespace}"')
    if service:
        key = next((k for k in ("service", "job", "app") if k in labels), None)
        if key:
            parts.append(f'{key}="{service}"')
    return ",".join(parts)


class QueryArgs(ToolArgs):
    query: str = Field(description="PromQL expression")


class RangeArgs(ToolArgs):
    query: str = Field(description="PromQL expression")
    minutes: int = Field(60, ge=1, le=7 * 24 * 60)
    step: int = Field(60, ge=1, description="seconds between points")


class ScopeArgs(ToolArgs):
    namespace: str | None = None
    service: str | None = Field(None, description="service/job/app label value")
    minutes: int = Field(60, ge=5, le=24 * 60)


def error_ratio_series(
    prom: Prometheus, namespace: str | None, service: str | None, minutes: int
) -> dict[str, Any]:
    """Per-service 5xx ratio over time, computed from discovered request counters.

    Returns {"metric", "code_label", "series": [{"labels", "samples": [(ts, ratio)], "total": [...]}]}.
    A window with no traffic counts as ratio 0, so an outage that starts from silence still steps.
    """
    names = set(prom.names())
    metric = next((m for m in REQUEST_COUNTERS if m in names), None)
    if metric is None:
        raise ToolError(
            f"no request counter found (looked for {', '.join(REQUEST_COUNTERS)}); use prom_query with your metric names"
        )
    labels = prom.label_names(metric)
    code = next((c for c in CODE_LABELS if c in labels), None)
    if code is None:
        raise ToolError(f"{metric} has no status-code label (looked for {', '.join(CODE_LABELS)})")
    group = ",".join(k for k in ("namespace", "service", "job") if k in labels) or "instance"
    sel = _matchers(namespace, service, labels)
    err_sel = ",".join(p for p in (sel, f'{code}=~"5.."') if p)
    err_q = f"sum by ({group}) (rate({metric}{{{err_sel}}}[5m]))"
    tot_q = f"sum by ({group}) (rate({metric}{{{sel}}}[5m]))"
    # One end time for both queries, so their samples line up timestamp for timestamp.
    end = prom.now()
    errs = {_key(s["metric"]): s for s in prom.query_range(err_q, minutes, end=end)}
    tots = {_key(s["metric"]): s for s in prom.query_range(tot_q, minutes, end=end)}
    series = []
    for key, tot in tots.items():
        err = dict(errs.get(key, {}).get("samples", []))
        samples = []
        for ts, total in tot["samples"]:
            e = err.get(ts, 0.0)
            e = 0.0 if math.isnan(e) else e
            samples.append(
                (ts, e / total if total and not math.isnan(total) and total > 0 else 0.0)
            )
        series.append({"labels": tot["metric"], "samples": samples, "total": tot["samples"]})
    return {
        "metric": metric,
        "code_label": code,
        "query": f"({err_q}) / ({tot_q})",
        "series": series,
    }


def _key(metric: dict) -> tuple:
    return tuple(sorted(metric.items()))


def _fmt_series(s: dict) -> str:
    vals = [v for _, v in s["samples"]]
    if not vals:
        return f"{s['metric']}: no samples"
    return f"{s['metric']}: first {vals[0]:.4g}, last {vals[-1]:.4g}, min {min(vals):.4g}, max {max(vals):.4g} ({len(vals)} points)"


def build(prometheus_url: str | None) -> list[Tool]:
    """The metrics tools for one Prometheus (tools answer with a clear error when none is set)."""

    def prom() -> Prometheus:
        if not prometheus_url:
            raise ToolError("no Prometheus configured; set SRE_BOT_PROMETHEUS_URL")
        return Prometheus(prometheus_url)

    def prom_query(a: QueryArgs) -> ToolResult:
        res = prom().query(a.query)
        return ToolResult(
            text="\n".join(f"{r['metric']} {r['value']:.6g}" for r in res) or "empty result",
            data={"result": res},
        )

    def prom_query_range(a: RangeArgs) -> ToolResult:
        p = prom()
        res = p.query_range(a.query, a.minutes, a.step, end=p.now())
        return ToolResult(
            text="\n".join(_fmt_series(s) for s in res) or "empty result", data={"result": res}
        )

    def metrics_error_ratio(a: ScopeArgs) -> ToolResult:
        out = error_ratio_series(prom(), a.namespace, a.service, a.minutes)
        lines = [f"5xx ratio from {out['metric']} (label {out['code_label']}):"]
        for s in out["series"]:
            vals = [v for _, v in s["samples"]] or [0.0]
            lines.append(
                f"  {s['labels']}: now {vals[-1]:.1%}, max {max(vals):.1%}, {a.minutes} min ago {vals[0]:.1%}"
            )
        return ToolResult(text="\n".join(lines), data=out)

    def metrics_latency(a: ScopeArgs) -> ToolResult:
        p = prom()
        names = set(p.names())
        metric = next((m for m in LATENCY_HISTOGRAMS if m in names), None) or next(
            (n for n in sorted(names) if n.endswith("_seconds_bucket")), None
        )
        if metric is None:
            raise ToolError("no latency histogram (*_seconds_bucket) found; use prom_query")
        labels = p.label_names(metric)
        group = ",".join(k for k in ("namespace", "service", "job") if k in labels) or "instance"
        q = f"histogram_quantile(0.99, sum by (le,{group}) (rate({metric}{{{_matchers(a.namespace, a.service, labels)}}}[5m])))"
        res = p.query_range(q, a.minutes, end=p.now())
        return ToolResult(
            text=f"p99 from {metric}:\n"
            + ("\n".join(_fmt_series(s) for s in res) or "empty result"),
            data={"metric": metric, "query": q, "result": res},
        )

    def metrics_saturation(a: ScopeArgs) -> ToolResult:
        p = prom()
        names = set(p.names())
        lines, data = [], {}
        for metric, expr in (
            (
                "container_memory_working_set_bytes",
                "sum by (namespace,pod) (container_memory_working_set_bytes{{{m}}})",
            ),
            (
                "container_cpu_cfs_throttled_periods_total",
                "sum by (namespace,pod) (rate(container_cpu_cfs_throttled_periods_total{{{m}}}[5m]))",
            ),
        ):
            if metric in names:
                q = expr.format(m=_matchers(a.namespace, None, p.label_names(metric)))
                res = p.query(q)
                data[metric] = res
                lines += [f"{metric} {r['metric']} {r['value']:.4g}" for r in res[:30]]
        return ToolResult(
            text="\n".join(lines) or "no saturation metrics (container_*) found", data=data
        )

    def metrics_restarts(a: ScopeArgs) -> ToolResult:
        p = prom()
        metric = "kube_pod_container_status_restarts_total"
        if metric not in set(p.names()):
            raise ToolError(
                f"{metric} not found (kube-state-metrics not scraped?); use k8s_list_pods for restart counts"
            )
        q = f"sum by (namespace,pod) (increase({metric}{{{_matchers(a.namespace, None, p.label_names(metric))}}}[{a.minutes}m])) > 0"
        res = p.query(q)
        return ToolResult(
            text="\n".join(f"{r['metric']} +{r['value']:.0f}" for r in res) or "no restarts",
            data={"query": q, "result": res},
        )

    hint = "pass namespace=/service= or a shorter minutes="
    return [
        Tool(
            "prom_query",
            "Instant PromQL query.",
            QueryArgs,
            prom_query,
            narrow_hint="aggregate with sum by (...)",
        ),
        Tool(
            "prom_query_range",
            "PromQL range query, summarised per series.",
            RangeArgs,
            prom_query_range,
            narrow_hint="aggregate with sum by (...)",
        ),
        Tool(
            "metrics_error_ratio",
            "5xx ratio per service over time (request counter discovered).",
            ScopeArgs,
            metrics_error_ratio,
            narrow_hint=hint,
        ),
        Tool(
            "metrics_latency",
            "p99 latency per service over time (histogram discovered).",
            ScopeArgs,
            metrics_latency,
            narrow_hint=hint,
        ),
        Tool(
            "metrics_saturation",
            "Memory working set and CPU throttling per pod.",
            ScopeArgs,
            metrics_saturation,
            narrow_hint=hint,
        ),
        Tool(
            "metrics_restarts",
            "Container restarts in the window (kube-state-metrics).",
            ScopeArgs,
            metrics_restarts,
            narrow_hint=hint,
        ),
    ]
