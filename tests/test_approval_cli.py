"""`sre-bot investigate --approve | --reject`: the terminal goes through the same gate, executor
and kill switch as Slack, on the bot's SQLite file, and the audit log records it."""

from __future__ import annotations

from click.testing import CliRunner

from approvals.audit import SQLiteAuditLog
from bot.cli import cli
from tests.conftest import SHARED_SCENARIOS

SCENARIO = str(SHARED_SCENARIOS / "checkout-missing-env.yaml")


def _run(tmp_path, *flags: str):
    db = tmp_path / "bot.db"
    env = {"SRE_BOT_STORE": f"sqlite:///{db}", "SRE_BOT_KILL_SWITCH_SECONDS": "30"}
    result = CliRunner().invoke(cli, ["investigate", "--scenario", SCENARIO, *flags], env=env)
    assert result.exit_code == 0, result.output
    actions = [e.action for e in SQLiteAuditLog(db).events()]
    return result.output, actions


def test_approve_applies_the_fix_and_the_kill_switch_keeps_it_once_healthy(tmp_path):
    output, actions = _run(tmp_path, "--approve")
    assert "server-side dry run accepted" in output
    assert "kept: verified" in output
    assert actions.count("execution.applied") == 1
    assert actions[-1] == "fix.confirmed"


def test_reject_changes_nothing_and_is_audited(tmp_path):
    output, actions = _run(tmp_path, "--reject")
    assert "Rejected by cli:" in output
    assert "execution.applied" not in actions
    assert "proposal.rejected" in actions
