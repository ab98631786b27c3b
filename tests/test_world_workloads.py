"""StatefulSets get Pods by ordinal and DaemonSets one Pod per Node; both roll template changes."""

from __future__ import annotations

import copy

from tests.support.world_scenarios import make_world, pods, ready, scenario_text

STS = """\
  - apiVersion: apps/v1
    kind: StatefulSet
    metadata: {name: db, namespace: shop}
    spec:
      replicas: 3
      serviceName: db
      selector: {matchLabels: {app: db}}
      template:
        metadata: {labels: {app: db}}
        spec:
          containers: [{name: postgres, image: "postgres:16.1"}]
"""
DS = """\
  - apiVersion: apps/v1
    kind: DaemonSet
    metadata: {name: agent, namespace: shop}
    spec:
      selector: {matchLabels: {app: agent}}
      template:
        metadata: {labels: {app: agent}}
        spec:
          containers: [{name: agent, image: "agent:1"}]
"""


def test_a_statefulset_gets_ordinal_pods_and_is_healthy(write_scenario):
    world = make_world(write_scenario, scenario_text(STS))
    names = sorted(p["metadata"]["name"] for p in pods(world, "db-"))
    assert names == ["db-0", "db-1", "db-2"]
    assert all(ready(p) for p in pods(world, "db-"))
    assert world.healthy("StatefulSet/shop/db")
    status = world.store.get("StatefulSet", "shop", "db")["status"]
    assert status["readyReplicas"] == 3 and status["currentRevision"].startswith("db-")


def test_a_statefulset_template_change_replaces_pods_from_the_highest_ordinal(write_scenario):
    world = make_world(write_scenario, scenario_text(STS))
    with world.store.lock:
        sts = copy.deepcopy(world.store.get("StatefulSet", "shop", "db"))
        sts["spec"]["template"]["spec"]["containers"][0]["image"] = "postgres:16.2"
        world.store.replace(sts, bump_generation=True)
        world.sync()
    images = {
        p["metadata"]["name"]: p["spec"]["containers"][0]["image"] for p in pods(world, "db-")
    }
    assert images["db-2"] == "postgres:16.2" and images["db-0"] == "postgres:16.1"
    for _ in range(40):
        if world.healthy("StatefulSet/shop/db") and all(
            p["spec"]["containers"][0]["image"] == "postgres:16.2" for p in pods(world, "db-")
        ):
            break
        world.clock.advance(1)
    assert {p["spec"]["containers"][0]["image"] for p in pods(world, "db-")} == {"postgres:16.2"}
    assert world.healthy("StatefulSet/shop/db")


def test_a_daemonset_runs_one_pod_on_each_ready_node(write_scenario):
    world = make_world(write_scenario, scenario_text(DS))
    nodes = sorted(p["spec"]["nodeName"] for p in pods(world, "agent-"))
    assert nodes == ["node-a", "node-b"]
    assert world.healthy("DaemonSet/shop/agent")
    with world.store.lock:
        world.store.get("Node", None, "node-b")["status"]["conditions"][0]["status"] = "False"
        world.store.touch(world.store.get("Node", None, "node-b"))
        world.sync()
    status = world.store.get("DaemonSet", "shop", "agent")["status"]
    assert status["desiredNumberScheduled"] == 1 and len(pods(world, "agent-")) == 1
