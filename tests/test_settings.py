"""Settings come from SRE_BOT_* (and Slack's own) environment variables, validated at start."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.settings import Settings


def test_every_design_variable_is_read_from_the_environment(monkeypatch, tmp_path):
    env = {
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_SIGNING_SECRET": "sig",
        "SLACK_APP_TOKEN": "xapp-1",
        "SRE_BOT_SLACK_API_URL": "http://127.0.0.1:9/api/",
        "SRE_BOT_INCIDENT_CHANNEL": "C123",
        "SRE_BOT_PAGERDUTY_SECRET": "pd",
        "SRE_BOT_ALERTMANAGER_TOKEN": "am",
        "KUBECONFIG": str(tmp_path / "kc"),
        "SRE_BOT_PROMETHEUS_URL": "http://prom:9090",
        "SRE_BOT_STORE": "redis://localhost:6379/0",
        "SRE_BOT_ENGINE": "llm",
        "SRE_BOT_MODEL": "bedrock_converse:x",
        "SRE_BOT_POLICY": str(tmp_path / "policy.yaml"),
        "SRE_BOT_APPROVERS": "U1, U2,,U3",
        "SRE_BOT_KILL_SWITCH_SECONDS": "30",
        "SRE_BOT_RUNBOOKS_DIR": str(tmp_path),
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    s = Settings()
    assert s.slack_bot_token.get_secret_value() == "xoxb-1"
    assert s.slack_app_token.get_secret_value() == "xapp-1"
    assert s.slack_api_url == "http://127.0.0.1:9/api/"
    assert s.incident_channel == "C123"
    assert s.kubeconfig == str(tmp_path / "kc")
    assert s.store == "redis://localhost:6379/0"
    assert s.engine == "llm"
    assert s.approvers == ["U1", "U2", "U3"]
    assert s.kill_switch_seconds == 30
    assert s.runbooks_dir == tmp_path


def test_defaults_are_the_embedded_ones(monkeypatch):
    for k in ("SRE_BOT_ENGINE", "SRE_BOT_STORE", "SRE_BOT_KILL_SWITCH_SECONDS"):
        monkeypatch.delenv(k, raising=False)
    s = Settings()
    assert s.engine == "rules"
    assert s.store.startswith("sqlite:///")
    assert s.kill_switch_seconds == 600


@pytest.mark.parametrize(
    ("var", "value", "message"),
    [
        ("SRE_BOT_STORE", "postgres://x", "SRE_BOT_STORE must be"),
        ("SRE_BOT_ENGINE", "magic", "rules"),
        ("SRE_BOT_KILL_SWITCH_SECONDS", "0", "greater than 0"),
    ],
)
def test_bad_values_are_refused_with_a_message_that_names_them(monkeypatch, var, value, message):
    monkeypatch.setenv(var, value)
    with pytest.raises(ValidationError, match=message):
        Settings()
