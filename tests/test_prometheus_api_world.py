"""The Prometheus API over a live World: scenario metrics answer PromQL as a Prometheus would."""

from __future__ import annotations

import json
from pathlib import Path

from sandbox.prometheus_api import handle
from sandbox.scenario import load_scenario
from sandbox.world import World


def _query(world: World, path: str, **params: str) -> dict:
    status, _, body = handle(
        world, "GET", "/prometheus" + path, {k: [v] for k, v in params.items()}, b""
    )
    assert status == 200, body
    return json.loads(body)["data"]


def test_a_faults_error_rate_shows_in_the_worlds_metrics_at_its_current_time(
    shared_scenarios: Path,
) -> None:
    world = World(load_scenario(shared_scenarios / "checkout-missing-env.yaml"))
    data = _query(
        world, "/api/v1/query", query='sum by (service) (rate(http_requests_total{code="502"}[5m]))'
    )
    assert data["resultType"] == "vector"
    (sample,) = data["result"]
    assert sample["metric"] == {"service": "frontend"}
    assert float(sample["value"][1]) == 7.0  # 420 more 502s a minute: the fault's series
    assert abs(sample["value"][0] - world.clock.now_ts()) < 5


def test_label_values_list_the_worlds_services(shared_scenarios: Path) -> None:
    world = World(load_scenario(shared_scenarios / "checkout-missing-env.yaml"))
    assert _query(world, "/api/v1/label/service/values") == ["checkout-api", "frontend"]
