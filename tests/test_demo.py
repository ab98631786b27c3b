"""`sre-bot demo`: a whole incident in the terminal, on the sandbox, in well under a minute,
through the same approval loop as the bot (gate, executor, kill switch), on a throwaway store."""

from __future__ import annotations

import io
import time
from pathlib import Path

from click.testing import CliRunner
from rich.console import Console

from approvals.killswitch import WatchState
from bot.cli import cli
from bot.commands.demo import (
    DEFAULT_SCENARIO,
    ROLLBACK_SCENARIO,
    demo_scenarios,
    resolve_scenario,
    run_demo,
)
from sandbox.scenario import bundled_scenarios, load_scenario
from tests.conftest import SHARED_SCENARIOS


def _env(tmp_path: Path) -> dict[str, str]:
    # A "real" store the demo must leave alone.
    return {"SRE_BOT_STORE": f"sqlite:///{tmp_path / 'real.db'}", "COLUMNS": "160"}


def test_main_demo_ends_resolved_with_the_fix_kept_and_the_audit_trail_shown(tmp_path) -> None:
    started = time.monotonic()
    result = CliRunner().invoke(cli, ["demo"], env=_env(tmp_path))
    out = result.output
    assert result.exit_code == 0, out
    assert f"sre-bot demo: {DEFAULT_SCENARIO}" in out
    assert "kubectl --kubeconfig" in out  # commands the user can try
    assert "--- Deployment/finance/ledger-api (before)" in out  # the proposal's diff
    assert "server-side dry run accepted" in out
    assert "stdin is not a terminal: auto-approving" in out
    assert "resolved: Deployment/finance/ledger-api healthy, the fix is kept" in out
    trail = out.split("audit trail", 1)[1]
    for action in ("approval.requested", "proposal.approved", "execution.applied"):
        assert action in trail
    assert "fix.confirmed" in trail and "fix.rolled_back" not in trail
    assert not (tmp_path / "real.db").exists()  # the user's state was never touched
    # Verified healthy ends the watch early, well before the 15 s window.
    assert time.monotonic() - started < 30


def test_rollback_demo_rolls_back_at_the_deadline_and_restores_the_before_state() -> None:
    buf = io.StringIO()
    started = time.monotonic()
    with CliRunner().isolation():  # stdin is not a terminal, as in CI
        outcome = run_demo(
            ROLLBACK_SCENARIO,
            yes=False,
            window=4,
            engine="rules",
            console=Console(file=buf, width=160),
        )
    out = buf.getvalue()
    assert outcome.exit_code == 0, out
    assert outcome.fix is not None and outcome.fix.state == WatchState.ROLLED_BACK, out
    assert outcome.fix.record.proposal.verb.value == "rollout_undo"
    assert time.monotonic() - started >= 4  # rolled back at the deadline, not before
    # The cluster served the Deployment's template exactly as it was before the fix.
    before = outcome.fix.record.snapshot.get("Deployment/orders/order-router")
    assert before is not None and outcome.target_after is not None
    assert outcome.target_after["spec"]["template"] == before["spec"]["template"]
    image = outcome.target_after["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image.endswith(":3.9.0")
    assert "rolled back: the fix was not confirmed healthy before the deadline" in out
    assert "still failing when it was undone" in out and "pods Ready" in out
    assert "the cluster is back at its before-state" in out
    assert "why it did not heal" in out
    assert [e.action for e in outcome.audit or []][-1] == "fix.rolled_back"


def test_yes_approves_without_asking_and_a_scenario_file_still_works(tmp_path) -> None:
    scenario = str(SHARED_SCENARIOS / "checkout-missing-env.yaml")
    result = CliRunner().invoke(cli, ["demo", "--yes", "--scenario", scenario], env=_env(tmp_path))
    out = result.output
    assert result.exit_code == 0, out
    assert "--yes: approving without asking" in out and "auto-approving" not in out
    assert "root cause: Deployment/shop/checkout-api" in out and "DATABASE_URL" in out
    assert "resolved" in out


def test_unknown_scenario_name_lists_the_bundled_ones() -> None:
    result = CliRunner().invoke(cli, ["demo", "--scenario", "no-such-thing"])
    assert result.exit_code != 0
    some = load_scenario(bundled_scenarios()[0]).name
    assert "no scenario 'no-such-thing'" in result.output and some in result.output
    assert ROLLBACK_SCENARIO in result.output


def test_rollback_and_scenario_together_are_refused() -> None:
    result = CliRunner().invoke(cli, ["demo", "--rollback", "--scenario", DEFAULT_SCENARIO])
    assert result.exit_code != 0 and "either --rollback or --scenario" in result.output


def test_default_scenario_is_a_bundled_crash_loop_after_a_deploy() -> None:
    path = resolve_scenario(None)
    assert path in bundled_scenarios()
    assert load_scenario(path).name == DEFAULT_SCENARIO


def test_the_rollback_demo_is_kept_out_of_the_scenarios_eval_scores() -> None:
    path = resolve_scenario(ROLLBACK_SCENARIO)
    assert path in demo_scenarios() and path not in bundled_scenarios()
    assert load_scenario(path).name == ROLLBACK_SCENARIO
