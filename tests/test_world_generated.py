"""Generated scenarios (for benchmarks) load into a consistent world, and an unchanged world's
sync does no work."""

from __future__ import annotations

import subprocess
import sys

from sandbox.generate import generate_scenario, write_scenario
from sandbox.scenario import load_scenario
from sandbox.world import World
from tests.support.world_scenarios import START


def test_the_generator_cli_writes_a_loadable_scenario(tmp_path, repo_root):
    out = tmp_path / "gen.yaml"
    done = subprocess.run(
        [sys.executable, "-m", "sandbox.generate", "--pods", "40", "--namespaces", "4", str(out)],
        cwd=repo_root,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    scenario = load_scenario(out)
    assert scenario.name == "generated-40-pods"


def test_a_generated_world_has_the_requested_pods_and_one_crash_looping_deployment(tmp_path):
    scenario = load_scenario(write_scenario(tmp_path / "g.yaml", pods=300, namespaces=6))
    world = World(scenario, start=START)
    pods = world.store.list("Pod")
    assert len(pods) == 300
    assert len({p["metadata"]["namespace"] for p in pods}) == 6
    assert world.faults_present() == {"missing-database-url": True}
    assert not world.healthy("Deployment/team-000/app-000")
    assert world.healthy("Deployment/team-001/app-000")
    rv = world.store.resource_version
    for _ in range(50):
        world.sync()
    assert world.store.resource_version == rv, "an unchanged world must not be rewritten"


def test_the_generator_spreads_pods_evenly_and_refuses_nonsense():
    data = generate_scenario(pods=10, namespaces=3)
    replicas = [o["spec"]["replicas"] for o in data["objects"] if o["kind"] == "Deployment"]
    assert sum(replicas) == 10
    try:
        generate_scenario(pods=0, namespaces=1)
    except ValueError as exc:
        assert "at least 1" in str(exc)
    else:
        raise AssertionError("pods=0 was accepted")
