"""The bot assembled once: settings -> store, Web API client, incident service, Bolt app, receivers.

Entry points (`serve --http`, `serve --socket`, the Lambda handler) are thin wrappers around
the `Bot` built here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

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
from bot.workers import WorkerPool


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

    def close(self, wait: bool = True, timeout: float = 60.0) -> None:
        """Let background investigations finish (with `wait`, worker processes get `timeout`
        seconds), stop the timers, close stores."""
        self.service.shutdown(wait=wait, timeout=timeout)
        self.approvals.close()
        self.store.close()
        if self.stores is not None:
            self.stores.close()


def _incident_service(
    settings: Settings,
    stores: Stores,
    client: WebClient,
    store: StateStore,
    investigator: Investigator,
    metrics: Any,
    *,
    inline: bool,
) -> tuple[IncidentService, SlackApprovals]:
    """The incident service with the approval flow wired in (proposals go through the gate)."""
    service = IncidentService(settings, client, store, investigator, metrics, inline=inline)
    approvals = SlackApprovals(ApprovalFlow(settings, stores=stores), service)
    service.proposal_hook = approvals.proposal_reply
    return service, approvals


def build_worker_service(
    settings: Settings, metrics: Any
) -> tuple[IncidentService, Callable[[], None]]:
    """A worker process's incident service (bot.workers): the real engine, rounds run inline on
    the worker's own threads, the same stores and Slack as the serving process; no timers
    (the serving process sweeps deadlines). Returns the service and how to close it."""
    stores = open_stores(settings.store)
    service, approvals = _incident_service(
        settings,
        stores,
        web_client(settings),
        stores.state,
        engine_investigator(settings),
        metrics,
        inline=True,
    )

    def close() -> None:
        approvals.close()
        stores.close()

    return service, close


def _share_client(client: WebClient) -> Callable[..., Any]:
    """Global middleware: listeners get the app's one shared Web API client.

    Bolt builds a WebClient per request (so a listener may swap its token) and deep-copies the
    request, that client included, for every lazy listener: half of an ack's CPU. We have one
    static bot token and never swap it, so every request shares `client` (a SharedWebClient,
    which such copies share rather than copy)."""

    def share_client(context: BoltContext, next: Callable[[], Any]) -> Any:  # noqa: A002
        context["client"] = client
        # Bolt built these around the per-request client to call this very middleware; the
        # context's properties rebuild them, around `client`, when a listener asks.
        for name in ("say", "complete", "fail"):
            context.pop(name, None)
        return next()

    return share_client


def build_bot(
    settings: Settings,
    *,
    investigator: Investigator | None = None,
    store: StateStore | None = None,
    process_before_response: bool = True,
    verify_requests: bool = True,
    inline: bool = False,
    workers: int = 0,
) -> Bot:
    """Assemble the bot. `verify_requests=False` only for Socket Mode, where Slack's WebSocket
    replaces request signatures; `inline` runs investigations in the calling thread (Lambda);
    `workers` > 0 runs them in that many worker processes (bot.workers; `serve` does).

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
    if workers and investigator is not None:
        raise BotConfigError(
            "worker processes run the real engine; pass workers=0 with an investigator"
        )
    # One set of connections for the incident store, the gate, the kill switch and the audit log.
    stores = open_stores(settings.store)
    store = store or stores.state
    metrics = BotMetrics()
    client = web_client(settings)
    service, approvals = _incident_service(
        settings,
        stores,
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
    app.use(_share_client(client))
    commands.register(app, service, store, stores.audit)
    mentions.register(app, service)
    actions.register(app, approvals)
    if workers:  # last: nothing after this can fail and leave the processes behind
        service.workers = WorkerPool(
            settings, workers, metrics=metrics, on_lost=service.report_lost
        )
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
