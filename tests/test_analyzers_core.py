"""Analyzers, table-driven over API-shaped objects: each concern yields the exact tags and the
concrete evidence words correlation relies on."""

from __future__ import annotations

import pytest

from agents.analyzers.config_refs import analyze_config_refs
from agents.analyzers.logs import analyze_logs, signatures
from agents.analyzers.metrics import analyze_series
from agents.analyzers.nodes import analyze_nodes
from agents.analyzers.pods import analyze_pods
from agents.analyzers.rollouts import template_diff
from agents.analyzers.services import analyze_services


def _pod(
    name: str,
    waiting: str | None = None,
    last: dict | None = None,
    phase: str = "Running",
    ready: bool = False,
    node_selector: dict | None = None,
) -> dict:
    cs = {
        "name": "app",
        "image": "r/app:v4.12.0",
        "restartCount": 3,
        "state": {"waiting": {"reason": waiting, "message": "m"}} if waiting else {"running": {}},
    }
    if last:
        cs["lastState"] = {"terminated": last}
    return {
        "metadata": {
            "name": f"{name}-7d4f9b6c85-x1",
            "namespace": "ns",
            "labels": {"app": name, "pod-template-hash": "7d4f9b6c85"},
            "ownerReferences": [{"kind": "ReplicaSet", "name": f"{name}-7d4f9b6c85"}],
        },
        "spec": {
            "nodeSelector": node_selector or {},
            "containers": [{"name": "app", "ports": [{"containerPort": 8080}]}],
        },
        "status": {
            "phase": phase,
            "conditions": [{"type": "Ready", "status": str(ready)}],
            "containerStatuses": [] if phase == "Pending" else [cs],
        },
    }


@pytest.mark.parametrize(
    ("pod", "tags", "word"),
    [
        (
            _pod("a", "CrashLoopBackOff", {"reason": "OOMKilled", "exitCode": 137}),
            {"crashloop", "oomkilled"},
            "OOMKilled",
        ),
        (
            _pod("b", "CrashLoopBackOff", {"reason": "Error", "exitCode": 1}),
            {"crashloop"},
            "exit code 1",
        ),
        (_pod("c", "ImagePullBackOff"), {"image_pull"}, "v4.12.0"),
        (_pod("d", "CreateContainerConfigError"), {"config_error"}, "CreateContainerConfigError"),
        (_pod("e"), {"not_ready"}, "NotReady"),
    ],
)
def test_pod_problems_are_named_with_their_reason(pod: dict, tags: set[str], word: str) -> None:
    (finding,) = analyze_pods([pod])
    assert set(finding.tags) >= tags
    assert finding.resource == f"Deployment/ns/{pod['metadata']['labels']['app']}"
    assert word in finding.summary


def test_healthy_pods_yield_nothing() -> None:
    assert analyze_pods([_pod("ok", ready=True)]) == []


def test_pending_pod_on_a_cordoned_node_names_the_node() -> None:
    nodes = [
        {
            "metadata": {"name": "gpu-1", "labels": {"gpu": "true"}},
            "spec": {"unschedulable": True},
            "status": {"conditions": [{"type": "Ready", "status": "True"}]},
        }
    ]
    pods = [_pod("ranker", phase="Pending", node_selector={"gpu": "true"})]
    findings = analyze_nodes(nodes, pods)
    tags = {t for f in findings for t in f.tags}
    assert {"cordoned", "nodeselector_mismatch"} <= tags
    mismatch = next(f for f in findings if "nodeselector_mismatch" in f.tags)
    assert mismatch.data["matching_unusable_nodes"] == ["gpu-1"]


def test_service_selector_matching_no_pod_suggests_the_labels_pods_carry() -> None:
    svc = {
        "metadata": {"name": "pay", "namespace": "ns"},
        "spec": {"selector": {"app": "payments-api"}, "ports": [{"port": 443, "targetPort": 8080}]},
    }
    (finding,) = analyze_services([svc], [], [_pod("payments", ready=True)])
    assert "selector_mismatch" in finding.tags
    assert finding.data["candidate_labels"] == [{"app": "payments"}]
    assert "selector" in finding.summary


def _tmpl(memory: str, probe: str, image: str, env: list) -> dict:
    return {
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "image": image,
                            "env": env,
                            "resources": {"limits": {"memory": memory}},
                            "readinessProbe": {"httpGet": {"path": probe, "port": 8080}},
                        }
                    ]
                }
            }
        }
    }


def test_template_diff_quotes_image_env_limits_and_probe_path() -> None:
    old = _tmpl(
        "2Gi",
        "/actuator/health/readiness",
        "r/app:4.11.0",
        [{"name": "DATABASE_URL", "value": "x"}],
    )
    new = _tmpl("768Mi", "/health/readiness", "r/app:v4.12.0", [])
    text = " ".join(c["text"] for c in template_diff(old, new))
    for word in ("v4.12.0", "DATABASE_URL removed", "2Gi -> 768Mi", "/health/readiness"):
        assert word in text


@pytest.mark.parametrize(
    ("line", "tag"),
    [
        ("FATAL config: required environment variable DATABASE_URL is not set", "log_fatal_config"),
        (
            "ERROR upstream catalog.shop.svc:80: connect: connection refused",
            "log_connection_refused",
        ),
        ("java.lang.OutOfMemoryError: Java heap space", "log_oom"),
        ("panic: runtime error: invalid memory address", "log_panic"),
        ("ERROR pq: password authentication failed for user app", "log_auth_failure"),
    ],
)
def test_log_lines_are_classified(line: str, tag: str) -> None:
    (finding,) = analyze_logs("Deployment/ns/x", f"2026-01-01T00:00:00Z {line}\n")
    assert tag in finding.tags


def test_refused_connections_name_the_target_service_and_port() -> None:
    (finding,) = analyze_logs(
        "Deployment/shop/frontend",
        "ERROR upstream catalog.shop.svc:80: dial tcp 10.0.0.1:8081: connection refused\n",
    )
    assert finding.data["targets"][0] == {
        "host": "catalog.shop.svc",
        "port": 80,
        "service": "catalog",
        "namespace": "shop",
        "ip": False,
    }


def test_repeated_lines_fold_into_one_signature_with_stack_trace_kept() -> None:
    text = '2026-01-01T00:00:01Z ERROR req 17 failed\n2026-01-01T00:00:05Z ERROR req 18 failed\nTraceback (most recent call last):\n  File "a.py", line 1\n'
    sigs = signatures(text)
    folded = next(s for s in sigs if s["signature"] == "ERROR req <n> failed")
    assert (
        folded["count"] == 2
        and folded["first_seen"] == "2026-01-01T00:00:01Z"
        and folded["last_seen"] == "2026-01-01T00:00:05Z"
    )
    # the stack trace stays with its entry instead of becoming signatures of its own
    assert len(sigs) == 1


def test_error_ratio_step_is_found_with_its_time_and_flat_series_are_not() -> None:
    step = [(1000.0 + 60 * i, 0.0 if i < 40 else 0.4) for i in range(60)]
    (finding,) = analyze_series("Service/ns/a", "a", "q", step, kind="error_ratio", threshold=0.05)
    assert "error_ratio_step" in finding.tags and finding.data["at_ts"] == 1000.0 + 60 * 40
    flat = [(1000.0 + 60 * i, 0.01) for i in range(60)]
    assert analyze_series("Service/ns/a", "a", "q", flat, kind="error_ratio", threshold=0.05) == []


def test_a_reference_the_bot_may_not_read_is_no_evidence_of_a_missing_secret():
    refs = [
        {
            "kind": "Secret",
            "name": "db",
            "key": "url",
            "container": "app",
            "via": "env",
            "env": "DATABASE_URL",
            "optional": False,
            "exists": None,
            "unknown": "forbidden (Forbidden); the bot's service account lacks read access here",
        },
        {
            "kind": "ConfigMap",
            "name": "app-config",
            "key": None,
            "container": "app",
            "via": "envFrom",
            "optional": False,
            "exists": False,
        },
    ]
    findings = analyze_config_refs("Deployment/shop/web", refs)
    assert [f.title for f in findings] == ["Missing config reference: ConfigMap app-config"]
