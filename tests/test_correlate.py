"""Rules correlation on the shared scenarios: the analyzers are fed API-shaped objects taken from
the scenario files (Pods derived the way the sandbox derives them), then `correlate` must blame
the answer key's resource with its category, evidence words and proposal."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import yaml

from agents.analyzers.logs import analyze_logs
from agents.analyzers.pods import analyze_pods
from agents.analyzers.rollouts import analyze_rollout
from agents.analyzers.services import analyze_services
from agents.correlate import correlate, next_question
from agents.models import Category, Incident, TriggerSource, Verb
from tests.conftest import SHARED_SCENARIOS


def _load(name: str) -> dict:
    return yaml.safe_load((SHARED_SCENARIOS / f"{name}.yaml").read_text())


def _pod(owner_rs: dict, i: int, state: str) -> dict:
    """A Pod of a ReplicaSet (or Deployment template), as the API returns it."""
    m = owner_rs["metadata"]
    tmpl = copy.deepcopy(owner_rs["spec"]["template"])
    labels = dict(tmpl["metadata"]["labels"])
    ready = state == "Running"
    cs = {
        "name": tmpl["spec"]["containers"][0]["name"],
        "image": tmpl["spec"]["containers"][0]["image"],
        "restartCount": 0,
        "ready": ready,
        "state": {"running": {}},
    }
    if state == "CrashLoopBackOff":
        cs.update(
            restartCount=6,
            state={
                "waiting": {
                    "reason": "CrashLoopBackOff",
                    "message": "back-off 5m0s restarting failed container",
                }
            },
            lastState={"terminated": {"reason": "Error", "exitCode": 1}},
        )
    return {
        "metadata": {
            "name": f"{m['name']}-p{i}",
            "namespace": m["namespace"],
            "labels": labels,
            "ownerReferences": [{"kind": "ReplicaSet", "name": m["name"]}],
        },
        "spec": tmpl["spec"],
        "status": {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": str(ready)}],
            "containerStatuses": [cs],
        },
    }


def _rs_of(dep: dict, hash_: str) -> dict:
    rs = copy.deepcopy(dep)
    rs["kind"] = "ReplicaSet"
    rs["metadata"] = {
        "name": f"{dep['metadata']['name']}-{hash_}",
        "namespace": dep["metadata"]["namespace"],
        "ownerReferences": [{"kind": "Deployment", "name": dep["metadata"]["name"]}],
    }
    rs["spec"]["template"]["metadata"]["labels"]["pod-template-hash"] = hash_
    return rs


def _incident(ns: str | None = None, **kw) -> Incident:
    return Incident(id="t", title="t", source=TriggerSource.CLI, namespace=ns, **kw)


def test_crashloop_after_rollout_that_dropped_an_env_var_is_blamed_on_the_deployment() -> None:
    sc = _load("checkout-missing-env")
    objs = sc["objects"]
    dep = next(
        o for o in objs if o["kind"] == "Deployment" and o["metadata"]["name"] == "checkout-api"
    )
    rss = [o for o in objs if o["kind"] == "ReplicaSet"]
    new_rs = next(r for r in rss if r["spec"]["replicas"] == 3)
    pods = [_pod(new_rs, i, "CrashLoopBackOff") for i in range(3)]
    findings = analyze_pods(pods) + analyze_rollout(dep, rss, pods, datetime.now(UTC))
    findings += analyze_logs("Deployment/shop/checkout-api", sc["faults"][0]["logs"])

    diagnosis, proposals = correlate(_incident("shop"), findings)

    assert diagnosis.root_cause == "Deployment/shop/checkout-api"
    assert diagnosis.category == Category.MISCONFIGURATION
    assert "DATABASE_URL" in diagnosis.text()
    assert diagnosis.confidence >= 0.8
    assert proposals[0].verb == Verb.ROLLOUT_UNDO
    assert proposals[0].target == "Deployment/shop/checkout-api"
    assert proposals[0].parameters["to_revision"] == 6
    assert proposals[0].verification and proposals[0].undo


def test_service_target_port_mismatch_is_blamed_on_the_service_and_patched_to_the_container_port() -> (
    None
):
    sc = _load("catalog-wrong-target-port")
    objs = sc["objects"]
    services = [o for o in objs if o["kind"] == "Service"]
    catalog = _rs_of(
        next(o for o in objs if o["metadata"]["name"] == "catalog" and o["kind"] == "Deployment"),
        "abc12",
    )
    frontend = _rs_of(
        next(o for o in objs if o["metadata"]["name"] == "frontend" and o["kind"] == "Deployment"),
        "def34",
    )
    pods = [_pod(catalog, i, "Running") for i in range(2)] + [
        _pod(frontend, i, "Running") for i in range(3)
    ]
    endpoints = [
        {
            "metadata": {"name": "catalog", "namespace": "shop"},
            "subsets": [{"addresses": [{"ip": "10.244.1.23"}], "ports": [{"port": 8081}]}],
        }
    ]
    findings = analyze_services(services, endpoints, pods)
    findings += analyze_logs("Deployment/shop/frontend", sc["faults"][0]["logs"])

    diagnosis, proposals = correlate(_incident("shop", service="frontend"), findings)

    assert diagnosis.root_cause == "Service/shop/catalog"
    assert diagnosis.category == Category.MISCONFIGURATION
    assert "8081" in diagnosis.text()
    assert proposals[0].verb == Verb.PATCH
    assert proposals[0].target == "Service/shop/catalog"
    assert proposals[0].parameters["patch"]["spec"]["ports"][0]["targetPort"] == 8080
    # the callers' refused connections are cited as evidence for the dependency
    assert any("connection refused" in e.text for e in diagnosis.evidence)


def test_no_findings_means_no_fault_and_no_proposal() -> None:
    diagnosis, proposals = correlate(_incident("shop"), [])
    assert diagnosis.category == Category.NO_FAULT and diagnosis.root_cause is None
    assert proposals == []


def test_callers_refused_by_a_service_in_another_namespace_raise_a_follow_up_question() -> None:
    findings = analyze_logs(
        "Deployment/billing/invoice-worker",
        "2026-01-01T00:00:00Z ERROR POST http://ledger.finance.svc:80/v1: connect: connection refused\n",
    )
    question = next_question(_incident("billing"), findings)
    assert question is not None and "Service/finance/ledger" in question
    assert next_question(_incident(None), findings) is None


def test_a_release_that_only_changed_the_image_and_crashes_is_a_code_defect() -> None:
    from agents.models import Evidence, Finding

    crash = Finding(
        specialist="kubernetes",
        title="Pods crash-looping",
        resource="Deployment/store/cart",
        summary="2 pod(s) CrashLoopBackOff; last termination Error (exit code 2)",
        tags=["crashloop"],
    )
    rollout = Finding(
        specialist="kubernetes",
        title="Rollout to revision 12",
        resource="Deployment/store/cart",
        evidence=[Evidence(kind="field", source="ReplicaSet/store/cart-2", text="image a -> b")],
        tags=["rollout", "rollout_unhealthy", "previous_healthy", "recent"],
        data={
            "revision": 12,
            "previous_revision": 11,
            "diff": [
                {
                    "field": "image",
                    "container": "cart",
                    "old": "a",
                    "new": "b",
                    "text": "image a -> b",
                }
            ],
        },
    )
    diagnosis, proposals = correlate(_incident("store"), [crash, rollout])
    assert diagnosis.category == Category.CODE_DEFECT
    assert [(p.verb, p.parameters) for p in proposals] == [(Verb.ROLLOUT_UNDO, {"to_revision": 11})]
