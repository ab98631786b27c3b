"""Shared test fixtures. Add fixtures here; never remove someone else's."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# The team's shared examples live next to the repo; a verbatim copy is vendored for clean CI clones.
_SHARED_OUTSIDE = REPO.parent / "shared" / "scenarios"
SHARED_SCENARIOS = (
    _SHARED_OUTSIDE if _SHARED_OUTSIDE.is_dir() else REPO / "tests" / "data" / "shared_scenarios"
)
BUNDLED_SCENARIOS = REPO / "sandbox" / "scenarios"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository's root folder."""
    return REPO


@pytest.fixture(scope="session")
def shared_scenarios() -> Path:
    """`../shared/scenarios` (or its vendored copy): outside scenario files that must always load."""
    return SHARED_SCENARIOS


@pytest.fixture
def write_scenario(tmp_path: Path):
    """Write scenario YAML text (dedented) to a fresh file under tmp_path; returns its path."""
    import textwrap

    counter = iter(range(1_000_000))

    def write(text: str, name: str | None = None) -> Path:
        path = tmp_path / (name or f"scenario-{next(counter)}.yaml")
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
        return path

    return write
