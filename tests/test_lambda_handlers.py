"""The Lambda functions of serverless.yml, invoked locally with real API Gateway HTTP API
(payload 2.0) events and an EventBridge scheduled event.

Real: the handlers, Bolt's `aws_lambda` adapter and its `LambdaLazyListenerRunner`, boto3's
Lambda and SSM clients, the sandbox cluster, SQLite. Stood in at the wire only: Slack's Web
API (`SlackDouble`) and AWS's Lambda `Invoke` / SSM `GetParameters` (`AwsDouble`, reached by
boto3 through `AWS_ENDPOINT_URL_*`). The lazy-listener re-invocation is therefore the real
one: Bolt calls `lambda.invoke(InvocationType="Event")` on the function's own ARN, the double
queues the payload, and the test delivers it to the handler as the Lambda service would.
"""

from __future__ import annotations

import base64
import copy
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from agents.models import Proposal, Verb
from agents.tools.cluster import Cluster
from approvals.executor import Executor
from approvals.killswitch import KillSwitch
from approvals.policy import Confirmation
from approvals.resources import KubeResources, Ref
from bot import lambda_handler, lambda_sweeper
from tests.conftest import BUNDLED_SCENARIOS, SHARED_SCENARIOS
from tests.support.aws_double import AwsDouble
from tests.support.bot_runtime import (
    ALERTMANAGER_TOKEN,
    BOT_TOKEN,
    INCIDENT_CHANNEL,
    PAGERDUTY_SECRET,
    SIGNING_SECRET,
    pagerduty_signature,
    sandbox_for,
    scenario_trigger,
    slash_fields,
)
from tests.support.slack_double import SlackDouble, sign

CHECKOUT = SHARED_SCENARIOS / "checkout-missing-env.yaml"
INVENTORY = BUNDLED_SCENARIOS / "inventory-readiness-path.yaml"
CATALOG = SHARED_SCENARIOS / "catalog-wrong-target-port.yaml"
SSM = "/sre-bot/test"
FINAL = ("awaiting approval", "diagnosed", "failed")


@dataclass
class LambdaContext:
    """The parts of the Lambda context object the handlers read."""

    function_name: str = "sre-bot-test-slack"
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:sre-bot-test-slack"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"


def http_event(path: str, body: str, headers: dict[str, str], *, b64: bool) -> dict[str, Any]:
    """An API Gateway HTTP API (payload format 2.0) request event, as Lambda receives it."""
    now = time.time()
    return {
        "version": "2.0",
        "routeKey": f"POST {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {k.lower(): v for k, v in headers.items()},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "abc123.execute-api.eu-west-1.amazonaws.com",
            "domainPrefix": "abc123",
            "http": {
                "method": "POST",
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "192.0.2.10",
                "userAgent": headers.get("User-Agent", "test"),
            },
            "requestId": uuid.uuid4().hex,
            "routeKey": f"POST {path}",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "body": base64.b64encode(body.encode()).decode() if b64 else body,
        "isBase64Encoded": b64,
    }


def slash_event(text: str, response_url: str, *, secret: str = SIGNING_SECRET) -> dict[str, Any]:
    """`/sre <text>` as Slack posts it (form-encoded, signed); HTTP API base64-encodes forms."""
    body = urlencode(slash_fields(text, response_url))
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        **sign(secret, body),
    }
    return http_event("/slack/events", body, headers, b64=True)


def scheduled_event() -> dict[str, Any]:
    """The EventBridge event a `schedule: rate(1 minute)` rule delivers."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "region": "eu-west-1",
        "resources": ["arn:aws:events:eu-west-1:123456789012:rule/sre-bot-test-sweeper"],
        "detail": {},
    }


@pytest.fixture
def slack() -> Iterator[SlackDouble]:
    with SlackDouble() as double:
        yield double


@pytest.fixture
def aws() -> Iterator[AwsDouble]:
    params = {
        f"{SSM}/slack-bot-token": BOT_TOKEN,
        f"{SSM}/slack-signing-secret": SIGNING_SECRET,
        f"{SSM}/pagerduty-secret": PAGERDUTY_SECRET,
    }
    with AwsDouble(parameters=params) as double:
        yield double


@pytest.fixture
def configure(monkeypatch, slack: SlackDouble, aws: AwsDouble, tmp_path: Path):
    """The function's environment as serverless.yml sets it (secrets via SSM); cleared after."""

    def apply(sandbox: Any | None = None, *, secrets: str | None = None) -> Path:
        db = tmp_path / "bot.db"
        env = {
            "AWS_ENDPOINT_URL_LAMBDA": aws.endpoint,
            "AWS_ENDPOINT_URL_SSM": aws.endpoint,
            "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
            "AWS_SECRET_ACCESS_KEY": "not-a-real-secret",
            "AWS_DEFAULT_REGION": "eu-west-1",
            "SRE_BOT_SSM_SECRETS": secrets
            or (
                f"SLACK_BOT_TOKEN={SSM}/slack-bot-token,"
                f"SLACK_SIGNING_SECRET={SSM}/slack-signing-secret,"
                f"SRE_BOT_PAGERDUTY_SECRET={SSM}/pagerduty-secret"
            ),
            # Not a secret worth SSM in a test: one variable in the plain environment still works.
            "SRE_BOT_ALERTMANAGER_TOKEN": ALERTMANAGER_TOKEN,
            "SRE_BOT_SLACK_API_URL": slack.base_url,
            "SRE_BOT_INCIDENT_CHANNEL": INCIDENT_CHANNEL,
            "SRE_BOT_STORE": f"sqlite:///{db}",
        }
        for name in ("AWS_PROFILE", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "KUBECONFIG"):
            monkeypatch.delenv(name, raising=False)
        if sandbox is not None:
            env["KUBECONFIG"] = str(sandbox.kubeconfig)
            env["SRE_BOT_PROMETHEUS_URL"] = sandbox.prometheus_url
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        lambda_handler.reset()
        return db

    yield apply
    lambda_handler.reset()


@pytest.fixture(scope="module")
def checkout():
    with sandbox_for(CHECKOUT) as sb:
        yield sb


def _root_status(slack: SlackDouble, ts: str) -> str | None:
    for call in reversed([c for c in slack.calls_of("chat.update") if c.args.get("ts") == ts]):
        text = json.dumps(call.args.get("blocks"))
        for status in FINAL:
            if status in text:
                return status
    return None


def _deliver_lazy(aws: AwsDouble, context: LambdaContext) -> list[dict[str, Any]]:
    """Play the Lambda service: run every queued asynchronous self-invocation."""
    results = []
    for inv in aws.take_invocations():
        assert inv.invocation_type == "Event"
        assert inv.function == context.invoked_function_arn
        results.append(lambda_handler.handler(inv.payload, context))
    return results


# -- the slack function ---------------------------------------------------------------------


def test_slash_help_is_answered_in_the_ack_with_secrets_read_from_ssm(configure, slack, aws):
    configure()
    context = LambdaContext()
    resp = lambda_handler.handler(slash_event("help", slack.response_url), context)
    assert resp["statusCode"] == 200
    assert "/sre investigate" in resp["body"]
    assert aws.ssm_requests, "the signing secret came from SSM Parameter Store"
    # The lazy listener is still re-invoked (Bolt does so for every lazy function); it posts nothing.
    _deliver_lazy(aws, context)
    assert slack.calls_of("chat.postMessage") == []


def test_slash_investigate_acks_then_the_lazy_self_invocation_investigates(
    configure, slack, aws, checkout
):
    configure(checkout)
    context = LambdaContext()
    started = time.monotonic()
    resp = lambda_handler.handler(
        slash_event("investigate checkout is throwing 500s", slack.response_url), context
    )
    assert time.monotonic() - started < 3
    assert resp["statusCode"] == 200 and "investigating" in resp["body"]
    assert slack.calls_of("chat.postMessage") == [], "nothing but the ack in the first invocation"

    queued = aws.invocations[:]
    assert len(queued) == 1 and queued[0].payload["headers"]["x-slack-bolt-lazy-only"] == "1"
    _deliver_lazy(aws, context)

    roots = [c for c in slack.calls_of("chat.postMessage") if not c.args.get("thread_ts")]
    assert len(roots) == 1 and roots[0].args["channel"] == "C123"
    assert "checkout is throwing 500s" in json.dumps(roots[0].args["blocks"])
    ts = _first_ts(slack)
    # Inline on Lambda: by the time the invocation returned, the investigation had finished.
    assert _root_status(slack, ts) in FINAL
    assert any(c.args.get("thread_ts") == ts for c in slack.calls_of("chat.postMessage"))


def _first_ts(slack: SlackDouble) -> str:
    ts = {c.args.get("ts") for c in slack.calls_of("chat.update")}
    assert len(ts) == 1
    return ts.pop()


def test_a_slack_request_with_a_bad_signature_gets_401_and_invokes_nothing(configure, slack, aws):
    configure()
    resp = lambda_handler.handler(
        slash_event("investigate x", slack.response_url, secret="wrong"), LambdaContext()
    )
    assert resp["statusCode"] == 401
    assert aws.invocations == [] and slack.calls_of("chat.postMessage") == []


def test_a_missing_ssm_parameter_names_it_and_how_to_create_it(configure, aws, slack):
    configure(secrets=f"SLACK_BOT_TOKEN={SSM}/slack-bot-token,SLACK_SIGNING_SECRET={SSM}/nope")
    with pytest.raises(lambda_handler.LambdaConfigError, match=f"{SSM}/nope.*put-parameter"):
        lambda_handler.handler(slash_event("help", slack.response_url), LambdaContext())


# -- the webhooks function ------------------------------------------------------------------


def _pagerduty_event(body: str, signature: str) -> dict[str, Any]:
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "PagerDuty-Webhook/V3.0",
        "X-PagerDuty-Signature": signature,
        "X-Webhook-Id": f"wh-{uuid.uuid4().hex[:8]}",
    }
    return http_event("/webhooks/pagerduty", body, headers, b64=False)


def test_a_signed_pagerduty_delivery_opens_and_investigates_an_incident(configure, slack):
    with sandbox_for(INVENTORY) as sb:
        configure(sb)
        body = json.dumps(scenario_trigger(INVENTORY)["pagerduty"])
        resp = lambda_handler.webhooks(
            _pagerduty_event(body, pagerduty_signature(body)), LambdaContext()
        )
    assert resp["statusCode"] == 202, resp["body"]
    roots = [c for c in slack.calls_of("chat.postMessage") if not c.args.get("thread_ts")]
    assert [r.args["channel"] for r in roots] == [INCIDENT_CHANNEL]
    assert _root_status(slack, _first_ts(slack)) in FINAL


def test_a_pagerduty_delivery_with_a_bad_signature_gets_401_and_posts_nothing(configure, slack):
    configure()
    body = json.dumps(scenario_trigger(INVENTORY)["pagerduty"])
    resp = lambda_handler.webhooks(_pagerduty_event(body, "v1=" + "0" * 64), LambdaContext())
    assert resp["statusCode"] == 401
    assert slack.calls_of("chat.postMessage") == []


def test_an_alertmanager_delivery_with_the_bearer_token_opens_an_incident(configure, slack):
    payload = copy.deepcopy(scenario_trigger(CATALOG)["alertmanager"])
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Alertmanager/0.27.0",
        "Authorization": f"Bearer {ALERTMANAGER_TOKEN}",
    }
    with sandbox_for(CATALOG) as sb:
        configure(sb)
        event = http_event("/webhooks/alertmanager", json.dumps(payload), headers, b64=False)
        resp = lambda_handler.webhooks(event, LambdaContext())
        wrong = dict(headers, Authorization="Bearer nope")
        event = http_event("/webhooks/alertmanager", json.dumps(payload), wrong, b64=False)
        refused = lambda_handler.webhooks(event, LambdaContext())
    assert resp["statusCode"] in (200, 202), resp["body"]
    assert refused["statusCode"] == 401
    roots = [c for c in slack.calls_of("chat.postMessage") if not c.args.get("thread_ts")]
    assert [r.args["channel"] for r in roots] == [INCIDENT_CHANNEL]


def test_the_webhooks_function_serves_no_slack_route(configure, slack):
    configure()
    event = slash_event("help", slack.response_url)
    assert lambda_handler.webhooks(event, LambdaContext())["statusCode"] == 404


# -- the sweeper function -------------------------------------------------------------------


def test_the_scheduled_sweeper_rolls_back_an_overdue_armed_fix_in_the_cluster(configure, checkout):
    db = configure(checkout, secrets=f"SLACK_BOT_TOKEN={SSM}/slack-bot-token")
    target = "Deployment/shop/frontend"
    kube = KubeResources(Cluster.connect(checkout.kubeconfig, checkout.prometheus_url).api)
    before = kube.get(Ref.parse(target))["spec"]["replicas"]

    # Arm a fix the way the Slack function does after Approve, with a window already over.
    executor = Executor(Cluster.connect(checkout.kubeconfig, checkout.prometheus_url).api)
    proposal = Proposal(
        verb=Verb.SCALE, target=target, parameters={"replicas": before + 3}, rationale="test"
    )
    switch = KillSwitch(db, executor)
    record = executor.execute(proposal, approved_by="U222")
    assert kube.get(Ref.parse(target))["spec"]["replicas"] == before + 3
    switch.arm("fix-1", "inc-1", record, window_seconds=0.001, confirmation=Confirmation.HUMAN)
    switch.close()

    summary = lambda_sweeper.handler(scheduled_event(), LambdaContext("sre-bot-test-sweeper"))
    assert summary["rolled_back"] == ["fix-1"]
    assert kube.get(Ref.parse(target))["spec"]["replicas"] == before

    again = lambda_sweeper.handler(scheduled_event(), LambdaContext("sre-bot-test-sweeper"))
    assert again["rolled_back"] == [], "a deadline fires once"
