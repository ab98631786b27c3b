"""The world derives what controllers would: ReplicaSets, Pods, scheduling, config errors, quota,
Endpoints, Deployment status and Events."""

from __future__ import annotations

import re

from tests.support.world_scenarios import deployment, events, make_world, pods, ready, scenario_text


def test_a_deployment_without_replicaset_gets_one_with_its_revision_and_named_pods(write_scenario):
    text = scenario_text(deployment(revision="12"))
    world = make_world(write_scenario, text)
    [rs] = world.store.list("ReplicaSet", "shop")
    h = rs["metadata"]["labels"]["pod-template-hash"]
    assert rs["metadata"]["name"] == f"web-{h}"
    assert rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "12"
    assert rs["metadata"]["ownerReferences"][0]["name"] == "web"
    names = [p["metadata"]["name"] for p in pods(world)]
    assert len(names) == 2
    assert all(re.fullmatch(rf"web-{h}-[a-z0-9]{{5}}", n) for n in names)
    again = make_world(write_scenario, text)
    assert sorted(p["metadata"]["name"] for p in pods(again)) == sorted(names)


def test_derived_pods_are_scheduled_ready_and_counted_in_deployment_status(write_scenario):
    world = make_world(write_scenario, scenario_text(deployment(replicas=3)))
    ps = pods(world)
    assert {p["spec"]["nodeName"] for p in ps} == {"node-a", "node-b"}
    assert all(ready(p) and p["status"]["phase"] == "Running" and p["status"]["podIP"] for p in ps)
    status = world.store.get("Deployment", "shop", "web")["status"]
    assert (status["replicas"], status["readyReplicas"], status["updatedReplicas"]) == (3, 3, 3)
    conds = {c["type"]: c for c in status["conditions"]}
    assert conds["Available"]["status"] == "True"
    assert conds["Progressing"]["reason"] == "NewReplicaSetAvailable"
    assert world.healthy("Deployment/shop/web")
    assert not events(world, "ScalingReplicaSet"), "the start state should not look like a rollout"


def test_a_pod_whose_node_selector_matches_no_node_stays_pending_with_failed_scheduling(
    write_scenario,
):
    spec = "\n          nodeSelector: {disk: nvme}"
    world = make_world(write_scenario, scenario_text(deployment(replicas=1, extra_spec=spec)))
    [pod] = pods(world)
    assert pod["status"]["phase"] == "Pending"
    assert "nodeName" not in pod["spec"]
    [ev] = events(world, "FailedScheduling")
    assert ev["type"] == "Warning"
    assert (
        "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector"
        in (ev["message"])
    )
    assert not world.healthy("Deployment/shop/web")


def test_node_selector_and_cordon_decide_where_new_pods_go(write_scenario):
    spec = "\n          nodeSelector: {disk: ssd}"
    world = make_world(write_scenario, scenario_text(deployment(replicas=2, extra_spec=spec)))
    assert {p["spec"]["nodeName"] for p in pods(world)} == {"node-a"}
    with world.store.lock:
        world.store.get("Node", None, "node-a").setdefault("spec", {})["unschedulable"] = True
        world.store.touch(world.store.get("Node", None, "node-a"))
        dep = world.store.get("Deployment", "shop", "web")
        dep["spec"]["replicas"] = 3
        world.store.touch(dep)
    ps = pods(world)
    assert [p["spec"].get("nodeName") for p in ps].count("node-a") == 2, "cordon keeps old pods"
    [pending] = [p for p in ps if not p["spec"].get("nodeName")]
    assert pending["status"]["phase"] == "Pending"
    assert "1 node(s) were unschedulable" in events(world, "FailedScheduling")[0]["message"]


def test_missing_configmap_secret_or_key_gives_create_container_config_error(write_scenario):
    cases = {
        "secretKeyRef: {name: db, key: url}": 'secret "db" not found',
        "configMapKeyRef: {name: cfg, key: nope}": "couldn't find key nope in ConfigMap shop/cfg",
        "secretKeyRef: {name: db, key: url, optional: true}": None,
    }
    cfg = (
        "  - {apiVersion: v1, kind: ConfigMap, metadata: {name: cfg, namespace: shop}, "
        "data: {a: b}}\n"
    )
    for ref, message in cases.items():
        env = f"\n              env:\n                - name: X\n                  valueFrom: {{{ref}}}"
        world = make_world(write_scenario, scenario_text(cfg + deployment(replicas=1, env=env)))
        [pod] = pods(world)
        state = pod["status"]["containerStatuses"][0]["state"]
        if message is None:
            assert "running" in state and ready(pod)
            continue
        assert state["waiting"] == {"reason": "CreateContainerConfigError", "message": message}
        assert any(e["message"] == f"Error: {message}" for e in events(world, "Failed"))


def test_quota_admission_refuses_pods_past_the_quota_and_says_which(write_scenario):
    quota = """\
  - apiVersion: v1
    kind: ResourceQuota
    metadata: {name: pod-quota, namespace: shop}
    spec: {hard: {pods: "2"}}
"""
    world = make_world(write_scenario, scenario_text(quota + deployment(replicas=3)))
    assert len(pods(world)) == 2
    [rs] = world.store.list("ReplicaSet", "shop")
    [cond] = [c for c in rs["status"]["conditions"] if c["type"] == "ReplicaFailure"]
    assert cond["reason"] == "FailedCreate"
    assert (
        "exceeded quota: pod-quota, requested: pods=1, used: pods=2, limited: pods=2"
        in (cond["message"])
    )
    [ev] = events(world, "FailedCreate")
    assert re.match(
        r'Error creating: pods "web-[a-z0-9]+-[a-z0-9]{5}" is forbidden: exceeded '
        "quota: pod-quota",
        ev["message"],
    )
    q = world.store.get("ResourceQuota", "shop", "pod-quota")
    assert q["status"] == {"hard": {"pods": "2"}, "used": {"pods": "2"}}
    dep = world.store.get("Deployment", "shop", "web")
    assert any(c["type"] == "ReplicaFailure" for c in dep["status"]["conditions"])


def test_quota_on_cpu_requests_names_the_quantities(write_scenario):
    quota = """\
  - apiVersion: v1
    kind: ResourceQuota
    metadata: {name: compute, namespace: shop}
    spec: {hard: {requests.cpu: "1"}}
"""
    res = "\n              resources: {requests: {cpu: 400m}}"
    world = make_world(
        write_scenario, scenario_text(quota + deployment(replicas=3, container_extra=res))
    )
    assert len(pods(world)) == 2
    [ev] = events(world, "FailedCreate")
    assert (
        "exceeded quota: compute, requested: requests.cpu=400m, used: requests.cpu=800m, "
        "limited: requests.cpu=1"
    ) in ev["message"]
    assert world.store.get("ResourceQuota", "shop", "compute")["status"]["used"] == {
        "requests.cpu": "800m"
    }


def test_endpoints_list_ready_and_not_ready_pods_with_resolved_target_ports(write_scenario):
    svc = """\
  - apiVersion: v1
    kind: Service
    metadata: {name: web, namespace: shop}
    spec:
      selector: {app: web}
      ports: [{name: http, port: 80, targetPort: http}]
"""
    fault = """\
  - name: one-unready
    when: {pod: {namespace: shop, labels: {app: web}}}
    state: {phase: NotReady}
"""
    world = make_world(write_scenario, scenario_text(svc + deployment(replicas=2)))
    [subset] = world.store.get("Endpoints", "shop", "web")["subsets"]
    assert len(subset["addresses"]) == 2
    assert subset["ports"] == [{"port": 8080, "protocol": "TCP", "name": "http"}]
    assert world.healthy("Service/shop/web")
    broken = make_world(write_scenario, scenario_text(svc + deployment(replicas=2), fault))
    [subset] = broken.store.get("Endpoints", "shop", "web")["subsets"]
    assert "addresses" not in subset and len(subset["notReadyAddresses"]) == 2
    assert not broken.healthy("Service/shop/web")


def test_file_pods_owned_by_a_replicaset_count_toward_it(write_scenario):
    objs = (
        deployment(replicas=2)
        + """\
  - apiVersion: apps/v1
    kind: ReplicaSet
    metadata:
      name: web-abc
      namespace: shop
      annotations: {deployment.kubernetes.io/revision: "3"}
      ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, controller: true}]
    spec:
      replicas: 2
      selector: {matchLabels: {app: web, pod-template-hash: abc}}
      template:
        metadata: {labels: {app: web, pod-template-hash: abc}}
        spec:
          containers:
            - name: app
              image: registry.example.com/web:1.0
              ports: [{containerPort: 8080, name: http}]
  - apiVersion: v1
    kind: Pod
    metadata:
      name: web-abc-given
      namespace: shop
      labels: {app: web, pod-template-hash: abc}
      ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-abc, controller: true}]
    spec:
      nodeName: node-b
      containers: [{name: app, image: registry.example.com/web:1.0}]
"""
    )
    world = make_world(write_scenario, scenario_text(objs))
    names = sorted(p["metadata"]["name"] for p in pods(world))
    assert len(names) == 2 and "web-abc-given" in names
    assert [r["metadata"]["name"] for r in world.store.list("ReplicaSet", "shop")] == ["web-abc"]
    with world.store.lock:
        world.store.delete("Pod", "shop", "web-abc-given")
    replaced = sorted(p["metadata"]["name"] for p in pods(world))
    assert len(replaced) == 2 and "web-abc-given" not in replaced


def test_a_volume_of_a_missing_configmap_keeps_the_pod_creating_with_failed_mount(write_scenario):
    spec = """
          volumes:
            - name: config
              configMap: {name: web-config}"""
    world = make_world(write_scenario, scenario_text(deployment(replicas=1, extra_spec=spec)))
    [pod] = pods(world)
    assert pod["status"]["phase"] == "Pending"
    assert pod["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] == (
        "ContainerCreating"
    )
    [ev] = events(world, "FailedMount")
    assert ev["message"] == (
        'MountVolume.SetUp failed for volume "config" : configmap "web-config" not found'
    )
    with world.store.lock:
        world.store.create(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "web-config", "namespace": "shop"},
                "data": {"a": "b"},
            }
        )
        world.sync()
    [pod] = pods(world)
    assert pod["status"]["phase"] == "Running"
