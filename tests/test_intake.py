"""Intake reads slash text, Alertmanager v4 and PagerDuty v3 triggers into Incidents."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import yaml

from agents.intake import IntakeError, Inventory, InventoryItem, intake
from agents.models import Severity, Trigger, TriggerSource

NOW = datetime(2026, 11, 20, 10, 30, tzinfo=UTC)

SHOP = Inventory(
    namespaces=["default", "shop", "data"],
    objects=[
        InventoryItem(kind="Deployment", namespace="shop", name="checkout-api"),
        InventoryItem(kind="Service", namespace="shop", name="checkout-api"),
        InventoryItem(kind="Deployment", namespace="shop", name="frontend"),
        InventoryItem(kind="Service", namespace="shop", name="frontend"),
        InventoryItem(kind="Deployment", namespace="data", name="pg-main"),
    ],
)


def _scenario_trigger(path) -> Trigger:
    doc = yaml.safe_load(path.read_text())["trigger"]
    if "slash" in doc:
        return Trigger(source=TriggerSource.SLASH, text=doc["slash"])
    if "alertmanager" in doc:
        return Trigger(source=TriggerSource.ALERTMANAGER, payload=doc["alertmanager"])
    return Trigger(source=TriggerSource.PAGERDUTY, payload=doc["pagerduty"])


def test_free_text_names_the_workload_that_exists_in_the_cluster(shared_scenarios):
    trigger = _scenario_trigger(shared_scenarios / "checkout-missing-env.yaml")
    inc = intake(trigger, "inc-1", inventory=SHOP, now=NOW)
    assert (inc.namespace, inc.workload, inc.service) == ("shop", "checkout-api", "checkout-api")
    assert inc.id == "inc-1"
    assert inc.text == trigger.text
    assert inc.severity == Severity.CRITICAL  # "for everyone"


def test_since_a_clock_time_opens_the_window_a_little_before_it():
    trigger = Trigger(source=TriggerSource.SLASH, text="checkout is throwing 500s since 10:05")
    inc = intake(trigger, inventory=SHOP, now=NOW)
    assert inc.window_start == datetime(2026, 11, 20, 9, 55, tzinfo=UTC)
    assert inc.window_end == NOW


def test_relative_time_sets_the_window():
    trigger = Trigger(source=TriggerSource.SLASH, text="frontend slow for the last 20 minutes")
    inc = intake(trigger, inventory=SHOP, now=NOW)
    assert inc.window_start == NOW - timedelta(minutes=25)
    assert inc.workload == "frontend"


def test_words_that_match_nothing_in_the_cluster_invent_no_names():
    trigger = Trigger(source=TriggerSource.SLASH, text="payments are failing")
    inc = intake(trigger, inventory=SHOP, now=NOW)
    assert (inc.namespace, inc.workload, inc.service) == (None, None, None)
    assert inc.window_start == NOW - timedelta(hours=1)


def test_alertmanager_payload_gives_labels_alert_words_and_generator_link(shared_scenarios):
    trigger = _scenario_trigger(shared_scenarios / "catalog-wrong-target-port.yaml")
    inc = intake(trigger, "inc-2", inventory=SHOP, now=datetime(2026, 11, 21, 14, tzinfo=UTC))
    assert inc.alert_name == "HighErrorRate"
    assert (inc.namespace, inc.service, inc.workload) == ("shop", "frontend", "frontend")
    assert inc.severity == Severity.CRITICAL
    assert inc.link.startswith("http://prometheus.monitoring:9090/graph")
    assert "frontend 5xx ratio above 20%" in inc.text
    assert inc.window_start == datetime(2026, 11, 21, 13, 22, 30, tzinfo=UTC)
    assert inc.labels["alertname"] == "HighErrorRate"


def test_alertmanager_pod_label_is_reduced_to_its_workload():
    payload = {
        "version": "4",
        "status": "firing",
        "alerts": [
            {
                "status": "firing",
                "labels": {
                    "alertname": "KubePodCrashLooping",
                    "namespace": "shop",
                    "pod": "checkout-api-6b7f9c4d8-x2x9z",
                    "severity": "warning",
                },
                "annotations": {"summary": "Pod is crash looping."},
                "startsAt": "2026-11-20T10:20:00Z",
            }
        ],
    }
    inc = intake(Trigger(source=TriggerSource.ALERTMANAGER, payload=payload), now=NOW)
    assert inc.workload == "checkout-api"
    assert inc.severity == Severity.WARNING


def test_pagerduty_v3_event_data_gives_title_link_and_urgency():
    payload = {
        "event": {
            "event_type": "incident.triggered",
            "occurred_at": "2026-11-20T10:21:00Z",
            "data": {
                "id": "Q1",
                "type": "incident",
                "title": "Checkout API error rate high",
                "html_url": "https://acme.pagerduty.com/incidents/Q1",
                "urgency": "high",
                "service": {"summary": "shop"},
                "created_at": "2026-11-20T10:20:00Z",
            },
        }
    }
    inc = intake(Trigger(source=TriggerSource.PAGERDUTY, payload=payload), inventory=SHOP, now=NOW)
    assert inc.link == "https://acme.pagerduty.com/incidents/Q1"
    assert inc.severity == Severity.CRITICAL
    assert (inc.namespace, inc.workload) == ("shop", "checkout-api")
    assert inc.window_start == datetime(2026, 11, 20, 9, 50, tzinfo=UTC)


def test_alertmanager_payload_without_alerts_is_an_intake_error():
    with pytest.raises(IntakeError, match="no alerts"):
        intake(Trigger(source=TriggerSource.ALERTMANAGER, payload={"version": "4"}), now=NOW)
