"""`sre-bot serve --socket`: the bot over Slack's Socket Mode (development, no public URL).

Socket Mode carries Slack's requests over a WebSocket opened with `SLACK_APP_TOKEN`, so there
is no request signature to check. Webhooks need a public URL and so `serve --http`.
"""

from __future__ import annotations

import signal
import sys

from slack_bolt.adapter.socket_mode import SocketModeHandler

from bot.app import BotConfigError, build_bot
from bot.settings import Settings


def run_socket_mode(settings: Settings) -> None:
    """Connect to Slack and serve until interrupted."""
    if settings.slack_app_token is None:
        raise BotConfigError(
            "SLACK_APP_TOKEN is not set; create an app-level token (xapp-...) with "
            "connections:write under Basic Information > App-Level Tokens"
        )
    bot = build_bot(settings, verify_requests=False, workers=settings.workers)
    # SIGTERM (a deploy, systemd) ends the process through `finally`, so rounds can drain.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    bot.start_background()  # kill-switch deadlines and approval expiry
    try:
        SocketModeHandler(bot.app, settings.slack_app_token.get_secret_value()).start()
    finally:
        bot.close(wait=True, timeout=settings.drain_seconds)
