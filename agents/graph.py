"""The investigation as a LangGraph graph, drawn the way DESIGN.md draws it:

    intake -> supervisor --Send--> kubernetes | metrics | logs | runbooks  (in parallel)
                 ^                        |
                 +------- findings -------+
              supervisor: delegate again (bounded) or -> diagnose -> END

The graph knows nothing about rules or LLMs: a `Team` supplies the intake, the supervisor's
decision, each specialist and the diagnosis. Both engines build a Team; tests build tiny ones.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import ToolMessage
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Send

from agents.models import Diagnosis, Finding, Incident, ProgressEvent, Proposal, Trigger
from agents.state import (
    Assignment,
    InvestigationState,
    SpecialistReport,
    SpecialistTask,
    SupervisorDecision,
    finding_key,
)

log = logging.getLogger(__name__)

IntakeFn = Callable[[Trigger, str, str | None], Incident]
SupervisorFn = Callable[[InvestigationState], SupervisorDecision]
SpecialistFn = Callable[[Incident, Assignment], SpecialistReport]
DiagnoseFn = Callable[[InvestigationState], tuple[Diagnosis, list[Proposal]]]


class Progress:
    """Emits ProgressEvents as things happen; safe to call from the specialists' threads."""

    def __init__(self, incident_id: str, sink: Callable[[ProgressEvent], None] | None) -> None:
        self.incident_id = incident_id
        self._sink = sink
        self._lock = threading.Lock()
        self._done = 0
        self._total = 0

    def emit(self, kind: str, **fields: Any) -> None:
        """Send one event to the sink. A failing sink (a Slack hiccup) never stops the work."""
        if self._sink is None:
            return
        event = ProgressEvent(kind=kind, incident_id=self.incident_id, **fields)
        try:
            self._sink(event)
        except Exception:  # the sink is someone else's code; the investigation goes on
            log.exception("progress sink failed on %s", kind)

    def begin_round(self, number: int, total: int, question: str | None) -> None:
        """A new round of `total` specialists starts."""
        with self._lock:
            self._done, self._total = 0, total
        self.emit("round", done=0, total=total, message=question or f"round {number}")

    def specialist_started(self, name: str) -> None:
        """One specialist began working."""
        with self._lock:
            done, total = self._done, self._total
        self.emit("specialist_started", specialist=name, done=done, total=total)

    def specialist_done(self, name: str, findings: list[Finding], message: str = "") -> None:
        """One specialist finished: its findings go out now, not at the end."""
        with self._lock:
            self._done += 1
            done, total = self._done, self._total
        self.emit(
            "specialist_done",
            specialist=name,
            findings=findings,
            done=done,
            total=total,
            message=message,
        )


@dataclass
class Team:
    """Who does each step of an investigation; the graph only wires them together."""

    intake: IntakeFn
    supervisor: SupervisorFn
    specialists: Mapping[str, SpecialistFn]
    diagnose: DiagnoseFn
    progress: Progress


def build_graph(team: Team, checkpointer: BaseCheckpointSaver | None = None) -> CompiledStateGraph:
    """Compile the investigation graph for one team (thread_id = incident id)."""
    g = StateGraph(InvestigationState)
    g.add_node("intake", _intake_node(team))
    g.add_node("supervisor", _supervisor_node(team))
    for name, fn in team.specialists.items():
        g.add_node(name, _specialist_node(team, name, fn), input_schema=SpecialistTask)
        g.add_edge(name, "supervisor")
    g.add_node("diagnose", _diagnose_node(team))

    g.add_edge(START, "intake")
    g.add_edge("intake", "supervisor")
    g.add_conditional_edges("supervisor", _delegate, [*team.specialists, "diagnose"])
    g.add_edge("diagnose", END)
    return g.compile(checkpointer=checkpointer)


def _delegate(state: InvestigationState) -> list[Send] | str:
    """Fan out this round's assignments in parallel, or move on to the diagnosis."""
    assignments = state.get("assignments") or []
    if not assignments:
        return "diagnose"
    seen = [finding_key(f) for f in state.get("findings", [])]
    return [
        Send(
            a.specialist,
            SpecialistTask(
                incident=state["incident"], assignment=a, round=state.get("round", 1), seen=seen
            ),
        )
        for a in assignments
    ]


def _intake_node(team: Team) -> Callable[[InvestigationState], dict]:
    def intake(state: InvestigationState) -> dict:
        incident = team.intake(state["trigger"], state["incident_id"], state.get("hint"))
        team.progress.emit("started", message=incident.title)
        return {"incident": incident, "round": 0}

    return intake


def _supervisor_node(team: Team) -> Callable[[InvestigationState], dict]:
    def supervisor(state: InvestigationState) -> dict:
        decision = team.supervisor(state)
        update: dict[str, Any] = {"messages": decision.messages, "errors": decision.errors}
        for err in decision.errors:
            team.progress.emit("error", message=err)
        known = set(team.specialists)
        assignments = [a for a in decision.assignments if a.specialist in known]
        rnd = state.get("round", 0)
        # The bound holds whatever the supervisor decided: no round past max_rounds.
        if assignments and rnd < state.get("max_rounds", 2):
            team.progress.begin_round(rnd + 1, len(assignments), decision.question)
            update |= {"round": rnd + 1, "assignments": assignments, "question": decision.question}
        else:
            update["assignments"] = []
        return update

    return supervisor


def _specialist_node(team: Team, name: str, fn: SpecialistFn) -> Callable[[SpecialistTask], dict]:
    def specialist(task: SpecialistTask) -> dict:
        team.progress.specialist_started(name)
        try:
            report = fn(task["incident"], task["assignment"])
        except Exception as e:  # one broken specialist must not sink the whole investigation
            log.exception("specialist %s failed", name)
            report = SpecialistReport(summary=f"{name} failed: {e}", error=f"{name} failed: {e}")
        seen = set(task["seen"])
        new = [f for f in report.findings if finding_key(f) not in seen]
        team.progress.specialist_done(name, new, message=report.summary)
        update: dict[str, Any] = {"findings": new}
        if report.error:
            team.progress.emit("error", specialist=name, message=report.error)
            update["errors"] = [report.error]
        call_id = task["assignment"].call_id
        if call_id:
            # The LLM supervisor sees only the summary, never the specialist's raw context.
            update["messages"] = [
                ToolMessage(
                    content=report.summary or "(no summary)",
                    tool_call_id=call_id,
                    name=f"ask_{name}",
                )
            ]
        return update

    return specialist


def _diagnose_node(team: Team) -> Callable[[InvestigationState], dict]:
    def diagnose(state: InvestigationState) -> dict:
        diagnosis, proposals = team.diagnose(state)
        team.progress.emit("diagnosis", diagnosis=diagnosis, message=diagnosis.summary)
        for p in proposals:
            team.progress.emit("proposal", proposal=p, message=p.kubectl())
        return {"diagnosis": diagnosis, "proposals": proposals}

    return diagnose
