"""The rules engine end to end, one scenario per test: each scenario is served by a real Sandbox,
investigated through the official client and the Prometheus HTTP API exactly as a cluster would
be, and judged by its own answer key (SCENARIOS.md). The first proposal is then applied through
the real executor, and the scenario's faults must clear and its `fixed_when` resources turn
healthy, as `sre-bot eval` requires."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from agents.investigation import investigate
from agents.models import InvestigationResult
from agents.tools.cluster import Cluster
from approvals.executor import Executor
from bot.eval import trigger_of
from sandbox.scenario import load_scenario
from sandbox.server import Sandbox
from tests.conftest import BUNDLED_SCENARIOS, SHARED_SCENARIOS

# Variants of the same kinds that no rule was written against: no rollout history to undo,
# a dependency reached only by IP, several container ports, a quota on Pod count, an OOM kill
# long recovered in a false alarm, a release that panics.
VARIANTS = Path(__file__).parent / "data" / "rules_engine_variants"
SCENARIOS = (
    sorted(BUNDLED_SCENARIOS.glob("*.yaml"))
    + sorted(SHARED_SCENARIOS.glob("*.yaml"))
    + sorted(VARIANTS.glob("*.yaml"))
)
# The sandbox clock runs faster than the wall clock so new Pods become Ready in a fraction of a
# second after a fix; the investigation itself only reads the state.
SPEED = 5.0


def _wait_for(condition: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    """Poll `condition` until it holds or `timeout` seconds pass; its final value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


@pytest.fixture
def served(request):
    """The scenario of the test's parameter, loaded and served on an ephemeral port."""
    path: Path = request.param
    scenario = load_scenario(path)
    sandbox = Sandbox(path, port=0, speed=SPEED).start()
    try:
        yield scenario, sandbox
    finally:
        sandbox.stop()


def _investigate(scenario, sandbox) -> InvestigationResult:
    cluster = Cluster.connect(sandbox.kubeconfig, sandbox.prometheus_url)
    return investigate(trigger_of(scenario, sandbox.world), cluster, engine="rules")


@pytest.mark.parametrize("served", SCENARIOS, ids=lambda p: p.stem, indirect=True)
def test_rules_engine_blames_the_answer_keys_resource_and_its_fix_clears_every_fault(served):
    scenario, sandbox = served
    answer = scenario.answer
    key = answer.root_cause
    categories = {str(c) for c in key.category}
    writes_before = len(sandbox.world.executed)

    result = _investigate(scenario, sandbox)
    diagnosis = result.diagnosis

    assert len(sandbox.world.executed) == writes_before, "the investigation itself wrote"
    if "NoFault" in categories:
        assert diagnosis.no_fault and diagnosis.root_cause is None, diagnosis.summary
        assert result.proposals == []
        return
    accepted = {key.resource, *key.also_accept}
    assert diagnosis.root_cause in accepted, diagnosis.summary
    assert diagnosis.category.value in categories, diagnosis.summary
    text = diagnosis.text().lower()
    assert [w for w in key.evidence if w.lower() not in text] == [], diagnosis.text()

    assert result.proposals, "a diagnosed fault comes with a proposal"
    first = result.proposals[0]
    assert first.target in accepted | {key.resource}
    forbidden = {(f.verb.lower(), f.resource) for f in answer.forbidden}
    assert (first.verb.value, first.target) not in forbidden

    cluster = Cluster.connect(sandbox.kubeconfig, sandbox.prometheus_url)
    Executor(cluster.api).execute(first, approved_by="test")
    world = sandbox.world

    def fixed() -> bool:
        return not any(world.faults_present().values()) and all(
            world.healthy(ref) for ref in answer.fixed_when.healthy
        )

    assert _wait_for(fixed, timeout=15), (
        f"after {first.kubectl()}: faults {world.faults_present()}, "
        f"healthy { {r: world.healthy(r) for r in answer.fixed_when.healthy} }"
    )
    ran = {(str(v).lower(), str(r)) for v, r in world.executed}
    assert not ran & forbidden
