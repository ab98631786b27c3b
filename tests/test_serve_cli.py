"""`sre-bot serve` fails with a message a person can act on, never a traceback."""

from __future__ import annotations

import socket

from click.testing import CliRunner

from bot.cli import cli


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_without_a_mode_says_which_to_choose():
    result = CliRunner().invoke(cli, ["serve"])
    assert result.exit_code == 2
    assert "choose --socket" in result.output


def test_serve_with_slack_unreachable_says_what_to_check(monkeypatch, tmp_path):
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "secret")
    monkeypatch.setenv("SRE_BOT_SLACK_API_URL", f"http://127.0.0.1:{_closed_port()}/api/")
    monkeypatch.setenv("SRE_BOT_STORE", f"sqlite:///{tmp_path / 'state.db'}")
    result = CliRunner().invoke(cli, ["serve", "--http", "--port", "0"])
    assert result.exit_code == 1
    assert "could not be reached" in result.output
    assert "SRE_BOT_SLACK_API_URL" in result.output
    assert result.exc_info is None or result.exc_info[0] is SystemExit
