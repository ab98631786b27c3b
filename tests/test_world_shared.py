"""The shared scenarios behave as their stories say, served at the sandbox's time."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

from sandbox.scenario import load_scenario
from sandbox.world import World
from tests.support.world_scenarios import START, make_world


def world_for(shared_scenarios, name: str) -> World:
    return World(load_scenario(shared_scenarios / f"{name}.yaml"), start=START)


def shifted(world: World, text: str) -> str:
    file_time = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (file_time + world.clock.offset).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_every_timestamp_is_moved_to_the_sandbox_clock(shared_scenarios):
    world = world_for(shared_scenarios, "checkout-missing-env")
    assert world.clock.offset == START - datetime(2026, 11, 20, 10, 30, tzinfo=UTC)
    rs = world.store.get("ReplicaSet", "shop", "checkout-api-6b7f9c4d8")
    assert rs["metadata"]["creationTimestamp"] == "2031-05-04T11:34:12Z"
    pod = next(p for p in world.store.list("Pod", "shop") if "checkout" in p["metadata"]["name"])
    assert pod["metadata"]["creationTimestamp"] == "2031-05-04T11:34:12Z"
    log = world.pod_logs("shop", pod["metadata"]["name"])
    assert log.startswith("2031-05-04T11:59:51Z INFO  checkout-api 2.14.0 starting")
    [series] = [s for s in world.series(0, START.timestamp()) if s.labels["code"] == "500"]
    assert series.samples[-1][0] == START.timestamp()
    assert series.samples[0][0] == START.timestamp() - 60 * 60


def test_the_trigger_payload_and_object_times_are_shifted(shared_scenarios):
    world = world_for(shared_scenarios, "catalog-wrong-target-port")
    payload = world.trigger_payload()
    alert = payload["alerts"][0]
    assert alert["startsAt"] == shifted(world, "2026-11-21T13:52:30Z")
    assert alert["endsAt"] == "0001-01-01T00:00:00Z"
    assert world.scenario.trigger.alertmanager["alerts"][0]["startsAt"] == "2026-11-21T13:52:30Z"
    assert "frontend 5xx ratio" in world.trigger_text()
    svc = world.store.get("Service", "shop", "catalog")
    assert svc["metadata"]["managedFields"][0]["time"] == shifted(world, "2026-11-21T13:51:02Z")


def test_events_given_in_the_file_are_shifted(write_scenario):
    text = """\
name: events-shift
clock: "2026-01-01T12:00:00Z"
trigger: {slash: "x"}
objects:
  - {apiVersion: v1, kind: Namespace, metadata: {name: shop}}
  - apiVersion: v1
    kind: Event
    metadata: {name: e1, namespace: shop}
    involvedObject: {kind: Namespace, name: shop}
    reason: Noted
    message: something
    firstTimestamp: "2026-01-01T11:00:00Z"
    lastTimestamp: "2026-01-01T11:30:00.250Z"
answer:
  root_cause: {resource: Namespace/shop, category: [NoFault]}
"""
    world = make_world(write_scenario, text)
    ev = world.store.get("Event", "shop", "e1")
    assert ev["firstTimestamp"] == (START - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert ev["lastTimestamp"] == "2031-05-04T11:30:00.250Z"


def test_checkout_crash_loops_until_the_previous_revision_is_restored(shared_scenarios):
    world = world_for(shared_scenarios, "checkout-missing-env")
    assert world.faults_present() == {"missing-database-url": True}
    assert not world.healthy("Deployment/shop/checkout-api")
    pods = [p for p in world.store.list("Pod", "shop") if "checkout" in p["metadata"]["name"]]
    assert len(pods) == 3
    for pod in pods:
        cs = pod["status"]["containerStatuses"][0]
        assert cs["restartCount"] > 3
        assert cs["lastState"]["terminated"]["exitCode"] == 1
        name = pod["metadata"]["name"]
        assert "DATABASE_URL is not set" in world.pod_logs("shop", name, previous=True)
    dep = world.store.get("Deployment", "shop", "checkout-api")
    progressing = next(c for c in dep["status"]["conditions"] if c["type"] == "Progressing")
    assert progressing["reason"] == "ProgressDeadlineExceeded"
    # kubectl rollout undo: the template of the previous ReplicaSet, without its hash label.
    with world.store.lock:
        old = world.store.get("ReplicaSet", "shop", "checkout-api-5c8d7b9f6")
        template = copy.deepcopy(old["spec"]["template"])
        del template["metadata"]["labels"]["pod-template-hash"]
        dep = copy.deepcopy(dep)
        dep["spec"]["template"] = template
        world.store.replace(dep, bump_generation=True)
        world.sync()
    for _ in range(100):
        if world.healthy("Deployment/shop/checkout-api"):
            break
        world.clock.advance(0.5)
    assert world.healthy("Deployment/shop/checkout-api")
    assert world.faults_present() == {"missing-database-url": False}
    dep = world.store.get("Deployment", "shop", "checkout-api")
    assert dep["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "8"


def test_catalog_pods_look_healthy_while_frontend_logs_refused_connections(shared_scenarios):
    world = world_for(shared_scenarios, "catalog-wrong-target-port")
    assert world.faults_present() == {"catalog-target-port": True}
    assert world.healthy("Deployment/shop/catalog") and world.healthy("Deployment/shop/frontend")
    assert world.healthy("Service/shop/catalog")
    [subset] = world.store.get("Endpoints", "shop", "catalog")["subsets"]
    assert subset["ports"][0]["port"] == 8081
    frontend = next(
        p for p in world.store.list("Pod", "shop") if "frontend" in p["metadata"]["name"]
    )
    assert "connection refused" in world.pod_logs("shop", frontend["metadata"]["name"])
    with world.store.lock:
        svc = copy.deepcopy(world.store.get("Service", "shop", "catalog"))
        svc["spec"]["ports"][0]["targetPort"] = 8080
        world.store.replace(svc)
        world.sync()
    assert world.faults_present() == {"catalog-target-port": False}
    assert "connection refused" not in world.pod_logs("shop", frontend["metadata"]["name"])
    [subset] = world.store.get("Endpoints", "shop", "catalog")["subsets"]
    assert subset["ports"][0]["port"] == 8080


def test_logs_honour_tail_and_since_seconds(shared_scenarios):
    world = world_for(shared_scenarios, "checkout-missing-env")
    frontend = next(
        p for p in world.store.list("Pod", "shop") if "frontend" in p["metadata"]["name"]
    )["metadata"]["name"]
    checkout = next(
        p for p in world.store.list("Pod", "shop") if "checkout" in p["metadata"]["name"]
    )["metadata"]["name"]
    assert world.pod_logs("shop", checkout, tail=1).count("\n") == 1
    assert "FATAL" in world.pod_logs("shop", checkout, tail=1)
    assert world.pod_logs("shop", frontend, since_seconds=5) == ""
    assert "GET /cart" in world.pod_logs("shop", frontend, since_seconds=60)


def test_a_pagerduty_trigger_is_delivered_with_shifted_times(write_scenario):
    text = """\
name: pd-shift
clock: "2026-01-01T12:00:00Z"
trigger:
  pagerduty:
    event:
      event_type: incident.triggered
      occurred_at: "2026-01-01T11:55:00.000Z"
      data: {title: "checkout down", created_at: "2026-01-01T11:55:00Z"}
objects:
  - {apiVersion: v1, kind: Namespace, metadata: {name: shop}}
answer:
  root_cause: {resource: Namespace/shop, category: [NoFault]}
"""
    world = make_world(write_scenario, text)
    event = world.trigger_payload()["event"]
    assert event["occurred_at"] == "2031-05-04T11:55:00.000Z"
    assert event["data"]["created_at"] == "2031-05-04T11:55:00Z"
    assert world.trigger_text() == "checkout down"
