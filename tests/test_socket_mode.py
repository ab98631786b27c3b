"""`sre-bot serve --socket`: a real bot process over a real WebSocket (Slack's end played by
tests.support.socket_double), its Web API calls on the Slack double, a real sandbox.

Slash commands arrive as Socket Mode envelopes; the ack carries the ephemeral reply; the
incident thread is then posted through the Web API like in HTTP mode.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.support.bot_runtime import BOT_TOKEN, sandbox_for, slash_fields
from tests.support.serve_process import SRE_BOT, stop_process
from tests.support.slack_double import SlackDouble
from tests.support.socket_double import SocketModeDouble

REPO = Path(__file__).resolve().parents[1]
NOTIFIER = REPO / "sandbox" / "scenarios" / "notifier-missing-secret.yaml"

pytestmark = pytest.mark.xdist_group("serve-processes")


def _command(text: str, channel: str, slack: SlackDouble) -> dict[str, str]:
    """A slash command's payload, as Socket Mode carries it (the same fields as over HTTP)."""
    return {
        **slash_fields(text, slack.response_url, channel=channel),
        "is_enterprise_install": "false",
    }


def test_socket_mode_acks_over_the_websocket_and_opens_the_thread_through_the_web_api(tmp_path):
    with (
        SlackDouble() as slack,
        SocketModeDouble() as socket,
        sandbox_for(NOTIFIER) as sb,
    ):
        slack.socket_url = socket.url
        env = {
            **os.environ,
            "SLACK_APP_TOKEN": "xapp-1-A0001-test",
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SRE_BOT_SLACK_API_URL": slack.base_url,
            "SRE_BOT_STORE": f"sqlite:///{tmp_path / 'bot.db'}",
            "KUBECONFIG": str(sb.kubeconfig),
            "SRE_BOT_PROMETHEUS_URL": sb.prometheus_url,
            "SRE_BOT_DRAIN_SECONDS": "2",
        }
        env.pop("SLACK_SIGNING_SECRET", None)  # not needed: the WebSocket replaces signatures
        with (tmp_path / "serve.log").open("w") as log:
            proc = subprocess.Popen(
                [str(SRE_BOT), "serve", "--socket"], env=env, stdout=log, stderr=subprocess.STDOUT
            )
        try:
            socket.wait_connected(timeout=60)
            assert slack.calls_of("apps.connections.open")

            envelope = socket.push(
                "slash_commands", _command("investigate notifier is failing", "CSOCK", slack)
            )
            ack = socket.wait_ack(envelope)
            assert "investigating" in json.dumps(ack["payload"])

            def thread() -> list[str]:
                posts = [
                    c for c in slack.calls_of("chat.postMessage") if c.args["channel"] == "CSOCK"
                ]
                roots = [c for c in posts if not c.args.get("thread_ts")]
                replies = [c for c in posts if c.args.get("thread_ts")]
                return [str(c.args.get("text")) for c in replies] if len(roots) == 1 else []

            replies = slack.wait_for(lambda: len(thread()) >= 5 and thread(), timeout=90)
            assert any("kubernetes" in r for r in replies), replies

            unknown = socket.push("slash_commands", _command("frobnicate", "CSOCK", slack))
            assert "I don't know" in json.dumps(socket.wait_ack(unknown)["payload"])
        finally:
            stop_process(proc)
