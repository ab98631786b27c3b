"""`sre-bot demo`: a whole incident in the terminal, on the sandbox, in well under a minute."""

from __future__ import annotations

import time

from click.testing import CliRunner

from bot.cli import cli
from bot.commands.demo import DEFAULT_SCENARIO, resolve_scenario
from sandbox.scenario import bundled_scenarios, load_scenario
from tests.conftest import SHARED_SCENARIOS


def test_demo_runs_one_incident_from_trigger_to_verified_fix() -> None:
    started = time.monotonic()
    result = CliRunner().invoke(
        cli,
        ["demo", "--scenario", str(SHARED_SCENARIOS / "checkout-missing-env.yaml")],
    )
    out = result.output
    assert result.exit_code == 0, out
    assert "kubectl --kubeconfig" in out  # commands the user can try
    assert "root cause: Deployment/shop/checkout-api" in out and "DATABASE_URL" in out
    assert "--- Deployment/shop/checkout-api (before)" in out  # the proposal's diff
    assert "dry run accepted" in out
    assert "auto-approving" in out  # stdin is not a terminal here
    assert "resolved" in out
    assert time.monotonic() - started < 60


def test_unknown_scenario_name_lists_the_bundled_ones() -> None:
    result = CliRunner().invoke(cli, ["demo", "--scenario", "no-such-thing"])
    assert result.exit_code != 0
    some = load_scenario(bundled_scenarios()[0]).name
    assert "no scenario 'no-such-thing'" in result.output and some in result.output


def test_default_scenario_is_checkout_missing_env_when_bundled_else_the_first() -> None:
    names = {load_scenario(p).name: p for p in bundled_scenarios()}
    expected = names.get(DEFAULT_SCENARIO, bundled_scenarios()[0])
    assert resolve_scenario(None) == expected
