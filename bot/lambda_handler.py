"""AWS Lambda entry points (serverless.yml): the Slack endpoint and the webhooks.

`handler` serves `POST /slack/events` through Bolt's `aws_lambda` adapter with
`process_before_response`: the first invocation only acks (within Slack's 3 s), and Bolt
re-invokes this same function asynchronously (`lambda:InvokeFunction` on itself) to run the
lazy listeners, where the investigation runs inline. `webhooks` serves
`POST /webhooks/pagerduty` and `POST /webhooks/alertmanager` and nothing else.

Both take API Gateway HTTP API (payload version 2.0) events. Secrets are not in the
environment: `SRE_BOT_SSM_SECRETS` names SSM parameters, read once per cold start.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
from collections.abc import Mapping
from typing import Any

from pydantic import AliasChoices

from bot.app import Bot, build_bot
from bot.settings import Settings

# One bot per function kind, per Lambda container (kept while the container stays warm).
_bots: dict[str, Bot] = {}
_slack_handlers: dict[str, Any] = {}


class LambdaConfigError(Exception):
    """The function's configuration (environment, SSM parameters) is unusable; says what to fix."""


def ssm_secret_names(spec: str) -> dict[str, str]:
    """`SRE_BOT_SSM_SECRETS` ("ENV_NAME=/ssm/name,...") as {ENV_NAME: parameter name}."""
    names: dict[str, str] = {}
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        env_name, sep, param = part.partition("=")
        if not sep or not env_name.strip() or not param.strip().startswith("/"):
            raise LambdaConfigError(
                f"SRE_BOT_SSM_SECRETS entry {part!r} must look like ENV_NAME=/ssm/parameter/name"
            )
        names[env_name.strip()] = param.strip()
    return names


def read_ssm_secrets(names: Mapping[str, str], ssm: Any | None = None) -> dict[str, str]:
    """Fetch and decrypt the parameters in one `GetParameters` call; {ENV_NAME: value}."""
    if not names:
        return {}
    if ssm is None:
        import boto3

        ssm = boto3.client("ssm")
    wanted = sorted(set(names.values()))
    found: dict[str, str] = {}
    for i in range(0, len(wanted), 10):  # GetParameters takes at most 10 names
        resp = ssm.get_parameters(Names=wanted[i : i + 10], WithDecryption=True)
        found.update({p["Name"]: p["Value"] for p in resp.get("Parameters", [])})
    missing = [n for n in wanted if n not in found]
    if missing:
        raise LambdaConfigError(
            f"SSM parameters not found (or not readable by this function's role): {missing}; "
            "create them as SecureString, e.g. aws ssm put-parameter --type SecureString "
            f"--name {missing[0]} --value ..."
        )
    return {env_name: found[param] for env_name, param in names.items()}


def _settings_field(env_name: str) -> str:
    """The `Settings(...)` keyword for an environment variable name (alias or SRE_BOT_ field)."""
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices) and env_name in alias.choices:
            return env_name
        if env_name == f"SRE_BOT_{name.upper()}":
            return name
    raise LambdaConfigError(f"SRE_BOT_SSM_SECRETS names {env_name!r}, which is not a setting")


def lambda_settings(ssm: Any | None = None) -> Settings:
    """Settings from the function's environment, plus its secrets from SSM Parameter Store.

    A `KUBECONFIG` secret holds the kubeconfig's text; it is written to a private file and the
    setting points there, as everywhere else.
    """
    secrets = read_ssm_secrets(ssm_secret_names(os.environ.get("SRE_BOT_SSM_SECRETS", "")), ssm)
    overrides: dict[str, Any] = {}
    for env_name, value in secrets.items():
        if env_name == "KUBECONFIG":
            fd, path = tempfile.mkstemp(prefix="kubeconfig-")  # mode 0600
            with os.fdopen(fd, "w") as f:
                f.write(value)
            value = path
        overrides[_settings_field(env_name)] = value
    return Settings(**overrides)


def runtime(kind: str = "slack", *, verify_requests: bool = True) -> Bot:
    """The bot for this Lambda container, built on its first invocation and reused while warm."""
    if kind not in _bots:
        _bots[kind] = build_bot(
            lambda_settings(),
            process_before_response=True,
            verify_requests=verify_requests,
            inline=True,
        )
    return _bots[kind]


def reset() -> None:
    """Close and forget the cached bots (a new configuration; tests)."""
    for bot in _bots.values():
        bot.close(wait=True)
    _bots.clear()
    _slack_handlers.clear()


def _body(event: Mapping[str, Any]) -> bytes:
    raw = event.get("body") or ""
    return base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode()


def _path(event: Mapping[str, Any]) -> str:
    return event.get("rawPath") or event.get("path") or ""


def _json(status: int, body: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(body),
    }


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The `slack` function: Slack's requests, and Bolt's own lazy-listener re-invocations."""
    # Imported here: the adapter pulls in boto3, which the other functions' cold starts skip.
    from slack_bolt.adapter.aws_lambda import SlackRequestHandler

    bot = runtime("slack")
    if "slack" not in _slack_handlers:
        _slack_handlers["slack"] = SlackRequestHandler(bot.app)
    if _path(event).endswith("/healthz"):
        return _json(200, {"ok": True})
    return _slack_handlers["slack"].handle(event, context)


def webhooks(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The `webhooks` function: PagerDuty v3 and Alertmanager v4 deliveries only."""
    # No Slack request ever reaches this function, so it holds no signing secret to check.
    bot = runtime("webhooks", verify_requests=False)
    receivers = {"/webhooks/pagerduty": bot.pagerduty, "/webhooks/alertmanager": bot.alertmanager}
    path = _path(event)
    for suffix, receiver in receivers.items():
        if path.endswith(suffix):
            result = receiver.handle(event.get("headers") or {}, _body(event))
            return _json(result.status, result.body)
    return _json(404, {"ok": False, "error": f"no webhook at {path or '/'}"})
