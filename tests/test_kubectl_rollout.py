"""kubectl against the live World: logs, rollout history/undo/status/restart, drain, evictions."""

from __future__ import annotations

import pytest
from kubernetes import client, config

from sandbox.scenario import load_scenario
from tests.conftest import SHARED_SCENARIOS
from tests.support.kube import Kubectl, start_sandbox, wait_for

CHECKOUT = SHARED_SCENARIOS / "checkout-missing-env.yaml"
NS = ("-n", "shop")
SPEED = 10.0  # sandbox seconds per real second: startup_seconds pass quickly
FATAL = "FATAL config: required environment variable DATABASE_URL is not set"


@pytest.fixture
def cluster(tmp_path):
    sb = start_sandbox(CHECKOUT, speed=SPEED)
    try:
        yield sb, Kubectl(sb.kubeconfig, tmp_path / "kubecache")
    finally:
        sb.stop()


def _checkout_pods(k: Kubectl) -> list[str]:
    return k.out("get", "pods", *NS, "-l", "app=checkout-api", "-o", "name").split()


def test_get_pods_shows_the_crash_loop_with_restarts(cluster):
    _, k = cluster
    out = k.out("get", "pods", "-A")
    assert out.splitlines()[0].split() == [
        "NAMESPACE",
        "NAME",
        "READY",
        "STATUS",
        "RESTARTS",
        "AGE",
    ]
    crashing = [ln for ln in out.splitlines() if "checkout-api-6b7f9c4d8" in ln]
    assert len(crashing) == 3
    assert all("CrashLoopBackOff" in ln and "0/1" in ln for ln in crashing)
    frontend = [ln for ln in out.splitlines() if " frontend-" in ln]
    assert frontend and all("Running" in ln and "1/1" in ln for ln in frontend)


def test_logs_previous_shows_the_fatal_line_and_options_filter(cluster):
    _, k = cluster
    pod = _checkout_pods(k)[0]
    assert FATAL in k.out("logs", pod, *NS, "--previous")
    assert FATAL in k.out("logs", pod, *NS, "-c", "app", "--tail=1")
    assert len(k.out("logs", pod, *NS, "--tail=1").strip().splitlines()) == 1
    k.out("logs", pod, *NS, "--since=1h")


def test_logs_of_a_missing_container_is_an_error(cluster):
    _, k = cluster
    pod = _checkout_pods(k)[0]
    p = k.run("logs", pod, *NS, "-c", "nope", check=False)
    assert p.returncode == 1 and "nope" in p.stderr


def test_rollout_history_lists_the_revisions(cluster):
    _, k = cluster
    out = k.out("rollout", "history", "deployment/checkout-api", *NS)
    revisions = [ln.split()[0] for ln in out.splitlines()[2:] if ln.strip()]
    assert "6" in revisions and "7" in revisions


def test_rollout_undo_heals_the_crash_loop(cluster):
    sb, k = cluster
    k.out("rollout", "undo", "deployment/checkout-api", *NS)
    image = k.json("get", "deploy", "checkout-api", *NS)["spec"]["template"]["spec"]["containers"][
        0
    ]["image"]
    assert image.endswith("checkout:2.13.2")
    slack = load_scenario(CHECKOUT).startup_seconds / SPEED + 20
    wait_for(
        lambda: k.out("get", "deploy", "checkout-api", *NS).splitlines()[1].split()[1] == "3/3",
        slack,
        "checkout-api to be 3/3 ready after the undo",
    )
    k.out("rollout", "status", "deployment/checkout-api", *NS, "--timeout=20s")
    assert ("patch", "Deployment/shop/checkout-api") in sb.world.executed


def test_rollout_restart_then_status_completes_for_a_healthy_deployment(cluster):
    _, k = cluster
    k.out("rollout", "restart", "deployment/frontend", *NS)
    ann = k.json("get", "deploy", "frontend", *NS)["spec"]["template"]["metadata"]["annotations"]
    assert "kubectl.kubernetes.io/restartedAt" in ann
    out = k.out("rollout", "status", "deployment/frontend", *NS, "--timeout=30s")
    assert "successfully rolled out" in out


def test_drain_cordons_and_evicts_every_pod_on_the_node(cluster):
    sb, k = cluster
    on_a = k.out(
        "get", "pods", "-A", "--field-selector", "spec.nodeName=node-a", "-o", "name"
    ).split()
    assert on_a, "the scenario should place pods on node-a"
    k.out("drain", "node-a", "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=30s")
    assert k.json("get", "node", "node-a")["spec"]["unschedulable"] is True
    left = k.out(
        "get", "pods", "-A", "--field-selector", "spec.nodeName=node-a", "-o", "name"
    ).split()
    assert not set(on_a) & set(left)
    assert any(verb == "evict" for verb, _ in sb.world.executed)


def test_python_client_reads_logs_and_evicts(cluster):
    sb, k = cluster
    pod = _checkout_pods(k)[0].split("/", 1)[1]
    api = config.new_client_from_config(config_file=str(sb.kubeconfig))
    try:
        core = client.CoreV1Api(api)
        assert FATAL in core.read_namespaced_pod_log(pod, "shop", previous=True)
        core.create_namespaced_pod_eviction(
            pod, "shop", client.V1Eviction(metadata=client.V1ObjectMeta(name=pod, namespace="shop"))
        )
        assert ("evict", f"Pod/shop/{pod}") in sb.world.executed
        names = [p.metadata.name for p in core.list_namespaced_pod("shop").items]
        assert pod not in names
    finally:
        api.close()
