"""slack-manifest.yml declares everything the bot listens to and posts with."""

from __future__ import annotations

import yaml

from tests.conftest import REPO


def _manifest() -> dict:
    return yaml.safe_load((REPO / "slack-manifest.yml").read_text())


def test_the_manifest_declares_the_sre_command_events_interactivity_and_socket_mode():
    m = _manifest()
    commands = {c["command"]: c for c in m["features"]["slash_commands"]}
    assert commands["/sre"]["url"].endswith("/slack/events")
    settings = m["settings"]
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["interactivity"]["request_url"].endswith("/slack/events")
    assert "app_mention" in settings["event_subscriptions"]["bot_events"]
    assert settings["socket_mode_enabled"] is True


def test_the_manifest_grants_the_scopes_the_bot_uses():
    scopes = set(_manifest()["oauth_config"]["scopes"]["bot"])
    assert {
        "commands",
        "chat:write",
        "app_mentions:read",
        "files:write",
        "usergroups:read",
    } <= scopes
