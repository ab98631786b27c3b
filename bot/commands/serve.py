"""`sre-bot serve --socket | --http [--port 3000]`: run the Slack bot."""

from __future__ import annotations

import click
from slack_bolt.error import BoltError
from slack_sdk.errors import SlackApiError

from approvals.policy import PolicyError
from approvals.store import StoreError
from bot.app import BotConfigError
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


def _serve_http(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    from bot.app import build_bot
    from bot.http import create_http_app

    bot = build_bot(settings)
    # Kill-switch deadlines and approval expiry fire from this process while it serves.
    bot.start_background()
    click.echo(f"sre-bot: serving Slack events and webhooks on http://{host}:{port}", err=True)
    try:
        uvicorn.run(create_http_app(bot), host=host, port=port, log_level="info")
    finally:
        bot.close(wait=False)
