"""One investigation from trigger to diagnosis: the entry point the bot, eval and demo call.

    result = investigate(trigger, cluster, engine="rules", on_progress=print)

Both engines run the same graph (`agents/graph.py`); they differ only in the `Team`:
the rules engine's team is the deterministic specialists and `agents.correlate`; the LLM
engine's team is built in `agents/llm/team.py`. Nothing here executes a proposal.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from kubernetes.client.rest import ApiException
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver

from agents.graph import Progress, Team, build_graph
from agents.intake import Inventory, InventoryItem, intake, new_incident_id
from agents.models import Finding, InvestigationResult, ProgressEvent, Trigger
from agents.state import Assignment, InvestigationState, SpecialistReport, SupervisorDecision
from agents.tools.base import Tool, tools_for
from agents.tools.cluster import Cluster

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

SPECIALISTS: tuple[str, ...] = ("kubernetes", "metrics", "logs", "runbooks")
ENGINES = ("rules", "llm")


class InvestigationError(Exception):
    """The investigation could not start (unknown engine, say); the message says what to fix."""


def investigate(
    trigger: Trigger,
    cluster: Cluster,
    *,
    engine: str = "rules",
    model: str | BaseChatModel | None = None,
    runbooks_dir: Path | None = None,
    on_progress: Callable[[ProgressEvent], None] | None = None,
    incident_id: str | None = None,
    hint: str | None = None,
    prior_findings: list[Finding] | None = None,
    max_rounds: int = 2,
    checkpointer: BaseCheckpointSaver | None = None,
) -> InvestigationResult:
    """Investigate one incident and return its findings, diagnosis and proposals.

    Progress events go to `on_progress` as they happen (from worker threads). Raises
    ClusterUnreachable when the cluster does not answer, InvestigationError for bad arguments.
    """
    if engine not in ENGINES:
        raise InvestigationError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    started = time.monotonic()
    incident_id = incident_id or new_incident_id()
    progress = Progress(incident_id, on_progress)
    # Reading the inventory first also proves the cluster answers before anything is posted.
    inventory = cluster_inventory(cluster)
    toolsets = {name: tools_for(name, cluster, runbooks_dir) for name in SPECIALISTS}

    def read_trigger(t: Trigger, iid: str, h: str | None) -> object:
        return intake(t, iid, inventory=inventory, hint=h)

    if engine == "rules":
        team = rules_team(toolsets, read_trigger, progress)
    else:
        from agents.llm.team import llm_team

        team = llm_team(toolsets, read_trigger, progress, model=model)

    graph = build_graph(team, checkpointer or InMemorySaver())
    state: InvestigationState = graph.invoke(
        {
            "trigger": trigger,
            "incident_id": incident_id,
            "hint": hint,
            "max_rounds": max_rounds,
            "findings": list(prior_findings or []),
        },
        config={"configurable": {"thread_id": incident_id}, "recursion_limit": 50},
    )
    return InvestigationResult(
        incident=state["incident"],
        findings=state.get("findings", []),
        diagnosis=state["diagnosis"],
        proposals=state.get("proposals", []),
        rounds=state.get("round", 0),
        engine=engine,
        seconds=round(time.monotonic() - started, 3),
    )


def rules_team(
    toolsets: dict[str, list[Tool]],
    read_trigger: Callable,
    progress: Progress,
) -> Team:
    """The deterministic team: rules specialists, a rules supervisor, `correlate` to diagnose."""
    from agents import correlate as correlation

    def supervisor(state: InvestigationState) -> SupervisorDecision:
        rnd = state.get("round", 0)
        if rnd == 0:
            hint = state.get("hint")
            return SupervisorDecision(
                assignments=[Assignment(specialist=n, question=hint) for n in toolsets],
                question=hint,
            )
        if rnd >= state.get("max_rounds", 2):
            return SupervisorDecision()
        # A second round only when the evidence so far raises a sharper question.
        question = correlation.next_question(state["incident"], state.get("findings", []))
        if not question:
            return SupervisorDecision()
        return SupervisorDecision(
            assignments=[Assignment(specialist=n, question=question) for n in toolsets],
            question=question,
        )

    def diagnose(state: InvestigationState):
        return correlation.correlate(state["incident"], state.get("findings", []))

    return Team(
        intake=read_trigger,
        supervisor=supervisor,
        specialists={n: _rules_specialist(n, tools) for n, tools in toolsets.items()},
        diagnose=diagnose,
        progress=progress,
    )


def _rules_specialist(name: str, tools: list[Tool]) -> Callable:
    import importlib

    module = importlib.import_module(f"agents.specialists.{name}")

    def run(incident, assignment: Assignment) -> SpecialistReport:
        findings = module.collect(incident, tools, question=assignment.question)
        titles = "; ".join(f.title for f in findings[:5])
        return SpecialistReport(
            findings=findings,
            summary=f"{len(findings)} finding(s)" + (f": {titles}" if titles else ""),
        )

    return run


def cluster_inventory(cluster: Cluster) -> Inventory:
    """Namespaces, workloads and services that exist, for intake to match words against."""
    core, apps = cluster.core(), cluster.apps()
    listings = {
        "Namespace": core.list_namespace,
        "Deployment": apps.list_deployment_for_all_namespaces,
        "StatefulSet": apps.list_stateful_set_for_all_namespaces,
        "DaemonSet": apps.list_daemon_set_for_all_namespaces,
        "Service": core.list_service_for_all_namespaces,
    }

    def items(kind: str) -> list:
        try:
            return cluster.call(listings[kind]).items
        except ApiException:  # a kind this cluster does not serve, or we may not list
            if kind == "Namespace":
                raise
            return []

    # Five independent list calls: in parallel, so intake costs one round trip, not five.
    with ThreadPoolExecutor(max_workers=len(listings)) as pool:
        found = dict(zip(listings, pool.map(items, listings), strict=True))
    return Inventory(
        namespaces=[n.metadata.name for n in found.pop("Namespace")],
        objects=[
            InventoryItem(kind=kind, namespace=o.metadata.namespace, name=o.metadata.name)
            for kind, objs in found.items()
            for o in objs
        ],
    )
