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


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """A real redis-server on a free loopback port, one per xdist worker; tests use unique prefixes."""
    from tests.support.redis_server import running_redis

    with running_redis(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture(params=["sqlite", "redis"])
def store_url(request, tmp_path):
    """Make store URLs on both backends: `store_url(name)` is the same store for the same name."""
    from tests.support.redis_server import new_prefix

    urls: dict[str, str] = {}

    def make(name: str = "state") -> str:
        if name not in urls:
            if request.param == "sqlite":
                urls[name] = f"sqlite:///{tmp_path / (name + '.db')}"
            else:
                server = request.getfixturevalue("redis_server")
                urls[name] = f"{server.url}?prefix={new_prefix()}"
        return urls[name]

    make.backend = request.param
    return make


@pytest.fixture
def stores_at(store_url):
    """Open `approvals.stores.Stores` by name on the parametrized backend; closed after the test.

    Each call opens a new connection, as another process or replica would.
    """
    from approvals.stores import open_stores

    opened = []

    def open_(name: str = "state"):
        stores = open_stores(store_url(name))
        opened.append(stores)
        return stores

    open_.backend = store_url.backend
    yield open_
    for stores in opened:
        stores.close()


@pytest.fixture
def slack():
    """The Slack Web API double on an ephemeral loopback port (tests.support.slack_double)."""
    from tests.support.slack_double import SlackDouble

    with SlackDouble() as double:
        yield double
