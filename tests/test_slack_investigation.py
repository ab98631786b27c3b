"""/sre investigate end to end: signed slash command -> ack -> root message -> one reply per
specialist -> diagnosis -> proposal with buttons, root updated in place; mentions; secrets."""

from __future__ import annotations

import json
import time

import pytest
import yaml

from tests.conftest import SHARED_SCENARIOS
from tests.support.bot_runtime import running_bot_on, sandbox_for, wait_investigated

SCENARIO = SHARED_SCENARIOS / "checkout-missing-env.yaml"
PLANTED = ("Sup3rS3cretPw", "AKIAABCDEFGHIJKLMNOP", "xoxb-123456789012-planted")


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    # The shared scenario with credentials planted in what the crashing pods print.
    doc = yaml.safe_load(SCENARIO.read_text())
    for fault in doc.get("faults", []):
        if fault.get("logs"):
            fault["logs"] += (
                "ERROR dial postgres://app:Sup3rS3cretPw@db:5432/shop failed\n"
                "DEBUG env AWS_ACCESS_KEY_ID=AKIAABCDEFGHIJKLMNOP SLACK_TOKEN=xoxb-123456789012-planted\n"
            )
    path = tmp_path_factory.mktemp("scenario") / "checkout-with-secrets.yaml"
    path.write_text(yaml.safe_dump(doc))
    with sandbox_for(path) as sb:
        yield sb


@pytest.fixture
def harness(slack, sandbox, tmp_path):
    with running_bot_on(slack, sandbox, tmp_path / "bot.db") as h:
        yield h


def _investigate(harness, text: str = "checkout is throwing 500s since 10:05"):
    started = time.monotonic()
    resp = harness.slash(f"investigate {text}")
    ack_seconds = time.monotonic() - started
    root = harness.root("C123")
    record = harness.slack.wait_for(lambda: harness.bot.store.list_incidents())[0]
    return resp, ack_seconds, root, record


def test_investigate_acks_fast_then_posts_root_specialists_diagnosis_and_proposal(harness, slack):
    resp, ack_seconds, root, record = _investigate(harness)
    assert resp.status_code == 200 and ack_seconds < 3
    assert resp.json()["response_type"] == "ephemeral"
    assert resp.json()["text"].startswith(":mag: investigating…")
    assert "checkout is throwing 500s" in json.dumps(root.args["blocks"])
    assert wait_investigated(harness, record.thread_ts) == "awaiting approval"

    # The exact order of the thread: the root first, then the replies, all on the root's ts.
    methods = slack.methods()
    assert methods.index("chat.postMessage") < methods.index("chat.update")
    replies = harness.replies(record.thread_ts)
    texts = [json.dumps(r.args["blocks"]) for r in replies]
    for specialist in ("kubernetes", "metrics", "logs", "runbooks"):
        assert sum(f"*{specialist}* specialist" in t for t in texts) >= 1, specialist
    diagnosis_at = next(i for i, t in enumerate(texts) if "*Diagnosis*" in t)
    proposal_at = next(i for i, t in enumerate(texts) if "Proposed fix #1" in t)
    last_specialist = max(i for i, t in enumerate(texts) if " specialist: " in t)
    assert last_specialist < diagnosis_at < proposal_at
    assert "DATABASE_URL" in texts[diagnosis_at]

    actions = next(b for b in replies[proposal_at].args["blocks"] if b["type"] == "actions")
    assert [e["action_id"] for e in actions["elements"]] == ["approve", "reject"]
    assert json.loads(actions["elements"][0]["value"]) == {"incident_id": record.id, "proposal": 0}

    # The root message was updated in place with progress and the final status.
    updates = [json.dumps(u.args["blocks"]) for u in harness.updates(record.thread_ts)]
    assert any("of 4 specialists done" in u and "4 of 4" not in u for u in updates)
    assert any("4 of 4 specialists done" in u for u in updates)
    assert "awaiting approval" in updates[-1]


def test_planted_secrets_never_reach_slack(harness, slack):
    _, _, _, record = _investigate(harness, "checkout down; our db password=Sup3rS3cretPw fwiw")
    wait_investigated(harness, record.thread_ts)
    sent = slack.all_text()
    assert "DATABASE_URL" in sent  # the investigation's words did reach Slack
    for secret in PLANTED:
        assert secret not in sent, secret


def test_a_mention_in_the_thread_starts_another_round_with_earlier_findings_and_the_hint(
    harness, slack
):
    _, _, _, record = _investigate(harness)
    wait_investigated(harness, record.thread_ts)
    before = len(harness.replies(record.thread_ts))
    earlier = len(harness.bot.store.get_incident(record.id).findings)
    assert earlier > 0
    resp = harness.mention(
        "<@UBOT> check the database too", channel="C123", thread_ts=record.thread_ts
    )
    assert resp.status_code == 200
    slack.wait_for(
        lambda: any(
            "check the database too" in c.args["text"] for c in harness.replies(record.thread_ts)
        )
    )
    slack.wait_for(
        lambda: (
            sum(
                "*Diagnosis*" in json.dumps(r.args["blocks"])
                for r in harness.replies(record.thread_ts)
            )
            >= 2
        ),
        timeout=60,
    )
    assert len(harness.replies(record.thread_ts)) > before
    assert len(harness.bot.store.get_incident(record.id).findings) >= earlier


def test_a_mention_outside_an_incident_thread_explains_itself(harness, slack):
    harness.mention("<@UBOT> help", channel="C999", thread_ts="1.23")
    reply = slack.wait_for(lambda: harness.posts("C999"))
    assert "not an incident I opened" in reply[0].args["text"]


def test_a_429_with_retry_after_is_retried_and_nothing_is_lost(harness, slack):
    slack.fail_next("chat.postMessage", status=429, retry_after=1)
    resp, _, root, record = _investigate(harness)
    assert resp.status_code == 200
    assert wait_investigated(harness, record.thread_ts) == "awaiting approval"
    assert slack.calls_of("chat.postMessage")[0].args == slack.calls_of("chat.postMessage")[1].args
    assert any(
        "Proposed fix #1" in json.dumps(r.args["blocks"]) for r in harness.replies(record.thread_ts)
    )


def test_replies_slack_refuses_are_posted_together_in_one_consolidated_message(harness, slack):
    _, _, _, record = _investigate(harness)
    # Fail the next replies beyond what the retry handlers absorb.
    slack.fail_next("chat.postMessage", status=500, times=3)
    wait_investigated(harness, record.thread_ts)
    consolidated = slack.wait_for(
        lambda: [
            c
            for c in harness.replies(record.thread_ts)
            if "could not be posted one by one" in c.args["text"]
        ]
    )
    assert consolidated
