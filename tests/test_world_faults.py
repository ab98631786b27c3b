"""Faults: which Pods they match, the states they put Pods in, their logs, events and series,
and their lifecycle from present to fixed."""

from __future__ import annotations

import copy

import pytest

from sandbox.scenario import load_scenario
from sandbox.store import NotFound, StoreError
from sandbox.world import World
from tests.support.world_scenarios import START, deployment, events, make_world, pods, ready
from tests.support.world_scenarios import scenario_text as base_text


def scenario_text(objects: str, faults: str = "", extra: str = "") -> str:
    return base_text(objects, faults, extra)


def status_of(world: World) -> dict:
    [pod] = pods(world)
    return pod["status"]


def one_fault(when: str, state: str = "", more: str = "") -> str:
    lines = f"  - name: f1\n    when: {when}\n"
    if state:
        lines += f"    state: {state}\n"
    return lines + more


WEB = deployment(
    replicas=1,
    container_extra="""
              command: [/bin/web, --serve]
              env: [{name: MODE, value: fast}]
              resources: {limits: {memory: 128Mi, cpu: 250m}}
              readinessProbe: {httpGet: {path: /ready, port: http}}
              livenessProbe: {httpGet: {path: /live, port: http}}""",
)


@pytest.mark.parametrize(
    "selector,matches",
    [
        ("{namespace: shop}", True),
        ("{namespace: shop, labels: {app: web}}", True),
        ("{namespace: shop, image: 'registry.example.com/web:*'}", True),
        ("{namespace: shop, env_missing: [DATABASE_URL]}", True),
        ("{namespace: shop, env_equals: {MODE: fast}}", True),
        ("{namespace: shop, env_equals: {MODE: slow}}", False),
        ("{namespace: shop, memory_limit_below: 256Mi}", True),
        ("{namespace: shop, memory_limit_below: 64Mi}", False),
        ("{namespace: shop, cpu_limit_below: 500m}", True),
        ("{namespace: shop, cpu_limit_below: 100m}", False),
        ("{namespace: shop, command: [/bin/web, --serve]}", True),
        ("{namespace: shop, command: [/bin/web]}", False),
        ("{namespace: shop, readiness_path: /ready}", True),
        ("{namespace: shop, liveness_path: /live}", True),
        ("{namespace: shop, liveness_path: /ready}", False),
        ("{namespace: shop, container: app, env_missing: [X]}", True),
        ("{namespace: shop, container: sidecar}", False),
        ("{namespace: shop, node_selector: {disk: ssd}}", False),
    ],
)
def test_pod_selector_keys_match_the_pods_own_spec(write_scenario, selector, matches):
    # A second, unmatched workload keeps every selector above matching *something* at load.
    other = deployment(
        name="other",
        replicas=1,
        extra_spec="\n          nodeSelector: {disk: ssd}",
        container_extra="\n              env: [{name: MODE, value: slow}]"
        "\n              command: [/bin/web]"
        "\n              resources: {limits: {memory: 32Mi, cpu: 50m}}"
        "\n              livenessProbe: {httpGet: {path: /ready, port: http}}",
    )
    side = other.replace("- name: app", "- name: sidecar", 1)
    fault = one_fault(f"{{pod: {selector}}}", "{phase: CrashLoopBackOff}")
    world = make_world(write_scenario, scenario_text(WEB + side, fault))
    [web] = pods(world, "web")
    crashing = "waiting" in web["status"]["containerStatuses"][0]["state"]
    assert crashing == matches


def test_crash_loop_restart_count_grows_with_time_and_keeps_the_last_termination(write_scenario):
    fault = one_fault(
        "{pod: {namespace: shop, labels: {app: web}}}",
        "{phase: CrashLoopBackOff, reason: OOMKilled}",
        "    logs: |\n      2026-01-01T11:59:00Z FATAL out of memory\n",
    )
    world = make_world(write_scenario, scenario_text(WEB, fault))
    cs = status_of(world)["containerStatuses"][0]
    first = cs["restartCount"]
    assert first >= 5, "the pods have been crashing since they were created an hour ago"
    assert cs["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    term = cs["lastState"]["terminated"]
    assert (term["reason"], term["exitCode"]) == ("OOMKilled", 137)
    world.clock.advance(3 * 310)
    world.sync()
    assert status_of(world)["containerStatuses"][0]["restartCount"] >= first + 2
    [backoff] = events(world, "BackOff")
    assert backoff["type"] == "Warning" and backoff["count"] >= first + 2
    assert "Back-off restarting failed container app in pod web-" in backoff["message"]
    name = pods(world)[0]["metadata"]["name"]
    assert "FATAL out of memory" in world.pod_logs("shop", name)
    assert "FATAL out of memory" in world.pod_logs("shop", name, previous=True)


@pytest.mark.parametrize(
    "state,reason,phase",
    [
        ("{phase: ImagePullBackOff}", "ImagePullBackOff", "Pending"),
        ("{phase: ErrImagePull, message: 'manifest unknown'}", "ErrImagePull", "Pending"),
        (
            "{phase: CreateContainerConfigError, message: 'secret \"x\" not found'}",
            "CreateContainerConfigError",
            "Pending",
        ),
    ],
)
def test_waiting_states_keep_the_container_waiting_and_logs_unavailable(
    write_scenario, state, reason, phase
):
    fault = one_fault("{pod: {namespace: shop, labels: {app: web}}}", state)
    world = make_world(write_scenario, scenario_text(WEB, fault))
    st = status_of(world)
    assert st["phase"] == phase
    assert st["containerStatuses"][0]["state"]["waiting"]["reason"] == reason
    assert not world.healthy("Deployment/shop/web")
    name = pods(world)[0]["metadata"]["name"]
    with pytest.raises(StoreError) as info:
        world.pod_logs("shop", name)
    assert info.value.code == 400 and "is waiting to start" in str(info.value)
    if reason == "ErrImagePull":
        assert any("manifest unknown" in e["message"] for e in events(world, "Failed"))


def test_not_ready_pods_run_but_fail_readiness(write_scenario):
    fault = one_fault(
        "{pod: {namespace: shop}}",
        "{phase: NotReady, message: 'HTTP probe failed with statuscode: 500'}",
    )
    world = make_world(write_scenario, scenario_text(WEB, fault))
    st = status_of(world)
    assert st["phase"] == "Running" and not ready(pods(world)[0])
    assert "running" in st["containerStatuses"][0]["state"]
    [ev] = events(world, "Unhealthy")
    assert ev["message"] == "Readiness probe failed: HTTP probe failed with statuscode: 500"


def test_a_pending_fault_holds_the_pod_unscheduled(write_scenario):
    fault = one_fault(
        "{pod: {namespace: shop}}",
        "{phase: Pending, message: '0/2 nodes are available: 2 Insufficient memory.'}",
    )
    world = make_world(write_scenario, scenario_text(WEB, fault))
    st = status_of(world)
    assert st["phase"] == "Pending"
    assert "Insufficient memory" in events(world, "FailedScheduling")[0]["message"]


def test_a_fault_without_state_still_brings_logs_and_events(write_scenario):
    fault = one_fault(
        "{pod: {namespace: shop}}",
        more="""\
    logs: "2026-01-01T11:58:00Z WARN slow queries\\n"
    events: [{type: Warning, reason: SlowQueries, message: "queries above 2s"}]
""",
    )
    world = make_world(write_scenario, scenario_text(WEB, fault))
    assert ready(pods(world)[0])
    name = pods(world)[0]["metadata"]["name"]
    assert "WARN slow queries" in world.pod_logs("shop", name)
    assert events(world, "SlowQueries")[0]["message"] == "queries above 2s"
    with pytest.raises(StoreError, match="previous terminated container"):
        world.pod_logs("shop", name, previous=True)
    with pytest.raises(NotFound):
        world.pod_logs("shop", "nope")


SVC = """\
  - apiVersion: v1
    kind: Service
    metadata: {name: web, namespace: shop, annotations: {'a.b/c': "x-y-z"}}
    spec:
      selector: {app: web}
      ports: [{name: http, port: 80, targetPort: 8081}]
"""


@pytest.mark.parametrize(
    "condition,holds",
    [
        ("{ref: Service/shop/web, path: 'spec.ports[0].targetPort', equals: 8081}", True),
        ("{ref: Service/shop/web, path: 'spec.ports[0].targetPort', equals: 8080}", False),
        ("{ref: Service/shop/web, path: 'spec.ports[0].targetPort', not_equals: 8080}", True),
        ("{ref: Service/shop/web, path: \"metadata.annotations['a.b/c']\", contains: '-y-'}", True),
        ("{ref: Service/shop/web, path: spec.clusterIP, exists: true}", False),
        ("{ref: Service/shop/web, path: spec.selector, exists: true}", True),
        ("{ref: ConfigMap/shop/missing, exists: false}", True),
        ("{ref: Service/shop/web, exists: false}", False),
    ],
)
def test_object_conditions_decide_presence_and_affect_the_named_pods(
    write_scenario, condition, holds
):
    fault = one_fault(
        f"{{object: {condition}}}",
        "{phase: NotReady}",
        "    affects: {namespace: shop, labels: {app: web}}\n",
    )
    world = make_world(write_scenario, scenario_text(SVC + WEB, fault))
    assert world.faults_present() == {"f1": holds}
    assert ready(pods(world)[0]) != holds


def test_fault_lifecycle_from_present_to_fixed_with_series_back_to_baseline(write_scenario):
    env_dep = deployment(replicas=2, revision="3")
    faults = """\
  - name: wrong-mode
    when: {pod: {namespace: shop, env_equals: {MODE: broken}}}
    state: {phase: CrashLoopBackOff}
    metrics:
      - series: 'errors_total{service="web"}'
        values: "0+50x10"
"""
    text = scenario_text(
        env_dep.replace("ports: [", "env: [{name: MODE, value: broken}]\n              ports: ["),
        faults,
    )
    text = text.replace(
        "faults:",
        """metrics:
  - series: 'errors_total{service="web"}'
    values: "0x10"
faults:""",
    )
    world = make_world(write_scenario, text)
    assert world.faults_present() == {"wrong-mode": True}
    t0 = START.timestamp()  # the scenario's clock, where every series has its last sample
    [before] = world.series(t0 - 300, world.clock.now_ts())
    assert before.samples[-1] == (t0, 500.0), "the fault's series while it is present"
    with world.store.lock:
        dep = copy.deepcopy(world.store.get("Deployment", "shop", "web"))
        dep["spec"]["template"]["spec"]["containers"][0]["env"] = [{"name": "MODE", "value": "ok"}]
        world.store.replace(dep, bump_generation=True)
        world.sync()
    assert world.faults_present() == {"wrong-mode": True}, "old pods still run the bad template"
    fixed_at = None
    for _ in range(60):
        world.clock.advance(1)
        if not world.faults_present()["wrong-mode"]:
            fixed_at = world.clock.now_ts()
            break
    assert fixed_at is not None and world.healthy("Deployment/shop/web")
    world.clock.advance(300)
    [after] = world.series(t0 - 600, world.clock.now_ts())
    values = dict(after.samples)
    assert values[t0] == 500.0, "history keeps the fault's samples"
    later = [v for t, v in after.samples if t >= fixed_at]
    assert later and set(later) == {0.0}, "new samples come from the baseline again"


def test_series_samples_end_at_the_clock_and_hold_their_last_value(write_scenario):
    text = scenario_text(WEB).replace(
        "faults:",
        """metrics:
  - series: 'up{job="web"}'
    values: "1 2 _ 4"
    interval: 30s
faults:""",
    )
    world = World(load_scenario(write_scenario(text)), start=START)
    t0 = START.timestamp()
    [s] = world.series(0, t0)
    assert s.labels == {"__name__": "up", "job": "web"}
    assert s.samples == [(t0 - 90, 1.0), (t0 - 60, 2.0), (t0, 4.0)]
    world.clock.advance(65)
    [s] = world.series(t0, t0 + 1000)
    assert s.samples == [(t0, 4.0), (t0 + 30, 4.0), (t0 + 60, 4.0)]


def test_a_running_state_keeps_pods_ready_and_file_pods_keep_their_status(write_scenario):
    given_pod = """\
  - apiVersion: v1
    kind: Pod
    metadata: {name: batch, namespace: shop, labels: {app: batch}}
    spec:
      nodeName: node-a
      containers: [{name: main, image: registry.example.com/batch:1}]
    status: {phase: Running, podIP: 10.9.9.9}
"""
    fault = one_fault(
        "{pod: {namespace: shop, labels: {app: batch}}}",
        "{phase: Running}",
        '    logs: "2026-01-01T11:59:00Z INFO batch step 3\\n"\n',
    )
    world = make_world(write_scenario, scenario_text(WEB + given_pod, fault))
    batch = world.store.get("Pod", "shop", "batch")
    assert ready(batch) and batch["status"]["podIP"] != "10.9.9.9"
    assert "batch step 3" in world.pod_logs("shop", "batch")
    calm = make_world(write_scenario, scenario_text(WEB + given_pod))
    assert calm.store.get("Pod", "shop", "batch")["status"] == {
        "phase": "Running",
        "podIP": "10.9.9.9",
    }, "a file Pod's status is served as given"
    assert calm.pod_logs("shop", "batch") == ""
