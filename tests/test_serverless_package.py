"""serverless.yml, rendered for real: `osls package` (the open-source Serverless Framework fork,
from the npm registry) writes the CloudFormation, `cfn-lint` must find no errors in it, and
the template must hold the deployment's promises (three functions, the schedule, self-invoke
for the Slack function only, least-privilege IAM, no secrets in the environment)."""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.xdist_group("serverless")

# Lambda needs these EC2 actions with Resource "*" to manage the ENIs of a function in a VPC:
# they cannot be scoped to resources (AWSLambdaVPCAccessExecutionRole grants the same).
VPC_ENI_ACTIONS = {
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
}
TEMPLATES = (
    "cloudformation-template-create-stack.json",
    "cloudformation-template-update-stack.json",
)
SECRET_NAMES = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "PAGERDUTY", "ALERTMANAGER_TOKEN")


@pytest.fixture(scope="module")
def packaged(tmp_path_factory) -> Path:
    """The service copied to a temp dir (so nothing else in the tree is read) and packaged."""
    if shutil.which("npx") is None or shutil.which("node") is None:
        pytest.skip("node/npx are not installed; `osls package` needs them")
    service = tmp_path_factory.mktemp("service")
    shutil.copy(REPO / "serverless.yml", service)
    for package in ("bot", "agents", "approvals", "prompts", "sandbox", "tests"):
        shutil.copytree(
            REPO / package, service / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    cache = REPO / ".cache" / "npm"  # git-ignored; keeps the osls download across runs
    cache.mkdir(parents=True, exist_ok=True)
    run = subprocess.run(
        ["npx", "--yes", "osls@4", "package", "--stage", "test"],
        cwd=service,
        env={
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": str(service),
            "npm_config_cache": str(cache),
            "SLS_TELEMETRY_DISABLED": "1",
        },
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return service / ".serverless"


@pytest.fixture(scope="module")
def template(packaged: Path) -> dict[str, Any]:
    return json.loads((packaged / "cloudformation-template-update-stack.json").read_text())


def _of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == kind}


def _statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        s
        for policy in role["Properties"]["Policies"]
        for s in policy["PolicyDocument"]["Statement"]
    ]


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_cfn_lint_finds_no_errors_in_the_rendered_template(packaged: Path) -> None:
    run = subprocess.run(
        [str(REPO / ".venv" / "bin" / "cfn-lint"), "--format", "parseable", "--", *TEMPLATES],
        cwd=packaged,
        capture_output=True,
        text=True,
        timeout=120,
    )
    # cfn-lint's exit code is a bit mask: 2 = errors, 4 = warnings, 8 = informational.
    assert run.returncode & 2 == 0 and run.returncode & 1 == 0, run.stdout + run.stderr
    assert ":E" not in run.stdout, run.stdout


def test_three_functions_with_their_handlers_and_a_python_runtime(template) -> None:
    functions = _of_type(template, "AWS::Lambda::Function")
    handlers = {f["Properties"]["Handler"] for f in functions.values()}
    assert handlers == {
        "bot.lambda_handler.handler",
        "bot.lambda_handler.webhooks",
        "bot.lambda_sweeper.handler",
    }
    assert {f["Properties"]["Runtime"] for f in functions.values()} <= {"python3.11", "python3.12"}
    for f in functions.values():
        assert f["Properties"]["VpcConfig"]["SubnetIds"], "Redis (ElastiCache) is in the VPC"


def test_the_http_routes_and_the_every_minute_schedule(template) -> None:
    routes = {
        r["Properties"]["RouteKey"] for r in _of_type(template, "AWS::ApiGatewayV2::Route").values()
    }
    assert routes == {
        "POST /slack/events",
        "POST /webhooks/pagerduty",
        "POST /webhooks/alertmanager",
    }
    rules = _of_type(template, "AWS::Events::Rule")
    assert [r["Properties"]["ScheduleExpression"] for r in rules.values()] == ["rate(1 minute)"]
    target = rules.popitem()[1]["Properties"]["Targets"][0]["Arn"]
    assert target == {"Fn::GetAtt": ["SweeperLambdaFunction", "Arn"]}


def test_only_the_slack_function_may_invoke_itself(template) -> None:
    functions = _of_type(template, "AWS::Lambda::Function")
    roles = _of_type(template, "AWS::IAM::Role")
    for fn in functions.values():
        role = roles[fn["Properties"]["Role"]["Fn::GetAtt"][0]]
        invokes = [s for s in _statements(role) if "lambda:InvokeFunction" in _listed(s["Action"])]
        if fn["Properties"]["Handler"] == "bot.lambda_handler.handler":
            assert len(invokes) == 1
            assert invokes[0]["Resource"]["Fn::Sub"].endswith(":function:sre-bot-test-slack")
            assert fn["Properties"]["FunctionName"] == "sre-bot-test-slack"
        else:
            assert invokes == [], fn["Properties"]["Handler"]


def test_iam_has_no_wildcard_actions_and_star_resources_only_for_vpc_interfaces(template) -> None:
    roles = _of_type(template, "AWS::IAM::Role")
    assert len(roles) == 3, "one role per function"
    for name, role in roles.items():
        assert not role["Properties"].get("ManagedPolicyArns"), name
        for s in _statements(role):
            actions = set(_listed(s["Action"]))
            assert not any("*" in a for a in actions), (name, actions)
            if "*" in _listed(s["Resource"]):
                assert actions <= VPC_ENI_ACTIONS, (name, actions)


def test_secrets_are_read_from_ssm_never_set_in_the_environment(template) -> None:
    for fn in _of_type(template, "AWS::Lambda::Function").values():
        env = fn["Properties"]["Environment"]["Variables"]
        assert not [k for k in env if any(s in k for s in SECRET_NAMES)], env
        assert not any(str(v).startswith("xox") for v in env.values())
        assert "SLACK_BOT_TOKEN=/sre-bot/test/slack-bot-token" in env["SRE_BOT_SSM_SECRETS"]
        assert env["SRE_BOT_STORE"].startswith("redis://")


def test_the_code_package_holds_the_app_and_no_tests_scenarios_or_cli(packaged: Path) -> None:
    names = zipfile.ZipFile(packaged / "sre-bot.zip").namelist()
    assert "bot/lambda_handler.py" in names and "bot/lambda_sweeper.py" in names
    assert any(n.startswith("agents/runbooks/") for n in names)
    assert any(n.startswith("prompts/") for n in names)
    for excluded in ("tests/", "sandbox/", "bot/commands/", ".venv/", "serverless.yml"):
        assert not any(n.startswith(excluded) for n in names), excluded
    assert not any("__pycache__" in n for n in names)
