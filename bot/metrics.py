"""The bot's own Prometheus metrics, served at `GET /metrics`.

Each app instance owns its registry (no process-global state), so tests can run several.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.metrics import MetricWrapperBase


class BotMetrics:
    """Counters for incidents, webhook deliveries and Slack posting failures."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.incidents_opened = Counter(
            "sre_bot_incidents_opened",
            "Incidents opened, by trigger source.",
            ["source"],
            registry=self.registry,
        )
        self.investigations = Counter(
            "sre_bot_investigations",
            "Investigation rounds finished, by outcome (ok, error).",
            ["outcome"],
            registry=self.registry,
        )
        self.webhooks = Counter(
            "sre_bot_webhook_deliveries",
            "Webhook deliveries, by source and outcome (accepted, duplicate, unauthorized, "
            "malformed, dead_letter).",
            ["source", "outcome"],
            registry=self.registry,
        )
        self.slack_failures = Counter(
            "sre_bot_slack_post_failures",
            "Slack Web API calls that failed after retries.",
            ["method"],
            registry=self.registry,
        )
        self.investigation_seconds = Histogram(
            "sre_bot_investigation_seconds",
            "Wall time of one investigation round.",
            registry=self.registry,
        )

    def exposition(self) -> bytes:
        """The registry in the Prometheus text format."""
        return generate_latest(self.registry)


def metric_names() -> list[str]:
    """BotMetrics' metric attributes (worker processes record updates to these by name)."""
    return [
        name for name, value in vars(BotMetrics()).items() if isinstance(value, MetricWrapperBase)
    ]
