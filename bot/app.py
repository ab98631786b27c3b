"""The bot assembled once: settings -> store, Web API client, incident service, Bolt app, receivers.

Entry points (`serve --http`, `serve --socket`, the Lambda handler) are thin wrappers around
the `Bot` built here.
"""

from __future__ import annotations

from dataclasses import dataclass

from slack_bolt import App

from approvals.store import StateStore
from approvals.stores import Stores, open_stores
from bot.approval_flow import ApprovalFlow
from bot.approval_slack import SlackApprovals
from bot.incidents import IncidentService, Investigator, engine_investigator, web_client
from bot.listeners import actions, commands, mentions
from bot.metrics import BotMetrics
from bot.settings import Settings
from bot.webhooks.alertmanager import AlertmanagerReceiver
from bot.webhooks.pagerduty import PagerDutyReceiver


class BotConfigError(Exception):
    """A setting the bot needs is missing; the message names the environment variable."""


@dataclass
class Bot:
    """Everything one running bot holds; built by `build_bot`, closed by `close`."""

    settings: Settings
    store: StateStore
    metrics: BotMetrics
    service: IncidentService
    app: App
    pagerduty: PagerDutyReceiver
    alertmanager: AlertmanagerReceiver
    approvals: SlackApprovals
    stores: Stores | None = None  # the connections behind the gate, kill switch and audit log

    def start_background(self) -> None:
        """Start the timers: kill-switch deadlines and approval expiry (long-running modes)."""
        self.approvals.start()

    def close(self, wait: bool = True) -> None:
        """Let background investigations finish (with `wait`), stop the timers, close stores."""
        self.service.shutdown(wait=wait)
        self.approvals.close()
        self.store.close()
        if self.stores is not None:
            self.stores.close()


def build_bot(
    settings: Settings,
    *,
    investigator: Investigator | None = None,
    store: StateStore | None = None,
    process_before_response: bool = True,
    verify_requests: bool = True,
    inline: bool = False,
) -> Bot:
    """Assemble the bot. `verify_requests=False` only for Socket Mode, where Slack's WebSocket
    replaces request signatures; `inline` runs investigations in the calling thread (Lambda).

    `process_before_response` (the default everywhere): each ack listener runs in the request's
    own thread and the response goes out as soon as it returns; every slow step is a lazy
    listener. Without it Bolt queues the ack behind earlier lazy work in its 5-thread
    executor and polls for it every 10 ms: 1.7 s p99 acks at 50 concurrent commands
    (benchmarks/slack_ack.py) instead of a few hundred ms."""
    if settings.slack_bot_token is None:
        raise BotConfigError("SLACK_BOT_TOKEN is not set; copy the Bot User OAuth Token (xoxb-...)")
    if verify_requests and settings.slack_signing_secret is None:
        raise BotConfigError(
            "SLACK_SIGNING_SECRET is not set; copy it from Basic Information > App Credentials"
        )
    # One set of connections for the incident store, the gate, the kill switch and the audit log.
    stores = open_stores(settings.store)
    store = store or stores.state
    metrics = BotMetrics()
    client = web_client(settings)
    service = IncidentService(
        settings,
        client,
        store,
        investigator or engine_investigator(settings),
        metrics,
        inline=inline,
    )
    app = App(
        name="sre-bot",
        client=client,
        signing_secret=(
            settings.slack_signing_secret.get_secret_value()
            if settings.slack_signing_secret
            else None
        ),
        request_verification_enabled=verify_requests,
        process_before_response=process_before_response,
    )
    approvals = SlackApprovals(ApprovalFlow(settings, stores=stores), service)
    service.proposal_hook = approvals.proposal_reply
    commands.register(app, service, store, stores.audit)
    mentions.register(app, service)
    actions.register(app, approvals)
    return Bot(
        settings=settings,
        store=store,
        metrics=metrics,
        service=service,
        app=app,
        pagerduty=PagerDutyReceiver(settings, service, store, metrics),
        alertmanager=AlertmanagerReceiver(settings, service, store, metrics),
        approvals=approvals,
        stores=stores,
    )
