"""The `sre-bot` command line. Subcommands live in `bot/commands/`, one module each."""

from __future__ import annotations

import click

from bot.commands import register_all


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="sre-bot")
def cli() -> None:
    """sre-bot: the incident bot that investigates, proposes and waits for your Approve."""


register_all(cli)


def main() -> None:
    """Entry point of the `sre-bot` console script."""
    cli(prog_name="sre-bot")


if __name__ == "__main__":
    main()
