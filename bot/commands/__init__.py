"""Subcommands of `sre-bot`. Each module defines `register(cli)`; missing ones are skipped."""

from __future__ import annotations

import importlib

import click

# One module per subcommand family, each owned by its own part of the bot.
_MODULES = ["sandbox", "investigate", "scenarios", "eval", "demo", "serve", "audit", "deadletters"]


def register_all(cli: click.Group) -> None:
    """Attach every subcommand module that exists."""
    for name in _MODULES:
        try:
            mod = importlib.import_module(f"bot.commands.{name}")
        except ModuleNotFoundError as e:
            if e.name == f"bot.commands.{name}":
                continue
            raise
        mod.register(cli)
