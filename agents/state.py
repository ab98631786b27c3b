"""The investigation graph's typed state, and the small models its nodes exchange.

Everything in the state is a pydantic model or a LangChain message, so a checkpointer can
persist it; live objects (the cluster, models, callbacks) stay out of it and reach the nodes
through the `Team` the graph is built with.
"""

from __future__ import annotations

import operator
from typing import Annotated, TypedDict

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages
from pydantic import BaseModel, Field

from agents.models import Diagnosis, Finding, Incident, Proposal, Trigger


class Assignment(BaseModel):
    """One specialist asked one question in one round (by the rules or by an LLM tool call)."""

    specialist: str
    question: str | None = None
    call_id: str | None = Field(
        None, description="the supervisor model's tool_call id, when an LLM delegated"
    )


class SpecialistReport(BaseModel):
    """What a specialist hands back: findings for the thread, a summary for the supervisor."""

    findings: list[Finding] = Field(default_factory=list)
    summary: str = ""
    error: str | None = None


class SupervisorDecision(BaseModel):
    """The supervisor's move: delegate these assignments, or (none left) go to diagnosis."""

    assignments: list[Assignment] = Field(default_factory=list)
    question: str | None = None
    messages: list[AnyMessage] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list)


class InvestigationState(TypedDict, total=False):
    """State of one investigation; one LangGraph thread per incident."""

    trigger: Trigger
    incident_id: str
    hint: str | None
    incident: Incident
    round: int
    max_rounds: int
    question: str | None
    assignments: list[Assignment]
    # Specialists run in parallel and each returns its own findings: the reducer appends.
    findings: Annotated[list[Finding], operator.add]
    # The LLM supervisor's own conversation (empty for the rules engine).
    messages: Annotated[list[AnyMessage], add_messages]
    diagnosis: Diagnosis | None
    proposals: list[Proposal]
    errors: Annotated[list[str], operator.add]


class SpecialistTask(TypedDict):
    """What `Send` hands one specialist node: only what that specialist needs."""

    incident: Incident
    assignment: Assignment
    round: int
    seen: list[str]


def finding_key(f: Finding) -> str:
    """Identity of a finding across rounds, so a second round does not repeat the first."""
    return f"{f.specialist}|{f.title}|{f.resource or ''}"
