"""The whole investigation with the real specialists against a real sandbox cluster."""

from __future__ import annotations

import threading
import time

import pytest

from agents.intake import intake
from agents.investigation import cluster_inventory, investigate
from agents.models import Category, ProgressEvent, Trigger, TriggerSource, Verb
from agents.tools.cluster import Cluster
from bot.eval import trigger_of
from sandbox.scenario import load_scenario
from sandbox.server import Sandbox


class Served:
    """A started sandbox with its scenario and a connected Cluster."""

    def __init__(self, path, latency: float = 0.0) -> None:
        self.scenario = load_scenario(path)
        self.sandbox = Sandbox(path, port=0, latency=latency).start()
        self.cluster = Cluster.connect(self.sandbox.kubeconfig, self.sandbox.prometheus_url)

    @property
    def trigger(self) -> Trigger:
        return trigger_of(self.scenario, self.sandbox.world)


@pytest.fixture
def serve():
    started: list[Served] = []

    def _serve(path, latency: float = 0.0) -> Served:
        s = Served(path, latency)
        started.append(s)
        return s

    yield _serve
    for s in started:
        s.sandbox.stop()


class Recorder:
    """Collects progress events with the time each arrived (from any thread)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.events: list[tuple[float, ProgressEvent]] = []

    def __call__(self, e: ProgressEvent) -> None:
        with self.lock:
            self.events.append((time.monotonic(), e))

    def kinds(self) -> list[str]:
        return [e.kind for _, e in self.events]


def test_free_text_is_matched_against_the_live_clusters_workloads(serve, shared_scenarios):
    s = serve(shared_scenarios / "checkout-missing-env.yaml")
    inv = cluster_inventory(s.cluster)
    assert "shop" in inv.namespaces
    inc = intake(s.trigger, "inc-x", inventory=inv)
    assert (inc.namespace, inc.workload, inc.service) == ("shop", "checkout-api", "checkout-api")


def test_rules_engine_blames_the_rollout_that_dropped_database_url(serve, shared_scenarios):
    s = serve(shared_scenarios / "checkout-missing-env.yaml")
    rec = Recorder()
    result = investigate(s.trigger, s.cluster, on_progress=rec, incident_id="inc-checkout")
    d = result.diagnosis
    assert d.root_cause in (
        "Deployment/shop/checkout-api",
        "ReplicaSet/shop/checkout-api-6b7f9c4d8",
    )
    assert d.category == Category.MISCONFIGURATION
    assert "database_url" in d.text().lower()
    assert result.proposals and all(isinstance(p.verb, Verb) for p in result.proposals)
    assert result.incident.id == "inc-checkout"
    kinds = rec.kinds()
    assert kinds[0] == "started" and "diagnosis" in kinds
    done = [e for _, e in rec.events if e.kind == "specialist_done" and e.message != ""]
    assert {e.specialist for e in done} >= {"kubernetes", "metrics", "logs", "runbooks"}
    assert sum(len(e.findings) for _, e in rec.events if e.kind == "specialist_done") == len(
        result.findings
    )


def test_rules_engine_blames_the_service_edited_to_the_wrong_port(serve, shared_scenarios):
    s = serve(shared_scenarios / "catalog-wrong-target-port.yaml")
    result = investigate(s.trigger, s.cluster)
    assert result.incident.alert_name == "HighErrorRate"
    assert result.diagnosis.root_cause == "Service/shop/catalog"
    assert "8081" in result.diagnosis.text()
    assert all(p.verb != Verb.DELETE for p in result.proposals)


def test_with_api_latency_the_fan_out_takes_about_the_slowest_specialist(serve, shared_scenarios):
    s = serve(shared_scenarios / "checkout-missing-env.yaml", latency=0.1)
    rec = Recorder()
    investigate(s.trigger, s.cluster, on_progress=rec, max_rounds=1)
    started = {e.specialist: t for t, e in rec.events if e.kind == "specialist_started"}
    done = {e.specialist: t for t, e in rec.events if e.kind == "specialist_done"}
    each = {n: done[n] - started[n] for n in done}
    fan_out = max(done.values()) - min(started.values())
    slowest = max(each.values())
    assert fan_out <= 1.3 * slowest, f"fan-out {fan_out:.2f}s, specialists {each}"
    assert fan_out < 0.8 * sum(each.values())


def test_llm_specialists_call_the_real_tools_against_the_cluster(serve, shared_scenarios):
    from tests.support.fake_models import ScriptedChatModel, ai, call
    from tests.test_llm_engine import GOOD_FINAL, specialist_answer

    s = serve(shared_scenarios / "checkout-missing-env.yaml")
    model = ScriptedChatModel(
        scripts={
            "supervisor": [
                ai("", call("ask_kubernetes", question="Which pods in shop are failing?")),
                ai("checkout-api crash-loops after revision 7."),
            ],
            "kubernetes": [
                ai("", call("k8s_list_pods", namespace="shop")),
                ai(specialist_answer("checkout-api pods crash-loop.")),
            ],
            "diagnose": [ai(GOOD_FINAL)],
        }
    )
    result = investigate(s.trigger, s.cluster, engine="llm", model=model)
    pods_output = model.sent_to("kubernetes")[1].messages[-1].content
    assert "checkout-api-" in pods_output and "untrusted-data" in pods_output
    assert result.engine == "llm"
    assert result.diagnosis.root_cause == "Deployment/shop/checkout-api"
    assert result.proposals[0].verb == Verb.ROLLOUT_UNDO


def test_an_unknown_engine_is_refused_before_touching_the_cluster():
    from agents.investigation import InvestigationError

    with pytest.raises(InvestigationError, match="rules, llm"):
        investigate(Trigger(source=TriggerSource.CLI, text="x"), cluster=None, engine="magic")
