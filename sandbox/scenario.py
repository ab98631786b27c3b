"""Load scenario files (SCENARIOS.md) into `Scenario` models, refusing bad ones with `file:line`.

scenario = load_scenario(path)      # raises ScenarioError(path, line, message)
bundled_scenarios()                 # sandbox/scenarios/*.yaml, sorted
"""

from __future__ import annotations

from pathlib import Path

import yaml

from sandbox.scenario_checks import (
    CATEGORIES,
    PHASES,
    ScenarioChecker,
    ScenarioError,
    parse_duration,
)
from sandbox.scenario_model import Scenario
from sandbox.scenario_yaml import load_with_lines

__all__ = [
    "CATEGORIES",
    "PHASES",
    "Scenario",
    "ScenarioError",
    "bundled_scenarios",
    "load_scenario",
    "parse_duration",
]

BUNDLED_DIR = Path(__file__).resolve().parent / "scenarios"


def bundled_scenarios() -> list[Path]:
    """The scenario files shipped in `sandbox/scenarios/`, sorted by name."""
    return sorted(BUNDLED_DIR.glob("*.yaml"))


def load_scenario(path: str | Path) -> Scenario:
    """Read and check one scenario file. Raises ScenarioError naming the file and line."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(p, 0, f"cannot read the scenario file: {exc.strerror or exc}") from exc
    try:
        data, lines = load_with_lines(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark else 1
        problem = getattr(exc, "problem", None) or str(exc)
        raise ScenarioError(p, line, f"this is not valid YAML: {problem}") from exc
    return ScenarioChecker(p, lines).scenario(data)
