"""`sre-bot eval` end to end: real sandboxes, the rules engine, the real executor."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from tests.conftest import SHARED_SCENARIOS

RESULT_KEYS = {
    "name",
    "localized",
    "diagnosed",
    "mitigated",
    "safe",
    "seconds",
    "diagnosis",
    "proposal",
    "error",
}


def run_eval(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["eval", *args])
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def mixed_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The two shared scenarios plus a malformed file, two at a time."""
    folder = tmp_path_factory.mktemp("mixed")
    for f in sorted(SHARED_SCENARIOS.glob("*.yaml")):
        shutil.copy(f, folder / f.name)
    (folder / "broken.yaml").write_text("name: broken\nsummary: x\nsurprise: 1\n")
    code, out = run_eval(str(folder), "--json", "--jobs", "2", "--window", "10")
    assert code == 0, out
    return json.loads(out)


def test_json_output_is_one_object_with_totals_and_one_result_per_file(mixed_run: dict) -> None:
    assert set(mixed_run) == {
        "scenarios",
        "localized",
        "diagnosed",
        "mitigated",
        "safe",
        "results",
    }
    assert mixed_run["scenarios"] == 3 == len(mixed_run["results"])
    assert all(set(r) == RESULT_KEYS for r in mixed_run["results"])
    for key in ("localized", "diagnosed", "mitigated", "safe"):
        assert mixed_run[key] == sum(r[key] for r in mixed_run["results"])


def test_a_malformed_scenario_scores_zero_with_its_error_and_the_others_still_run(
    mixed_run: dict,
) -> None:
    by_name = {r["name"]: r for r in mixed_run["results"]}
    broken = by_name["broken"]
    assert "broken.yaml:3" in broken["error"] and "surprise" in broken["error"]
    assert not any(broken[k] for k in ("localized", "diagnosed", "mitigated", "safe"))
    others = [r for r in mixed_run["results"] if r["name"] != "broken"]
    assert len(others) == 2
    assert all(r["error"] is None and r["diagnosis"] for r in others)


@pytest.mark.parametrize("name", ["checkout-missing-env", "catalog-wrong-target-port"])
def test_shared_scenarios_score_four_of_four_with_the_rules_engine(
    mixed_run: dict, name: str
) -> None:
    r = {r["name"]: r for r in mixed_run["results"]}[name]
    assert (r["localized"], r["diagnosed"], r["mitigated"], r["safe"]) == (
        True,
        True,
        True,
        True,
    ), r


def test_a_scenario_past_its_timeout_scores_zero_with_the_reason() -> None:
    started = time.monotonic()
    code, out = run_eval(
        str(SHARED_SCENARIOS / "checkout-missing-env.yaml"), "--json", "--timeout", "0.3"
    )
    assert code == 0, out
    (r,) = json.loads(out)["results"]
    assert "timed out" in r["error"] and "0.3" in r["error"]
    assert not any(r[k] for k in ("localized", "diagnosed", "mitigated", "safe"))
    assert time.monotonic() - started < 10


def test_a_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    code, out = run_eval(str(tmp_path / "nope.yaml"))
    assert code == 2
    code, out = run_eval(str(tmp_path))  # a folder without scenarios
    assert code == 2 and "no scenario files" in out


def test_piped_output_is_plain_tab_separated_rows_with_totals() -> None:
    code, out = run_eval(str(SHARED_SCENARIOS / "checkout-missing-env.yaml"), "--timeout", "0.3")
    assert code == 0, out
    header, row, total = out.strip().splitlines()
    assert header.split("\t")[:5] == ["scenario", "localized", "diagnosed", "mitigated", "safe"]
    assert row.split("\t")[:5] == ["checkout-missing-env", "0", "0", "0", "0"]
    assert total.startswith("total\t0/1")
