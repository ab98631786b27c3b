"""All configuration in one place: environment variables prefixed `SRE_BOT_` (and Slack's own).

Built once at the entry point and passed in; nothing else reads the environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import platformdirs
from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def default_store_url() -> str:
    """SQLite under the user's data directory."""
    return f"sqlite:///{Path(platformdirs.user_data_dir('sre-bot')) / 'sre-bot.db'}"


class Settings(BaseSettings):
    """sre-bot's settings. Every field is documented in the README's Configuration table."""

    model_config = SettingsConfigDict(env_prefix="SRE_BOT_", extra="ignore")

    slack_bot_token: SecretStr | None = Field(
        None, validation_alias=AliasChoices("SLACK_BOT_TOKEN")
    )
    slack_signing_secret: SecretStr | None = Field(
        None, validation_alias=AliasChoices("SLACK_SIGNING_SECRET")
    )
    slack_app_token: SecretStr | None = Field(
        None, validation_alias=AliasChoices("SLACK_APP_TOKEN")
    )
    slack_api_url: str = "https://slack.com/api/"
    incident_channel: str | None = None
    pagerduty_secret: SecretStr | None = None
    alertmanager_token: SecretStr | None = None
    kubeconfig: str | None = Field(None, validation_alias=AliasChoices("KUBECONFIG"))
    prometheus_url: str | None = None
    store: str = Field(default_factory=default_store_url)
    engine: Literal["rules", "llm"] = "rules"
    model: str = "bedrock_converse:anthropic.claude-sonnet-4-5-20250929-v1:0"
    policy: Path | None = None
    approvers: Annotated[list[str], NoDecode] = Field(default_factory=list)
    kill_switch_seconds: int = Field(600, gt=0)
    runbooks_dir: Path | None = None
    workers: int = Field(2, ge=0, le=64)
    drain_seconds: int = Field(20, ge=0)

    @field_validator("approvers", mode="before")
    @classmethod
    def _split_approvers(cls, v: object) -> object:
        if isinstance(v, str):
            return [p.strip() for p in v.split(",") if p.strip()]
        return v

    @field_validator("store")
    @classmethod
    def _store_scheme(cls, v: str) -> str:
        if not (
            v.startswith("sqlite:///") or v.startswith("redis://") or v.startswith("rediss://")
        ):
            raise ValueError(
                f"SRE_BOT_STORE must be sqlite:///path/to/file.db or redis://host:port/db, got {v!r}"
            )
        return v
