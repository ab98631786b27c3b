"""PagerDuty v3 webhooks: signatures, dedup, triggered/acknowledged/resolved, dead letters."""

from __future__ import annotations

import json

import pytest

from tests.conftest import BUNDLED_SCENARIOS
from tests.support.bot_runtime import (
    INCIDENT_CHANNEL,
    pagerduty_signature,
    running_bot,
    running_bot_on,
    sandbox_for,
    scenario_trigger,
    wait_investigated,
)

SCENARIO = BUNDLED_SCENARIOS / "inventory-readiness-path.yaml"


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


def _event(event_type: str, incident_id: str = "Q1ABC") -> dict:
    payload = json.loads(json.dumps(scenario_trigger(SCENARIO)["pagerduty"]))
    payload["event"]["event_type"] = event_type
    payload["event"]["data"]["id"] = incident_id
    return payload


def test_a_triggered_incident_opens_a_thread_in_the_incident_channel_and_investigates(harness):
    payload = _event("incident.triggered")
    resp = harness.pagerduty(payload, webhook_id="wh-1")
    assert resp.status_code == 202, resp.text
    root = harness.root(INCIDENT_CHANNEL)
    blocks = json.dumps(root.args["blocks"])
    assert payload["event"]["data"]["title"][:40] in blocks
    assert payload["event"]["data"]["html_url"] in blocks  # the source links to PagerDuty
    record = harness.bot.store.find_by_external_key("pagerduty:Q1ABC")
    assert record.channel == INCIDENT_CHANNEL
    assert wait_investigated(harness, record.thread_ts) in ("awaiting approval", "diagnosed")
    assert harness.replies(record.thread_ts)


def test_any_of_several_v1_signatures_may_match(harness):
    body = json.dumps(_event("incident.triggered", "Q2"))
    good = pagerduty_signature(body)
    resp = harness.pagerduty(body, webhook_id="wh-2", signature=f"v1={'0' * 64},{good}")
    assert resp.status_code == 202
    wait_investigated(harness, harness.bot.store.find_by_external_key("pagerduty:Q2").thread_ts)


@pytest.mark.parametrize("signature", ["v1=" + "0" * 64, "", "v0=abc"])
def test_a_bad_or_missing_signature_gets_401_and_posts_nothing(bare, signature):
    resp = bare.pagerduty(_event("incident.triggered"), webhook_id="wh-3", signature=signature)
    assert resp.status_code == 401
    assert "X-PagerDuty-Signature" in resp.json()["error"]
    assert bare.posts() == []


def test_a_redelivered_webhook_id_is_processed_once(harness):
    payload = _event("incident.triggered", "Q4")
    assert harness.pagerduty(payload, webhook_id="wh-4").status_code == 202
    again = harness.pagerduty(payload, webhook_id="wh-4")
    assert again.status_code == 200 and again.json()["duplicate"] == "wh-4"
    ts = harness.bot.store.list_incidents()[0].thread_ts
    wait_investigated(harness, ts)
    roots = [c for c in harness.posts(INCIDENT_CHANNEL) if not c.args.get("thread_ts")]
    assert len(roots) == 1


def test_acknowledged_and_resolved_update_the_thread(harness):
    harness.pagerduty(_event("incident.triggered", "Q5"), webhook_id="wh-5a")
    record = harness.bot.store.find_by_external_key("pagerduty:Q5")
    wait_investigated(harness, record.thread_ts)
    assert (
        harness.pagerduty(_event("incident.acknowledged", "Q5"), webhook_id="wh-5b").status_code
        == 202
    )
    assert (
        harness.pagerduty(_event("incident.resolved", "Q5"), webhook_id="wh-5c").status_code == 202
    )
    texts = [c.args["text"] for c in harness.replies(record.thread_ts)]
    assert any("Acknowledged in PagerDuty" in t for t in texts)
    assert any("Resolved in PagerDuty" in t for t in texts)
    harness.wait_status(record.thread_ts, "resolved")
    assert harness.bot.store.get_incident(record.id).status == "resolved"


def test_malformed_json_gets_400_with_the_position_and_is_kept_as_a_dead_letter(bare):
    resp = bare.pagerduty('{"event": {"event_type": "incident.triggered",', webhook_id="wh-6")
    assert resp.status_code == 400
    assert "not valid JSON" in resp.json()["error"] and "line 1 column" in resp.json()["error"]
    [letter] = bare.bot.store.list_dead_letters()
    assert letter.id == resp.json()["dead_letter"]
    assert letter.body.startswith('{"event"') and letter.source == "pagerduty"


def test_a_payload_without_an_event_is_400_with_a_precise_message(bare):
    resp = bare.pagerduty({"messages": []}, webhook_id="wh-7")
    assert resp.status_code == 400
    assert resp.json()["error"] == "a PagerDuty v3 webhook needs an `event` object"
