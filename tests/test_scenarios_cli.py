"""`sre-bot scenarios` lists every bundled scenario with its trigger kind and summary."""

from __future__ import annotations

import json

from click.testing import CliRunner

from bot.cli import cli
from sandbox.scenario import bundled_scenarios, load_scenario


def test_scenarios_json_lists_every_bundled_scenario_with_trigger_and_summary() -> None:
    result = CliRunner().invoke(cli, ["scenarios", "--json"])
    assert result.exit_code == 0, result.output
    listed = {i["name"]: i for i in json.loads(result.output)}
    expected = [load_scenario(p) for p in bundled_scenarios()]
    assert expected, "there are bundled scenarios to list"
    assert set(listed) == {s.name for s in expected}
    for s in expected:
        assert listed[s.name]["trigger"] == s.trigger.source
        assert listed[s.name]["summary"] == s.summary
        assert listed[s.name]["error"] is None


def test_scenarios_piped_output_is_one_plain_line_per_scenario() -> None:
    result = CliRunner().invoke(cli, ["scenarios"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == len(bundled_scenarios())
    assert all(len(line.split("\t")) == 3 for line in lines)
    assert "\u2501" not in result.output and "\u2500" not in result.output  # no table borders
