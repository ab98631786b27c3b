"""The LLM engine's Team for the investigation graph: supervisor, specialists, diagnosis.

The diagnosis is validated into Diagnosis/Proposal models; an invalid answer gets exactly one
repair attempt, then an honest failure (a diagnosis that says the model failed, no proposals,
and an error event). Proposals can only use the closed Verb catalogue: pydantic enforces it.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage

from agents.graph import Progress, Team
from agents.llm.context import ContextMeter, LLMBudget, as_data, bounded
from agents.llm.model import chat_model, load_prompt, system_message
from agents.llm.output import (
    FinalAnswer,
    OutputError,
    message_text,
    parse_as,
    repair_request,
)
from agents.llm.specialist import LLMSpecialist, incident_brief
from agents.llm.supervisor import LLMSupervisor, concluded
from agents.models import Category, Diagnosis, Finding, Proposal
from agents.state import Assignment, InvestigationState, SpecialistReport
from agents.tools.base import Tool


def llm_team(
    toolsets: dict[str, list[Tool]],
    read_trigger: Callable,
    progress: Progress,
    *,
    model: str | BaseChatModel | None = None,
    budget: LLMBudget | None = None,
    meter: ContextMeter | None = None,
) -> Team:
    """Build the LLM team over the same tools the rules engine uses."""
    llm = chat_model(model)
    budget = budget or LLMBudget()
    meter = meter or ContextMeter()
    specialists = {
        name: _specialist_fn(LLMSpecialist(name, llm, tools, budget, meter))
        for name, tools in toolsets.items()
    }
    return Team(
        intake=read_trigger,
        supervisor=LLMSupervisor(llm, list(toolsets), budget, meter),
        specialists=specialists,
        diagnose=LLMDiagnosis(llm, budget, meter, progress),
        progress=progress,
    )


def _specialist_fn(agent: LLMSpecialist) -> Callable[..., SpecialistReport]:
    def run(incident, assignment: Assignment) -> SpecialistReport:
        return agent.run(incident, assignment.question)

    return run


class LLMDiagnosis:
    """The diagnose agent: findings + the supervisor's conclusion in, validated answer out."""

    def __init__(
        self, model: BaseChatModel, budget: LLMBudget, meter: ContextMeter, progress: Progress
    ) -> None:
        self.model = model
        self.budget = budget
        self.meter = meter
        self.progress = progress

    def __call__(self, state: InvestigationState) -> tuple[Diagnosis, list[Proposal]]:
        """Diagnose, repairing an invalid answer once, failing honestly after that."""
        closing = concluded(state.get("messages") or [])
        if closing is None:
            errors = state.get("errors") or ["the supervisor model did not conclude"]
            return self._failed(errors[-1])
        messages: list[BaseMessage] = [
            system_message(self.model, load_prompt("diagnose")),
            HumanMessage(content=self._brief(state, message_text(closing))),
        ]
        self.meter.record(messages)
        reply = self.model.invoke(messages)
        try:
            answer = parse_as(FinalAnswer, reply)
        except OutputError as first:
            messages += [reply, HumanMessage(content=repair_request(first))]
            self.meter.record(messages)
            retry = self.model.invoke(messages)
            try:
                answer = parse_as(FinalAnswer, retry)
            except OutputError as second:
                return self._failed(f"its answer was invalid twice ({second})")
        return answer.diagnosis, answer.proposals

    def _brief(self, state: InvestigationState, conclusion: str) -> str:
        findings = state.get("findings") or []
        listed = "\n".join(f"[{i}] {_finding_line(f)}" for i, f in enumerate(findings))
        room = self.budget.max_context_chars // 2
        return (
            f"{incident_brief(state['incident'])}\n\n"
            f"Findings (numbered for findings_cited):\n"
            f"{as_data('findings', bounded(listed or '(none)', room))}\n\n"
            f"The supervisor concluded:\n"
            f"{as_data('supervisor', bounded(conclusion, self.budget.max_summary_chars))}"
        )

    def _failed(self, reason: str) -> tuple[Diagnosis, list[Proposal]]:
        message = f"The model failed to produce a diagnosis: {reason}."
        self.progress.emit("error", message=message)
        # The category list has no "unknown": NoFault marked inconclusive blames nothing,
        # changes nothing, and is never read as "the system is healthy".
        return (
            Diagnosis(
                root_cause=None,
                category=Category.NO_FAULT,
                confidence=0.0,
                inconclusive=True,
                summary=message,
                explanation="No proposal is made. Read the findings, or run the rules engine.",
            ),
            [],
        )


def _finding_line(f: Finding) -> str:
    evidence = "; ".join(e.text for e in f.evidence[:3])
    data = {"specialist": f.specialist, "title": f.title, "resource": f.resource}
    return f"{json.dumps(data)} {f.summary} | evidence: {evidence}"
