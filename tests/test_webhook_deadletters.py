"""A delivery that authenticated but could not be processed is kept and can be replayed."""

from __future__ import annotations

import json

from click.testing import CliRunner

from bot.cli import cli
from tests.support.bot_runtime import (
    BOT_TOKEN,
    INCIDENT_CHANNEL,
    PAGERDUTY_SECRET,
    running_bot,
)
from tests.support.slack_double import SlackDouble

TRIGGERED = {
    "event": {
        "id": "01EV",
        "event_type": "incident.triggered",
        "resource_type": "incident",
        "data": {
            "id": "QDEAD",
            "type": "incident",
            "title": "orders API latency",
            "html_url": "https://acme.pagerduty.com/incidents/QDEAD",
            "urgency": "high",
        },
    }
}


def test_a_delivery_slack_refused_is_dead_lettered_then_replayed_from_the_cli(tmp_path):
    db = tmp_path / "bot.db"
    with SlackDouble() as slack:
        with running_bot(slack, db) as bot:
            # Slack refuses the root message beyond what the retry handlers absorb.
            slack.fail_next("chat.postMessage", status=500, times=3)
            resp = bot.pagerduty(TRIGGERED, webhook_id="wh-dead")
            assert resp.status_code == 503
            letter_id = resp.json()["dead_letter"]
            assert "could not post the incident" in resp.json()["error"]
        env = {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SRE_BOT_SLACK_API_URL": slack.base_url,
            "SRE_BOT_STORE": f"sqlite:///{db}",
            "SRE_BOT_INCIDENT_CHANNEL": INCIDENT_CHANNEL,
            "SRE_BOT_PAGERDUTY_SECRET": PAGERDUTY_SECRET,
            "KUBECONFIG": str(tmp_path / "no-such-kubeconfig"),
        }
        runner = CliRunner()
        listed = runner.invoke(cli, ["deliveries", "list", "--json"], env=env)
        assert listed.exit_code == 0, listed.output
        assert json.loads(listed.output.splitlines()[0])["id"] == letter_id
        before = len(slack.calls_of("chat.postMessage"))
        replayed = runner.invoke(cli, ["deliveries", "replay", str(letter_id)], env=env)
        assert replayed.exit_code == 0, replayed.output
        assert f"{letter_id}\t202" in replayed.output
        roots = [
            c for c in slack.calls_of("chat.postMessage")[before:] if not c.args.get("thread_ts")
        ]
        assert "orders API latency" in json.dumps(roots[0].args["blocks"])
        again = runner.invoke(cli, ["deliveries", "list"], env=env)
        assert again.output.strip() == ""
