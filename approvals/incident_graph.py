"""The whole incident as one durable LangGraph graph, drawn the way DESIGN.md draws it:

    investigate -> gate --auto--> execute -> END
                    |               ^  |
                    +--needs a person  |
                    v               |  |
              await_decision -------+  |   (interrupt(): waits for Approve / Reject)
                    ^------------------+   (more requests still pending)

One graph thread per incident (thread_id = incident id), on a durable checkpointer (the
bot's SQLite file or Redis), so a decision may resume it on any process, after a restart,
hours later. The kill switch's sweeper carries on outside the graph: its deadlines are
durable on their own.

Exactly once: LangGraph re-runs an interrupted node from its start when it resumes, so the
gate submit lives in its own node before the interrupting one, `Gate.submit` inserts only
if absent, `Gate.decide`'s compare-and-set makes one press per request fresh, and the gate's
record (not the resume value) is what allows an execution.
"""

from __future__ import annotations

import operator
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, TypedDict

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command, interrupt
from pydantic import BaseModel

from agents.models import InvestigationResult, Proposal, Trigger
from approvals.executor import ExecutionError, Executor
from approvals.gate import ApprovalRequest, Gate, RequestStatus, Route
from approvals.killswitch import KillSwitch
from approvals.policy import Confirmation

InvestigateFn = Callable[[Trigger, str, str | None], InvestigationResult]
SubmitFn = Callable[[str, int, Proposal, str | None], ApprovalRequest]


class GateDecision(BaseModel):
    """The resume value of the gate's interrupt: one recorded press (or terminal answer)."""

    request_id: str
    user: str
    approve: bool
    reason: str | None = None


class ExecutionOutcome(BaseModel):
    """What executing one approved request came to: a fix under the kill switch, or an error."""

    request_id: str
    fix_id: str | None = None
    error: str | None = None
    skipped: bool = False  # already executed (a replay, or another process got there first)


ExecuteFn = Callable[[ApprovalRequest, str], ExecutionOutcome]


class IncidentGraphState(TypedDict, total=False):
    """State of one incident's graph thread; everything in it survives a restart."""

    incident_id: str
    trigger: Trigger
    hint: str | None
    requested_by: str | None
    result: InvestigationResult
    requests: list[ApprovalRequest]
    # Request ids still waiting for a person, as the graph last saw them. Kept in the state
    # (not read live) so an interrupted node replays the same way on resume.
    pending: list[str]
    to_execute: list[str]
    decisions: Annotated[list[GateDecision], operator.add]
    executions: Annotated[list[ExecutionOutcome], operator.add]


class Delivery(StrEnum):
    """What became of a decision handed to the incident graph."""

    RESUMED = "resumed"  # the graph was waiting at the gate and carried on
    RUNNING = "running"  # the graph is still before the gate: it reads the decision itself
    ALREADY = "already"  # the graph had already handled this request: nothing to do
    NO_GRAPH = "no_graph"  # no graph knows the request (an older incident, a follow-up round)


@dataclass
class IncidentRuntime:
    """The live things the nodes act through; never checkpointed, rebuilt on every process."""

    gate: Gate
    investigate: InvestigateFn
    execute: ExecuteFn
    is_executed: Callable[[str], bool]
    submit: SubmitFn | None = None  # default: `gate.submit` (the bot passes its dry-run + submit)


def build_incident_graph(
    runtime: IncidentRuntime, checkpointer: BaseCheckpointSaver
) -> CompiledStateGraph:
    """Compile the incident graph (thread_id = incident id) on a durable checkpointer."""
    g = StateGraph(IncidentGraphState)
    g.add_node("investigate", _investigate_node(runtime))
    g.add_node("gate", _gate_node(runtime))
    g.add_node("await_decision", _await_node(runtime))
    g.add_node("execute", _execute_node(runtime))

    g.add_edge(START, "investigate")
    g.add_edge("investigate", "gate")
    g.add_conditional_edges("gate", _next, ["execute", "await_decision", END])
    g.add_conditional_edges("await_decision", _next, ["execute", "await_decision", END])
    g.add_conditional_edges("execute", _next, ["await_decision", END])
    return g.compile(checkpointer=checkpointer)


def _next(state: IncidentGraphState) -> str:
    """Execute what is approved first, then wait for the rest, then stop."""
    if state.get("to_execute"):
        return "execute"
    if state.get("pending"):
        return "await_decision"
    return END


def _investigate_node(rt: IncidentRuntime) -> Callable[[IncidentGraphState], dict]:
    def investigate(state: IncidentGraphState) -> dict:
        result = rt.investigate(state["trigger"], state["incident_id"], state.get("hint"))
        return {"result": result}

    return investigate


def _gate_node(rt: IncidentRuntime) -> Callable[[IncidentGraphState], dict]:
    submit = rt.submit or (
        lambda iid, i, p, by: rt.gate.submit(iid, i, p, requested_by=by)  # noqa: E731
    )

    def gate(state: IncidentGraphState) -> dict:
        iid = state["incident_id"]
        proposals = state["result"].proposals
        # Insert-if-absent: a request the bot already opened (to render it) comes back as stored.
        requests = [submit(iid, i, p, state.get("requested_by")) for i, p in enumerate(proposals)]
        pending = [
            r.id
            for r in requests
            if r.route == Route.NEEDS_APPROVAL and r.status == RequestStatus.PENDING
        ]
        # Approved already: auto-route, or a press that came before the graph reached the gate.
        ready = [
            r.id
            for r in requests
            if r.route in (Route.AUTO, Route.NEEDS_APPROVAL)
            and r.status == RequestStatus.APPROVED
            and not rt.is_executed(r.id)
        ]
        return {"requests": requests, "pending": pending, "to_execute": ready}

    return gate


def _await_node(rt: IncidentRuntime) -> Callable[[IncidentGraphState], dict]:
    def await_decision(state: IncidentGraphState) -> dict:
        pending = list(state.get("pending") or [])
        # The gate's record is the truth; the resume value only wakes the graph up. Reading it
        # here also catches a decision made while the graph was still on its way to the gate.
        decided = [rt.gate.get(rid) for rid in pending]
        decided = [r for r in decided if r.status != RequestStatus.PENDING]
        if not decided:
            waiting = [r for r in state.get("requests", []) if r.id in pending]
            answer = interrupt(
                {
                    "incident_id": state["incident_id"],
                    "request": waiting[0].model_dump(mode="json"),
                    "requests": [r.model_dump(mode="json") for r in waiting],
                }
            )
            decision = GateDecision.model_validate(answer)
            if decision.request_id not in pending:
                return {"pending": pending}  # not one of ours: keep waiting
            decided = [rt.gate.get(decision.request_id)]
            if decided[0].status == RequestStatus.PENDING:
                return {"pending": pending}  # a resume without a recorded decision: ignore it
        done = {r.id for r in decided}
        return {
            "pending": [rid for rid in pending if rid not in done],
            "to_execute": [
                r.id
                for r in decided
                if r.status == RequestStatus.APPROVED and not rt.is_executed(r.id)
            ],
            "decisions": [
                GateDecision(
                    request_id=r.id,
                    user=r.decided_by or "?",
                    approve=r.status == RequestStatus.APPROVED,
                    reason=r.reason,
                )
                for r in decided
            ],
        }

    return await_decision


def _execute_node(rt: IncidentRuntime) -> Callable[[IncidentGraphState], dict]:
    def execute(state: IncidentGraphState) -> dict:
        outcomes = []
        for rid in state.get("to_execute") or []:
            req = rt.gate.get(rid)
            # Only what the gate recorded as approved runs, whatever the state says.
            if req.status != RequestStatus.APPROVED:
                continue
            if rt.is_executed(rid):
                outcomes.append(ExecutionOutcome(request_id=rid, skipped=True))
                continue
            outcomes.append(rt.execute(req, req.decided_by or "sre-bot"))
        return {"to_execute": [], "executions": outcomes}

    return execute


class IncidentGraph:
    """Starts incidents on the graph and hands decisions to the graph thread waiting for them."""

    def __init__(self, runtime: IncidentRuntime, checkpointer: BaseCheckpointSaver) -> None:
        self.runtime = runtime
        self.graph = build_incident_graph(runtime, checkpointer)

    @staticmethod
    def config(incident_id: str) -> dict[str, Any]:
        """The LangGraph config of an incident's thread."""
        return {"configurable": {"thread_id": incident_id}, "recursion_limit": 100}

    def start(
        self,
        incident_id: str,
        trigger: Trigger,
        *,
        hint: str | None = None,
        requested_by: str | None = None,
    ) -> IncidentGraphState:
        """Run an incident until it ends or waits at the gate; returns the state it reached."""
        return self.graph.invoke(
            {
                "incident_id": incident_id,
                "trigger": trigger,
                "hint": hint,
                "requested_by": requested_by,
                "pending": [],
                "to_execute": [],
            },
            config=self.config(incident_id),
        )

    def state(self, incident_id: str) -> IncidentGraphState:
        """The checkpointed state of an incident's thread (empty when there is none)."""
        return self.graph.get_state(self.config(incident_id)).values  # type: ignore[return-value]

    def waiting(self, incident_id: str) -> list[dict[str, Any]]:
        """The interrupt payloads the thread is waiting on (empty when it is not waiting)."""
        snap = self.graph.get_state(self.config(incident_id))
        return [i.value for i in snap.interrupts]

    def deliver(
        self, incident_id: str, decision: GateDecision, *, settle_seconds: float = 2.0
    ) -> Delivery:
        """Resume the incident's thread with a decision already recorded by `Gate.decide`.

        Call it only for the fresh decision, from any process. NO_GRAPH means no graph
        thread will act on it, so the caller executes the approved request itself.
        """
        deadline = time.monotonic() + settle_seconds
        while True:
            snap = self.graph.get_state(self.config(incident_id))
            if not snap.values:
                return Delivery.NO_GRAPH
            known = {r.id for r in snap.values.get("requests") or []}
            if snap.interrupts:
                self.graph.invoke(
                    Command(resume=decision.model_dump(mode="json")),
                    config=self.config(incident_id),
                )
                return Delivery.RESUMED
            if not snap.next:
                return Delivery.ALREADY if decision.request_id in known else Delivery.NO_GRAPH
            # Running: if the graph is already past the gate it is about to wait; give it a
            # moment so the decision resumes it instead of being left for the next press.
            if not known or time.monotonic() > deadline:
                return Delivery.RUNNING
            time.sleep(0.05)


def kill_switch_execute(
    gate: Gate,
    executor: Callable[[str], Executor],
    kill_switch: KillSwitch,
    *,
    window_seconds: float,
    confirmation: Confirmation = Confirmation.HEALTH,
) -> ExecuteFn:
    """The plain execute step: dry run, snapshot, apply, then arm the kill switch."""

    def execute(request: ApprovalRequest, approved_by: str) -> ExecutionOutcome:
        if not gate.claim_execution(request.id):
            return ExecutionOutcome(request_id=request.id, skipped=True)
        try:
            record = executor(request.incident_id).execute(
                request.proposal, approved_by=approved_by
            )
        except ExecutionError as e:
            return ExecutionOutcome(request_id=request.id, error=str(e))
        fix = kill_switch.arm(
            request.id,
            request.incident_id,
            record,
            window_seconds=window_seconds,
            confirmation=confirmation,
        )
        return ExecutionOutcome(request_id=request.id, fix_id=fix.id)

    return execute


def armed_checker(kill_switch: KillSwitch) -> Callable[[str], bool]:
    """`is_executed` for the runtime: a request is executed once its fix is armed."""

    def is_armed(request_id: str) -> bool:
        try:
            kill_switch.get(request_id)
            return True
        except KeyError:
            return False

    return is_armed
