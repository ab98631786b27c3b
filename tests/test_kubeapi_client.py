"""The official `kubernetes` Python client against the sandbox, and the Status errors it sees."""

from __future__ import annotations

import httpx
import pytest
from kubernetes import client, config
from kubernetes.client.rest import ApiException

from tests.conftest import SHARED_SCENARIOS
from tests.support.kube import start_sandbox

CHECKOUT = SHARED_SCENARIOS / "checkout-missing-env.yaml"


@pytest.fixture
def sandbox():
    sb = start_sandbox(CHECKOUT)
    try:
        yield sb
    finally:
        sb.stop()


@pytest.fixture
def api(sandbox):
    # Never the global default configuration: each test builds its own client.
    c = config.new_client_from_config(config_file=str(sandbox.kubeconfig))
    try:
        yield c
    finally:
        c.close()


def test_client_lists_reads_and_patches_deployments(api, sandbox):
    apps = client.AppsV1Api(api)
    names = [d.metadata.name for d in apps.list_namespaced_deployment("shop").items]
    assert names == ["checkout-api", "frontend"]
    dep = apps.read_namespaced_deployment("checkout-api", "shop")
    assert dep.spec.template.spec.containers[0].image.endswith("checkout:2.14.0")
    apps.patch_namespaced_deployment(
        "checkout-api", "shop", {"metadata": {"annotations": {"owner": "payments"}}}
    )
    assert (
        apps.read_namespaced_deployment("checkout-api", "shop").metadata.annotations["owner"]
        == "payments"
    )
    assert ("patch", "Deployment/shop/checkout-api") in sandbox.world.executed


def test_client_scales_through_the_scale_subresource(api):
    apps = client.AppsV1Api(api)
    scale = apps.read_namespaced_deployment_scale("checkout-api", "shop")
    assert scale.spec.replicas == 3 and scale.status.selector == "app=checkout-api"
    apps.patch_namespaced_deployment_scale("checkout-api", "shop", {"spec": {"replicas": 1}})
    assert apps.read_namespaced_deployment("checkout-api", "shop").spec.replicas == 1


def test_client_lists_across_namespaces_with_selectors(api):
    core = client.CoreV1Api(api)
    svcs = core.list_service_for_all_namespaces(
        label_selector="", field_selector="metadata.name=frontend"
    )
    assert [s.metadata.name for s in svcs.items] == ["frontend"]


def test_client_deletes_and_sees_not_found_afterwards(api):
    core = client.CoreV1Api(api)
    core.delete_namespaced_secret("checkout-db", "shop")
    with pytest.raises(ApiException) as e:
        core.read_namespaced_secret("checkout-db", "shop")
    assert e.value.status == 404


def test_not_found_is_a_status_object(sandbox):
    r = httpx.get(f"{sandbox.kubernetes_url}/apis/apps/v1/namespaces/shop/deployments/nope")
    assert r.status_code == 404
    body = r.json()
    assert body["kind"] == "Status" and body["reason"] == "NotFound" and body["code"] == 404
    assert body["message"] == 'deployments.apps "nope" not found'


def test_create_conflict_is_already_exists_status(sandbox):
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "checkout-db"}}
    r = httpx.post(f"{sandbox.kubernetes_url}/api/v1/namespaces/shop/secrets", json=secret)
    assert r.status_code == 409 and r.json()["reason"] == "AlreadyExists"


def test_stale_resource_version_is_a_conflict(sandbox):
    url = f"{sandbox.kubernetes_url}/api/v1/namespaces/shop/secrets/checkout-db"
    obj = httpx.get(url).json()
    obj["metadata"]["resourceVersion"] = "1"
    r = httpx.put(url, json=obj)
    assert r.status_code == 409 and r.json()["reason"] == "Conflict"


def test_negative_scale_is_invalid_with_a_cause(sandbox):
    url = f"{sandbox.kubernetes_url}/apis/apps/v1/namespaces/shop/deployments/checkout-api/scale"
    r = httpx.patch(
        url,
        content=b'{"spec":{"replicas":-2}}',
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert r.status_code == 422
    body = r.json()
    assert body["kind"] == "Status" and body["reason"] == "Invalid"
    assert body["details"]["causes"][0]["field"] == "spec.replicas"


def test_bad_name_is_invalid(sandbox):
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "Not_Valid"}}
    r = httpx.post(f"{sandbox.kubernetes_url}/api/v1/namespaces/shop/configmaps", json=cm)
    assert r.status_code == 422 and r.json()["reason"] == "Invalid"


def test_unsupported_operation_is_method_not_allowed_and_says_what_is_supported(sandbox):
    r = httpx.put(f"{sandbox.kubernetes_url}/api/v1/namespaces/shop/secrets", json={})
    assert r.status_code == 405
    assert r.json()["reason"] == "MethodNotAllowed" and "POST" in r.json()["message"]


def test_malformed_selector_is_bad_request(sandbox):
    r = httpx.get(f"{sandbox.kubernetes_url}/api/v1/pods", params={"fieldSelector": "nonsense"})
    assert r.status_code == 400 and r.json()["reason"] == "BadRequest"


def test_date_header_is_sandbox_time(sandbox):
    from email.utils import parsedate_to_datetime

    r = httpx.get(f"{sandbox.kubernetes_url}/version")
    served = parsedate_to_datetime(r.headers["date"])
    assert abs((served - sandbox.world.clock.now()).total_seconds()) < 5


def test_prometheus_prefix_is_mounted(sandbox):
    r = httpx.get(f"{sandbox.prometheus_url}/api/v1/query", params={"query": "1"})
    assert r.status_code in (200, 404)
    assert r.headers["content-type"].startswith("application/json")


def test_a_hand_written_pod_status_still_lists_with_the_typed_client(write_scenario):
    """Scenario authors omit imageID/containerID; the typed client must still list the Pod."""
    from sandbox.server import Sandbox

    path = write_scenario(
        """
        name: partial-pod-status
        summary: A Pod whose status was written by hand.
        clock: "2026-11-20T10:00:00Z"
        trigger: {slash: "look at fin"}
        objects:
          - apiVersion: v1
            kind: Namespace
            metadata: {name: fin}
          - apiVersion: v1
            kind: Pod
            metadata: {name: batch-1, namespace: fin, labels: {app: batch}}
            spec:
              containers: [{name: job, image: "registry.example.com/fin/batch:1.0"}]
            status:
              phase: Running
              containerStatuses:
                - name: job
                  ready: true
                  restartCount: 3
                  state: {running: {startedAt: "2026-11-20T09:00:00Z"}}
        faults: []
        answer:
          root_cause: {category: [NoFault]}
        """
    )
    sb = Sandbox(path).start()
    try:
        api = client.CoreV1Api(config.new_client_from_config(config_file=str(sb.kubeconfig)))
        [pod] = api.list_namespaced_pod("fin").items
        status = pod.status.container_statuses[0]
        assert status.image_id.startswith("registry.example.com/fin/batch@sha256:")
        assert status.container_id.startswith("containerd://")
        assert status.restart_count == 3
    finally:
        sb.stop()
