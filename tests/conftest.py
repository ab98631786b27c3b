"""Shared test fixtures. Add fixtures here; never remove someone else's."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_SCENARIOS = REPO.parent / "shared" / "scenarios"
BUNDLED_SCENARIOS = REPO / "sandbox" / "scenarios"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository's root folder."""
    return REPO


@pytest.fixture(scope="session")
def shared_scenarios() -> Path:
    """`../shared/scenarios`: scenario files written outside this repo that must always load."""
    if not SHARED_SCENARIOS.is_dir():
        pytest.skip("../shared/scenarios is not present next to the repository")
    return SHARED_SCENARIOS
