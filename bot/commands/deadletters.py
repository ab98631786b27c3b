"""`sre-bot deliveries list | replay`: webhook deliveries that could not be processed."""

from __future__ import annotations

import json

import click

from approvals.store import StoreError, open_store
from bot.app import BotConfigError
from bot.settings import Settings


def register(cli: click.Group) -> None:
    """Attach `deliveries`."""

    @cli.group("deliveries")
    def deliveries() -> None:
        """Dead-lettered webhook deliveries, kept with the reason, for replay."""

    @deliveries.command("list")
    @click.option("--all", "include_replayed", is_flag=True, help="Include replayed ones.")
    @click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
    def list_(include_replayed: bool, as_json: bool) -> None:
        """List dead letters, oldest first."""
        try:
            store = open_store(Settings().store)
        except StoreError as e:
            raise click.ClickException(str(e)) from e
        for letter in store.list_dead_letters(include_replayed=include_replayed):
            if as_json:
                click.echo(letter.model_dump_json())
            else:
                state = " (replayed)" if letter.replayed_at else ""
                click.echo(
                    f"{letter.id}\t{letter.source}\t{letter.received_at:%Y-%m-%d %H:%M:%S}"
                    f"\t{letter.reason}{state}"
                )

    @deliveries.command("replay")
    @click.argument("ids", nargs=-1, type=int)
    @click.option("--all", "replay_all", is_flag=True, help="Replay every pending dead letter.")
    def replay(ids: tuple[int, ...], replay_all: bool) -> None:
        """Process dead letters again, through the same receivers as live deliveries."""
        from bot.app import build_bot

        settings = Settings()
        try:
            bot = build_bot(settings, verify_requests=False)
        except (BotConfigError, StoreError) as e:
            raise click.ClickException(str(e)) from e
        try:
            letters = (
                bot.store.list_dead_letters()
                if replay_all
                else [bot.store.get_dead_letter(i) for i in ids]
            )
            if not letters:
                raise click.UsageError("name dead letter ids, or pass --all")
            failed = 0
            for i, letter in zip(ids or [None] * len(letters), letters, strict=False):
                if letter is None:
                    click.echo(f"{i}\tnot found", err=True)
                    failed += 1
                    continue
                receiver = bot.pagerduty if letter.source == "pagerduty" else bot.alertmanager
                result = receiver.replay(letter)
                if result.status < 300:
                    bot.store.mark_replayed(letter.id)
                else:
                    failed += 1
                click.echo(f"{letter.id}\t{result.status}\t{json.dumps(result.body)}")
        finally:
            bot.close(wait=True)
        if failed:
            raise SystemExit(1)
