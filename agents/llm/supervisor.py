"""The LLM supervisor: delegates by tool calls (`ask_<specialist>(question)`), sees summaries.

Each valid tool call becomes one Assignment, and the graph runs them in parallel with `Send`;
each specialist's summary comes back as the ToolMessage answering that call. Bad calls are
answered with an error the model can act on. Rounds and steps are bounded.
"""

from __future__ import annotations

from collections.abc import Iterable

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import StructuredTool
from pydantic import BaseModel, Field

from agents.llm.context import ContextMeter, LLMBudget
from agents.llm.model import load_prompt, system_message
from agents.llm.specialist import incident_brief
from agents.state import Assignment, InvestigationState, SupervisorDecision

_DESCRIPTIONS = {
    "kubernetes": "Ask the Kubernetes specialist (pods, rollouts, services, events, nodes).",
    "metrics": "Ask the metrics specialist (Prometheus: error rates, latency, saturation).",
    "logs": "Ask the logs specialist (container logs, including crashed containers).",
    "runbooks": "Ask the runbooks specialist (the team's runbooks for this symptom).",
}


class Question(BaseModel):
    """The one argument of every delegation tool."""

    question: str = Field(description="a concrete question naming namespaces and workloads")


def delegation_tools(specialists: Iterable[str]) -> list[StructuredTool]:
    """One `ask_<name>(question)` tool per specialist (schemas only; the graph runs them)."""

    def _unused(question: str) -> str:  # never called: tool calls become graph Sends
        raise NotImplementedError

    return [
        StructuredTool.from_function(
            func=_unused,
            name=f"ask_{name}",
            description=_DESCRIPTIONS.get(name, f"Ask the {name} specialist."),
            args_schema=Question,
        )
        for name in specialists
    ]


def concluded(messages: list[BaseMessage]) -> AIMessage | None:
    """The supervisor's closing message, if its last word was one without tool calls."""
    last = messages[-1] if messages else None
    if isinstance(last, AIMessage) and not last.tool_calls:
        return last
    return None


class LLMSupervisor:
    """Decides each round by asking the model; callable as the graph's SupervisorFn."""

    def __init__(
        self,
        model: BaseChatModel,
        specialists: list[str],
        budget: LLMBudget,
        meter: ContextMeter,
    ) -> None:
        self.model = model
        self.specialists = specialists
        self.budget = budget
        self.meter = meter
        self.bound = model.bind_tools(delegation_tools(specialists))

    def __call__(self, state: InvestigationState) -> SupervisorDecision:
        """Call the model until it delegates validly, concludes, or runs out of steps."""
        history = list(state.get("messages") or [])
        new: list[BaseMessage] = []
        if not history:
            hint = state.get("hint")
            opening = incident_brief(state["incident"])
            if hint:
                opening += f"\n\nThe person asking adds: {hint}"
            new = [system_message(self.model, load_prompt("supervisor")), HumanMessage(opening)]
        rounds_left = state.get("round", 0) < state.get("max_rounds", 2)
        steps = sum(isinstance(m, AIMessage) for m in history)
        while steps < self.budget.supervisor_steps:
            conversation = history + new
            self.meter.record(conversation)
            reply = self.bound.invoke(conversation)
            steps += 1
            new.append(reply)
            if not reply.tool_calls:
                return SupervisorDecision(messages=new)
            assignments, answers = self._read_calls(reply, rounds_left)
            new.extend(answers)
            if assignments:
                question = "; ".join(f"{a.specialist}: {a.question}" for a in assignments)
                return SupervisorDecision(assignments=assignments, question=question, messages=new)
        return SupervisorDecision(
            messages=new,
            errors=[
                f"the supervisor model did not conclude within {self.budget.supervisor_steps} steps"
            ],
        )

    def _read_calls(
        self, reply: AIMessage, rounds_left: bool
    ) -> tuple[list[Assignment], list[ToolMessage]]:
        """Valid calls become assignments; every other call gets an answer it can act on."""
        assignments: list[Assignment] = []
        answers: list[ToolMessage] = []
        tools = ", ".join(f"ask_{n}" for n in self.specialists)
        for call in reply.tool_calls:
            name = call["name"]
            specialist = name.removeprefix("ask_")
            question = (call.get("args") or {}).get("question")
            if not name.startswith("ask_") or specialist not in self.specialists:
                error = f"error: there is no tool {name!r}; use one of {tools}"
            elif not isinstance(question, str) or not question.strip():
                error = f'error: {name} needs {{"question": "<text>"}}, got {call.get("args")!r}'
            elif len(assignments) >= self.budget.max_delegations:
                error = (
                    f"error: at most {self.budget.max_delegations} questions per round; "
                    "ask this one in the next round if it is still needed"
                )
            elif not rounds_left:
                error = (
                    "error: the round budget is used up; no more delegation. "
                    "Reply now, without tool calls, with your conclusion."
                )
            else:
                assignments.append(
                    Assignment(specialist=specialist, question=question, call_id=call["id"])
                )
                continue
            answers.append(ToolMessage(content=error, tool_call_id=call["id"], name=name))
        return assignments, answers
