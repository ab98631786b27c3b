"""Run the real bot for tests: the `serve --http` app in-process on an ephemeral loopback port,
pointed at the Slack Web API double, and helpers that send requests the way Slack,
PagerDuty and Alertmanager do (signed, form-encoded, `payload=`, JSON)."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import uvicorn

from bot.app import Bot, build_bot
from bot.http import create_http_app
from bot.settings import Settings
from tests.support.slack_double import SlackDouble, sign

SIGNING_SECRET = "test-signing-secret"
PAGERDUTY_SECRET = "pd-secret"
ALERTMANAGER_TOKEN = "am-token"
INCIDENT_CHANNEL = "CINCIDENTS"
BOT_TOKEN = "xoxb-0000-test-token"


def pagerduty_signature(body: str, secret: str = PAGERDUTY_SECRET) -> str:
    """The `X-PagerDuty-Signature` value PagerDuty sends for `body`: `v1=<HMAC-SHA256 hex>`."""
    return "v1=" + hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()


def slash_fields(
    text: str, response_url: str, *, channel: str = "C123", user: str = "U111"
) -> dict[str, str]:
    """The fields of `/sre <text>` as Slack sends them: form-encoded over HTTP, the same
    fields as a Socket Mode envelope's payload."""
    return {
        "token": "legacy",
        "team_id": "T0001",
        "team_domain": "example",
        "channel_id": channel,
        "channel_name": "ops",
        "user_id": user,
        "user_name": "alice",
        "command": "/sre",
        "text": text,
        "api_app_id": "A0001",
        "response_url": response_url,
        "trigger_id": "1.2.3",
    }


def button_press_body(
    action_id: str, value: str, *, channel: str, message_ts: str, user: str, response_url: str
) -> str:
    """The form body Slack posts when `user` presses a button: `payload=<block_actions JSON>`."""
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": "bob", "team_id": "T0001"},
        "api_app_id": "A0001",
        "token": "legacy",
        "team": {"id": "T0001", "domain": "example"},
        "container": {"type": "message", "message_ts": message_ts, "channel_id": channel},
        "trigger_id": "1.2.3",
        "channel": {"id": channel, "name": "ops"},
        "message": {"ts": message_ts, "type": "message"},
        "response_url": response_url,
        "actions": [
            {
                "action_id": action_id,
                "block_id": "proposal-0",
                "value": value,
                "type": "button",
                "action_ts": "1800000000.1",
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)})


@contextmanager
def serving(asgi_app: Any) -> Iterator[str]:
    """Serve `asgi_app` with uvicorn on 127.0.0.1:<port 0>; yields its base URL; stops after."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(asgi_app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test HTTP server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def bot_settings(
    slack: SlackDouble,
    store_path: Path,
    *,
    kubeconfig: str | None,
    prometheus_url: str | None,
    **overrides: Any,
) -> Settings:
    """Settings as the environment would give them, for a bot talking to the double."""
    return Settings(
        **overrides,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        KUBECONFIG=kubeconfig,
        slack_api_url=slack.base_url,
        incident_channel=INCIDENT_CHANNEL,
        pagerduty_secret=PAGERDUTY_SECRET,
        alertmanager_token=ALERTMANAGER_TOKEN,
        prometheus_url=prometheus_url,
        store=f"sqlite:///{store_path}",
    )


@dataclass
class BotHarness:
    """A running bot and a client that talks to it as Slack and the alert sources do."""

    bot: Bot
    url: str
    slack: SlackDouble
    http: httpx.Client

    # -- Slack -------------------------------------------------------------------------

    def post_slack(self, body: str, content_type: str, headers: dict[str, str] | None = None):
        """POST /slack/events with a valid signature unless `headers` override it."""
        h = {"Content-Type": content_type, **sign(SIGNING_SECRET, body), **(headers or {})}
        return self.http.post(f"{self.url}/slack/events", content=body, headers=h)

    def slash(self, text: str, *, channel: str = "C123", user: str = "U111", **headers: str):
        """`/sre <text>` as Slack sends it: form-encoded and signed."""
        body = urlencode(slash_fields(text, self.slack.response_url, channel=channel, user=user))
        return self.post_slack(body, "application/x-www-form-urlencoded", headers)

    def mention(self, text: str, *, channel: str, thread_ts: str | None, user: str = "U111"):
        """An `app_mention` event callback, JSON and signed."""
        event = {
            "type": "app_mention",
            "user": user,
            "text": text,
            "ts": "1800000000.000001",
            "channel": channel,
            "event_ts": "1800000000.000001",
        }
        if thread_ts:
            event["thread_ts"] = thread_ts
        body = json.dumps(
            {
                "token": "legacy",
                "team_id": "T0001",
                "api_app_id": "A0001",
                "event": event,
                "type": "event_callback",
                "event_id": f"Ev{time.monotonic_ns()}",
                "event_time": int(time.time()),
                "authorizations": [{"team_id": "T0001", "user_id": "UBOT", "is_bot": True}],
            }
        )
        return self.post_slack(body, "application/json")

    def press(
        self, action_id: str, value: str, *, channel: str, message_ts: str, user: str = "U222"
    ):
        """A button press: `payload=` form field with block_actions JSON, signed."""
        body = button_press_body(
            action_id,
            value,
            channel=channel,
            message_ts=message_ts,
            user=user,
            response_url=self.slack.response_url,
        )
        return self.post_slack(body, "application/x-www-form-urlencoded")

    def submit_view(self, view: dict[str, Any], values: dict[str, Any], *, user: str = "U222"):
        """A modal's `view_submission`, with the input `values` as Slack nests them."""
        payload = {
            "type": "view_submission",
            "team": {"id": "T0001", "domain": "example"},
            "user": {"id": user, "username": "bob", "team_id": "T0001"},
            "api_app_id": "A0001",
            "token": "legacy",
            "trigger_id": "1.2.4",
            "view": {**view, "id": "V0001", "state": {"values": values}},
        }
        body = urlencode({"payload": json.dumps(payload)})
        return self.post_slack(body, "application/x-www-form-urlencoded")

    # -- webhooks ----------------------------------------------------------------------

    def pagerduty(
        self, payload: dict | str, *, webhook_id: str | None = None, signature: str | None = None
    ):
        """A PagerDuty v3 delivery, signed with the right secret unless `signature` is given."""
        body = payload if isinstance(payload, str) else json.dumps(payload)
        headers = {
            "Content-Type": "application/json",
            "X-PagerDuty-Signature": signature
            if signature is not None
            else pagerduty_signature(body),
        }
        if webhook_id:
            headers["X-Webhook-Id"] = webhook_id
        return self.http.post(f"{self.url}/webhooks/pagerduty", content=body, headers=headers)

    def alertmanager(self, payload: dict | str, *, token: str | None = ALERTMANAGER_TOKEN):
        """An Alertmanager v4 delivery with `Authorization: Bearer <token>`."""
        body = payload if isinstance(payload, str) else json.dumps(payload)
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return self.http.post(f"{self.url}/webhooks/alertmanager", content=body, headers=headers)

    # -- reading the double ----------------------------------------------------------------

    def posts(self, channel: str | None = None):
        """chat.postMessage calls, optionally in one channel."""
        return [
            c
            for c in self.slack.calls_of("chat.postMessage")
            if channel is None or c.args.get("channel") == channel
        ]

    def replies(self, thread_ts: str):
        """Replies posted in one thread, in order."""
        return [
            c
            for c in self.slack.calls_of("chat.postMessage")
            if c.args.get("thread_ts") == thread_ts
        ]

    def root(self, channel: str, after: int = 0):
        """The first root (unthreaded) message posted to `channel`, waiting for it."""
        return self.slack.wait_for(
            lambda: next(
                (c for c in self.posts(channel)[after:] if not c.args.get("thread_ts")), None
            )
        )

    def updates(self, ts: str):
        """chat.update calls on one message, in order."""
        return [c for c in self.slack.calls_of("chat.update") if c.args.get("ts") == ts]

    def wait_status(self, ts: str, status: str, timeout: float = 30.0):
        """Wait until the root message `ts` has been updated to show `status`."""
        return self.slack.wait_for(
            lambda: any(f"{status}" in json.dumps(c.args["blocks"]) for c in self.updates(ts)),
            timeout,
        )


@contextmanager
def running_bot(
    slack: SlackDouble,
    store_path: Path,
    *,
    kubeconfig: str | None = None,
    prometheus_url: str | None = None,
    **overrides: Any,
) -> Iterator[BotHarness]:
    """Build the bot from settings (`overrides`: approvers, policy, kill_switch_seconds, ...),
    start its timers, serve it over HTTP, and tear everything down after."""
    settings = bot_settings(
        slack, store_path, kubeconfig=kubeconfig, prometheus_url=prometheus_url, **overrides
    )
    bot = build_bot(settings)
    bot.start_background()
    try:
        with serving(create_http_app(bot)) as url, httpx.Client(timeout=30) as http:
            yield BotHarness(bot=bot, url=url, slack=slack, http=http)
    finally:
        bot.close(wait=True)


def running_bot_on(slack: SlackDouble, sandbox: Any, store_path: Path, **overrides: Any):
    """`running_bot` investigating `sandbox`'s cluster and Prometheus."""
    return running_bot(
        slack,
        store_path,
        kubeconfig=str(sandbox.kubeconfig),
        prometheus_url=sandbox.prometheus_url,
        **overrides,
    )


@contextmanager
def sandbox_for(scenario: Path) -> Iterator[Any]:
    """The scenario served as a live cluster on an ephemeral port (the real sandbox)."""
    from sandbox.server import Sandbox

    sb = Sandbox(scenario, port=0).start()
    try:
        yield sb
    finally:
        sb.stop()


def scenario_trigger(scenario: Path) -> dict[str, Any]:
    """The scenario file's `trigger` mapping (slash text or webhook payload)."""
    import yaml

    return yaml.safe_load(scenario.read_text())["trigger"]


FINAL_STATUSES = ("awaiting approval", "diagnosed", "failed")


def wait_investigated(h: BotHarness, ts: str, timeout: float = 60.0) -> str:
    """Wait until the root message `ts` shows the investigation's outcome; returns the status."""

    def final() -> str | None:
        for call in reversed(h.updates(ts)):
            text = json.dumps(call.args.get("blocks"))
            for status in FINAL_STATUSES:
                if status in text:
                    return status
        return None

    return h.slack.wait_for(final, timeout)
