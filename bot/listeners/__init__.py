"""Bolt listeners, one module per kind: slash commands, mentions, button actions."""
