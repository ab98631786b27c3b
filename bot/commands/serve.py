"""`sre-bot serve --socket | --http [--port 3000]`: run the Slack bot."""

from __future__ import annotations

import gc
import signal
import threading

import click
from slack_bolt.error import BoltError
from slack_sdk.errors import SlackApiError

from approvals.policy import PolicyError
from approvals.store import StoreError
from bot.app import Bot, BotConfigError
from bot.settings import Settings


def register(cli: click.Group) -> None:
    """Attach `serve`."""

    @cli.command("serve")
    @click.option("--socket", "mode", flag_value="socket", help="Socket Mode (SLACK_APP_TOKEN).")
    @click.option("--http", "mode", flag_value="http", help="HTTP: Slack events and webhooks.")
    @click.option("--port", default=3000, show_default=True, help="HTTP port (0: any free port).")
    @click.option("--host", default="0.0.0.0", show_default=True, help="HTTP bind address.")
    def serve(mode: str | None, port: int, host: str) -> None:
        """Serve the Slack bot over Socket Mode or HTTP."""
        if mode is None:
            raise click.UsageError("choose --socket (development) or --http (production)")
        settings = Settings()
        try:
            if mode == "socket":
                from bot.socket_mode import run_socket_mode

                run_socket_mode(settings)
            else:
                _serve_http(settings, host, port)
        except (BotConfigError, StoreError, PolicyError) as e:
            raise click.ClickException(str(e)) from e
        except (BoltError, SlackApiError, OSError) as e:
            # Bolt checks the token with auth.test at start-up; say what to check, not a traceback.
            raise click.ClickException(
                f"cannot start: Slack refused or could not be reached at {settings.slack_api_url} "
                f"({e}). Check SLACK_BOT_TOKEN, SRE_BOT_SLACK_API_URL and the network."
            ) from e


def _announce_workers(bot: Bot) -> None:
    """Say on stderr when the investigation workers are ready (they start in the background)."""
    workers = bot.service.workers
    if workers is None:
        return

    def announce() -> None:
        if workers.wait_ready(timeout=300):
            click.echo(
                f"sre-bot: {workers.status()['processes']} investigation worker processes ready",
                err=True,
            )
        else:
            click.echo("sre-bot: investigation workers did not start in 300 s", err=True)

    threading.Thread(target=announce, name="workers-ready", daemon=True).start()


def _exit_now(signum: int, frame: object) -> None:
    raise SystemExit(0)


def _serve_http(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    from bot.app import build_bot
    from bot.http import create_http_app

    bot = build_bot(settings, workers=settings.workers)
    # Kill-switch deadlines and approval expiry fire from this process while it serves.
    bot.start_background()
    click.echo(f"sre-bot: serving Slack events and webhooks on http://{host}:{port}", err=True)
    _announce_workers(bot)
    app = create_http_app(bot)
    # Everything loaded so far (the engine, LangGraph, the clients) lives as long as the
    # process: keep it out of the cycle collector's full passes, which otherwise stall acks.
    gc.collect()
    gc.freeze()
    # uvicorn shuts down gracefully on SIGTERM, then raises the signal again: end through
    # SystemExit so `finally` drains the workers (a second SIGTERM cuts the drain short).
    signal.signal(signal.SIGTERM, _exit_now)
    try:
        uvicorn.run(app, host=host, port=port, log_level="info")
    finally:
        # SIGTERM (a deploy): running rounds get SRE_BOT_DRAIN_SECONDS to finish; any still
        # running then is stopped and its thread says so.
        bot.close(wait=True, timeout=settings.drain_seconds)
