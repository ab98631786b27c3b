"""Writes change the world as in a cluster: rollouts, scaling, deletion, eviction, cordon."""

from __future__ import annotations

import copy
import time

from sandbox.scenario import load_scenario
from sandbox.world import World
from tests.support.world_scenarios import deployment, events, make_world, pods, ready, scenario_text


def replicasets(world: World) -> dict[str, tuple[int, str]]:
    world.sync()
    return {
        r["metadata"]["name"]: (
            r["spec"]["replicas"],
            r["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        )
        for r in world.store.list("ReplicaSet", "shop")
    }


def patch_deployment(world: World, change) -> None:
    with world.store.lock:
        dep = copy.deepcopy(world.store.get("Deployment", "shop", "web"))
        change(dep)
        world.store.replace(dep, bump_generation=True)
        world.record_write("patch", "Deployment/shop/web")
        world.sync()


def set_image(image: str):
    def change(dep):
        dep["spec"]["template"]["spec"]["containers"][0]["image"] = image

    return change


def advance_until(world: World, condition, step: float = 0.5, limit: float = 120.0) -> float:
    """Advance the sandbox clock in steps until `condition()` holds; returns sandbox seconds used."""
    used = 0.0
    while not condition():
        assert used < limit, "condition never held"
        world.clock.advance(step)
        used += step
    return used


# A ReplicaSet from the rollout history that ran the broken 2.0 image (so the fault's
# selector matches a template in the file, as the loader requires).
HISTORY = """\
  - apiVersion: apps/v1
    kind: ReplicaSet
    metadata:
      name: web-bad
      namespace: shop
      labels: {app: web, pod-template-hash: bad}
      annotations: {deployment.kubernetes.io/revision: "1"}
      ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, controller: true}]
    spec:
      replicas: 0
      selector: {matchLabels: {app: web, pod-template-hash: bad}}
      template:
        metadata: {labels: {app: web, pod-template-hash: bad}}
        spec:
          containers:
            - name: app
              image: registry.example.com/web:2.0
              ports: [{containerPort: 8080, name: http}]
"""

BAD_IMAGE_FAULT = """\
  - name: bad-image
    when: {pod: {namespace: shop, image: "*:2.0"}}
    state: {phase: ImagePullBackOff}
"""


def test_a_template_change_rolls_out_a_new_replicaset_and_retires_the_old(write_scenario):
    world = make_world(write_scenario, scenario_text(deployment(replicas=2, revision="4")))
    [old] = replicasets(world)
    patch_deployment(world, set_image("registry.example.com/web:1.1"))
    rs = replicasets(world)
    [new] = [n for n in rs if n != old]
    assert rs[new][1] == "5"
    assert events(world, "ScalingReplicaSet")
    advance_until(world, lambda: world.healthy("Deployment/shop/web"))
    assert replicasets(world)[old][0] == 0 and replicasets(world)[new][0] == 2
    images = {p["spec"]["containers"][0]["image"] for p in pods(world)}
    assert images == {"registry.example.com/web:1.1"}
    dep = world.store.get("Deployment", "shop", "web")
    assert dep["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "5"


def test_new_pods_become_ready_only_after_startup_seconds(write_scenario):
    text = scenario_text(deployment(replicas=1), extra="startup_seconds: 5")
    world = make_world(write_scenario, text)
    patch_deployment(world, lambda d: d["spec"].update(replicas=2))
    fresh = [p for p in pods(world) if not ready(p)]
    assert len(fresh) == 1
    used = advance_until(world, lambda: all(ready(p) for p in pods(world)))
    assert 4.5 <= used <= 5.5
    reasons = {e["reason"] for e in world.store.list("Event")}
    assert {"Scheduled", "Pulling", "Pulled", "Created", "Started"} <= reasons


def test_a_rollout_whose_new_pods_never_get_ready_is_stuck_beside_the_old(write_scenario):
    world = make_world(
        write_scenario,
        scenario_text(deployment(replicas=2, revision="2") + HISTORY, BAD_IMAGE_FAULT),
    )
    [old] = [n for n in replicasets(world) if n != "web-bad"]
    assert world.faults_present() == {"bad-image": False}
    patch_deployment(world, set_image("registry.example.com/web:2.0"))
    world.clock.advance(60)
    rs = replicasets(world)
    new = "web-bad"
    assert rs[old][0] == 2 and rs[new] == (1, "3"), rs
    assert world.faults_present() == {"bad-image": True}
    [stuck] = [p for p in pods(world) if p["metadata"]["name"].startswith(new)]
    waiting = stuck["status"]["containerStatuses"][0]["state"]["waiting"]
    assert waiting["reason"] == "ImagePullBackOff"
    assert not world.healthy("Deployment/shop/web")
    world.clock.advance(600)
    world.sync()
    dep = world.store.get("Deployment", "shop", "web")
    progressing = next(c for c in dep["status"]["conditions"] if c["type"] == "Progressing")
    assert progressing["reason"] == "ProgressDeadlineExceeded"


def test_undo_to_the_old_template_reuses_the_old_replicaset_with_a_new_revision(write_scenario):
    world = make_world(
        write_scenario,
        scenario_text(deployment(replicas=2, revision="2") + HISTORY, BAD_IMAGE_FAULT),
    )
    [old] = [n for n in replicasets(world) if n != "web-bad"]
    patch_deployment(world, set_image("registry.example.com/web:2.0"))
    assert world.faults_present() == {"bad-image": True}
    old_template = copy.deepcopy(world.store.get("ReplicaSet", "shop", old)["spec"]["template"])
    del old_template["metadata"]["labels"]["pod-template-hash"]
    patch_deployment(world, lambda d: d["spec"].update(template=old_template))
    rs = replicasets(world)
    assert rs[old] == (2, "4")
    advance_until(world, lambda: world.healthy("Deployment/shop/web"))
    assert world.faults_present() == {"bad-image": False}
    assert len(rs) == 2, "no third ReplicaSet"


def test_a_restarted_at_annotation_starts_a_new_replicaset(write_scenario):
    world = make_world(write_scenario, scenario_text(deployment(replicas=1)))
    [old] = replicasets(world)

    def restart(dep):
        dep["spec"]["template"]["metadata"]["annotations"] = {
            "kubectl.kubernetes.io/restartedAt": "2031-05-04T12:00:00Z"
        }

    patch_deployment(world, restart)
    advance_until(world, lambda: world.healthy("Deployment/shop/web"))
    rs = replicasets(world)
    assert rs[old][0] == 0 and len(rs) == 2


def test_scaling_adds_and_removes_pods(write_scenario):
    world = make_world(write_scenario, scenario_text(deployment(replicas=2)))
    patch_deployment(world, lambda d: d["spec"].update(replicas=4))
    assert len(pods(world)) == 4
    patch_deployment(world, lambda d: d["spec"].update(replicas=1))
    assert len(pods(world)) == 1
    assert any("Scaled down" in e["message"] for e in events(world, "ScalingReplicaSet"))


def test_a_deleted_or_evicted_pod_is_replaced_under_a_new_name(write_scenario):
    world = make_world(write_scenario, scenario_text(deployment(replicas=2)))
    first, second = (p["metadata"]["name"] for p in pods(world))
    with world.store.lock:
        world.store.delete("Pod", "shop", first)
        world.sync()
    world.evict("shop", second)
    names = {p["metadata"]["name"] for p in pods(world)}
    assert len(names) == 2 and not names & {first, second}
    assert events(world, "Killing")


def test_deleting_a_deployment_collects_its_replicasets_and_pods(write_scenario):
    world = make_world(write_scenario, scenario_text(deployment(replicas=2)))
    with world.store.lock:
        world.store.delete("Deployment", "shop", "web")
        world.record_write("delete", "Deployment/shop/web")
        world.sync()
    assert world.store.list("ReplicaSet", "shop") == []
    assert pods(world) == []
    assert world.executed == [("delete", "Deployment/shop/web")]
    assert not world.healthy("Deployment/shop/web")


def test_the_clock_runs_at_the_speed_factor(write_scenario):
    text = scenario_text(deployment(replicas=1), extra="startup_seconds: 20")
    world = World(load_scenario(write_scenario(text)), speed=200.0)
    patch_deployment(world, lambda d: d["spec"].update(replicas=2))
    assert not world.healthy("Deployment/shop/web")
    real0 = time.monotonic()
    deadline = real0 + 5
    while not world.healthy("Deployment/shop/web"):
        assert time.monotonic() < deadline, "pods did not get ready at 200x speed"
    assert time.monotonic() - real0 < 2.0, "20 sandbox seconds at 200x should take ~0.1 s"
    assert world.clock.elapsed() >= 20


def test_after_a_crash_looping_pod_is_deleted_an_idle_world_stays_idle(write_scenario):
    fault = """\
  - name: crash
    when: {pod: {namespace: shop, labels: {app: web}}}
    state: {phase: CrashLoopBackOff}
"""
    world = make_world(write_scenario, scenario_text(deployment(replicas=1), fault))
    [pod] = pods(world)
    with world.store.lock:
        world.store.delete("Pod", "shop", pod["metadata"]["name"])
        world.sync()
    [replacement] = pods(world)
    assert replacement["metadata"]["name"] != pod["metadata"]["name"]
    world.clock.advance(1000)
    world.sync()
    rv = world.store.resource_version
    world.sync()
    world.sync()
    assert world.store.resource_version == rv
