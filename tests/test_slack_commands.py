"""/sre status, list and help, Slack request signatures, and buttons, against the real HTTP app."""

from __future__ import annotations

import json
import time

import pytest

from agents.models import Trigger, TriggerSource
from approvals.store import IncidentRecord
from bot.blocks import button_value
from tests.support.bot_runtime import running_bot
from tests.support.slack_double import sign


@pytest.fixture
def harness(slack, tmp_path):
    with running_bot(slack, tmp_path / "bot.db") as h:
        yield h


def _text(resp) -> str:
    return json.dumps(resp.json())


def _seed(store, incident_id: str, *, status: str = "investigating", thread_ts: str = "1.000001"):
    store.create_incident(
        IncidentRecord(
            id=incident_id,
            title=f"title of {incident_id}",
            source=TriggerSource.SLASH,
            status=status,
            channel="C123",
            thread_ts=thread_ts,
            langgraph_thread_id=incident_id,
            trigger=Trigger(source=TriggerSource.SLASH, text="x"),
        )
    )


def test_help_lists_every_subcommand(harness):
    resp = harness.slash("help")
    assert resp.status_code == 200
    for sub in ("/sre investigate", "/sre status", "/sre list", "/sre help"):
        assert sub in _text(resp)


def test_an_unknown_subcommand_gets_the_help_text_not_silence(harness):
    resp = harness.slash("frobnicate the cluster")
    assert resp.status_code == 200
    assert "I don't know `/sre frobnicate`" in _text(resp)
    assert "/sre investigate" in _text(resp)


def test_investigate_without_words_asks_what_is_wrong(harness):
    resp = harness.slash("investigate")
    assert "Tell me what is wrong" in _text(resp)
    assert harness.posts() == []


def test_list_shows_only_open_incidents(harness):
    _seed(harness.bot.store, "inc-open")
    _seed(harness.bot.store, "inc-done", status="resolved", thread_ts="2.0")
    text = _text(harness.slash("list"))
    assert "inc-open" in text and "inc-done" not in text


def test_list_with_no_incidents_says_so(harness):
    assert "No open incidents" in _text(harness.slash("list"))


def test_status_names_the_incident_its_status_and_progress(harness):
    _seed(harness.bot.store, "inc-abc")
    text = _text(harness.slash("status inc-abc"))
    assert "inc-abc" in text and "investigating" in text and "0 of 4 specialists done" in text
    assert "No incident `inc-zzz`" in _text(harness.slash("status inc-zzz"))


def test_status_without_an_id_shows_the_latest_incident(harness):
    _seed(harness.bot.store, "inc-latest")
    assert "inc-latest" in _text(harness.slash("status"))


def test_a_forged_signature_gets_401(harness):
    resp = harness.slash("help", **{"X-Slack-Signature": "v0=" + "0" * 64})
    assert resp.status_code == 401


def test_a_stale_signature_older_than_five_minutes_gets_401(harness):
    body = "command=%2Fsre&text=help&channel_id=C1&user_id=U1"
    stale = sign("test-signing-secret", body, timestamp=int(time.time()) - 301)
    resp = harness.post_slack(body, "application/x-www-form-urlencoded", stale)
    assert resp.status_code == 401


def test_a_missing_signature_gets_401(harness):
    resp = harness.http.post(
        f"{harness.url}/slack/events",
        content="command=%2Fsre&text=help",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert resp.status_code == 401


def test_a_press_on_a_proposal_the_gate_never_saw_is_recorded_and_changes_nothing(harness, slack):
    _seed(harness.bot.store, "inc-btn")
    resp = harness.press("approve", button_value("inc-btn", 0), channel="C123", message_ts="1.5")
    assert resp.status_code == 200
    slack.wait_for(lambda: harness.bot.store.presses("inc-btn"))
    [press] = harness.bot.store.presses("inc-btn")
    assert (press.action_id, press.proposal_index, press.user) == ("approve", 0, "U222")
    respond = slack.wait_for(lambda: slack.calls_of("respond"))
    assert "has no proposal #1 awaiting a decision" in respond[0].args["text"]
    assert respond[0].args["response_type"] == "ephemeral"
    assert not slack.calls_of("chat.update")


def test_a_button_for_an_unknown_incident_says_so(harness, slack):
    harness.press("reject", button_value("inc-gone", 0), channel="C123", message_ts="1.5")
    respond = slack.wait_for(lambda: slack.calls_of("respond"))
    assert "unknown to this bot" in respond[0].args["text"]


def test_after_a_restart_old_buttons_still_resolve_their_incident(slack, tmp_path):
    db = tmp_path / "bot.db"
    with running_bot(slack, db) as first:
        _seed(first.bot.store, "inc-old", thread_ts="1.000777")
    with running_bot(slack, db) as second:
        assert second.bot.store.find_by_thread("C123", "1.000777").id == "inc-old"
        second.press("reject", button_value("inc-old", 0), channel="C123", message_ts="1.000778")
        slack.wait_for(lambda: second.bot.store.presses("inc-old"))
        assert second.bot.store.presses("inc-old")[0].action_id == "reject"


def test_healthz_and_metrics_answer(harness):
    assert harness.http.get(f"{harness.url}/healthz").json() == {"ok": True}
    metrics = harness.http.get(f"{harness.url}/metrics")
    assert metrics.status_code == 200
    assert (
        "sre_bot_incidents_opened_total" in metrics.text
        or "sre_bot_incidents_opened" in metrics.text
    )
