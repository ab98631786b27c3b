"""Alertmanager v4 webhooks: bearer token, one thread per groupKey, resolved, bad bodies."""

from __future__ import annotations

import copy
import json

import pytest

from tests.conftest import SHARED_SCENARIOS
from tests.support.bot_runtime import (
    INCIDENT_CHANNEL,
    running_bot,
    running_bot_on,
    sandbox_for,
    scenario_trigger,
    wait_investigated,
)

SCENARIO = SHARED_SCENARIOS / "catalog-wrong-target-port.yaml"


@pytest.fixture(scope="module")
def sandbox():
    with sandbox_for(SCENARIO) as sb:
        yield sb


@pytest.fixture
def bare(slack, tmp_path):
    """A bot without a cluster: for deliveries that must never reach an investigation."""
    with running_bot(slack, tmp_path / "bot.db") as h:
        yield h


@pytest.fixture
def harness(slack, sandbox, tmp_path):
    with running_bot_on(slack, sandbox, tmp_path / "bot.db") as h:
        yield h


def _alert(status: str = "firing", group_key: str | None = None) -> dict:
    payload = copy.deepcopy(scenario_trigger(SCENARIO)["alertmanager"])
    payload["status"] = status
    for alert in payload["alerts"]:
        alert["status"] = status
    if group_key:
        payload["groupKey"] = group_key
    return payload


def _key(payload: dict) -> str:
    return f"alertmanager:{payload['groupKey']}"


def test_a_firing_group_opens_an_incident_with_the_generator_link(harness):
    payload = _alert()
    resp = harness.alertmanager(payload)
    assert resp.status_code == 202, resp.text
    root = harness.root(INCIDENT_CHANNEL)
    blocks = json.dumps(root.args["blocks"])
    assert "HighErrorRate: frontend 5xx ratio above 20%" in blocks
    assert "prometheus.monitoring:9090/graph" in blocks and "critical" in blocks
    record = harness.bot.store.find_by_external_key(_key(payload))
    assert wait_investigated(harness, record.thread_ts) in ("awaiting approval", "diagnosed")


def test_a_repeat_of_the_same_group_adds_to_the_existing_thread(harness):
    payload = _alert()
    harness.alertmanager(payload)
    record = harness.bot.store.find_by_external_key(_key(payload))
    again = harness.alertmanager(payload)
    assert again.status_code == 202 and again.json()["repeat"] is True
    assert again.json()["incident"] == record.id
    wait_investigated(harness, record.thread_ts)
    roots = [c for c in harness.posts(INCIDENT_CHANNEL) if not c.args.get("thread_ts")]
    assert len(roots) == 1
    assert any("still firing" in c.args["text"] for c in harness.replies(record.thread_ts))


def test_resolved_updates_the_thread_and_closes_the_incident(harness):
    harness.alertmanager(_alert())
    record = harness.bot.store.find_by_external_key(_key(_alert()))
    wait_investigated(harness, record.thread_ts)
    resp = harness.alertmanager(_alert("resolved"))
    assert resp.status_code == 202 and resp.json()["resolved"] is True
    harness.wait_status(record.thread_ts, "resolved")
    assert harness.bot.store.get_incident(record.id).status == "resolved"


@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_a_missing_or_wrong_bearer_token_gets_401(bare, token):
    resp = bare.alertmanager(_alert(), token=token)
    assert resp.status_code == 401
    assert "Bearer" in resp.json()["error"]
    assert bare.posts() == []
    assert bare.bot.store.list_dead_letters() == []


def test_malformed_json_gets_400_and_is_kept_for_replay(bare):
    resp = bare.alertmanager('{"version": "4", "alerts": [')
    assert resp.status_code == 400
    assert "not valid JSON" in resp.json()["error"]
    [letter] = bare.bot.store.list_dead_letters()
    assert letter.source == "alertmanager" and letter.body == '{"version": "4", "alerts": ['


def test_a_payload_of_the_wrong_version_is_400_naming_the_field(bare):
    payload = _alert()
    payload["version"] = "3"
    resp = bare.alertmanager(payload)
    assert resp.status_code == 400
    assert resp.json()["error"].startswith('`version` must be "4"')
    assert bare.posts() == []
