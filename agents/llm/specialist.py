"""One LLM specialist: a tool-calling loop over E's read-only tools, in its own context.

It starts from its prompt file and the supervisor's question, calls tools (several calls in
one reply run in parallel), and ends with a JSON summary + findings. Every tool output is
bounded and wrapped as data; the loop stops at its step budget and says so honestly.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import BaseTool

from agents.llm.context import ContextMeter, LLMBudget, as_data, bounded, message_chars
from agents.llm.model import load_prompt, system_message
from agents.llm.output import (
    OutputError,
    SpecialistAnswer,
    message_text,
    parse_as,
    repair_request,
)
from agents.models import Finding, Incident
from agents.state import SpecialistReport
from agents.tools.base import Tool, as_langchain_tool


def incident_brief(incident: Incident) -> str:
    """The incident as the models see it: our fields as facts, the reporter's words as data."""
    facts = {
        "id": incident.id,
        "title": incident.title,
        "source": incident.source.value,
        "severity": incident.severity.value,
        "namespace": incident.namespace,
        "workload": incident.workload,
        "service": incident.service,
        "alert_name": incident.alert_name,
        "window_start": incident.window_start.isoformat() if incident.window_start else None,
        "window_end": incident.window_end.isoformat() if incident.window_end else None,
    }
    lines = [f"{k}: {v}" for k, v in facts.items() if v]
    return (
        "Incident:\n"
        + "\n".join(lines)
        + "\n\nWhat was reported:\n"
        + as_data("reporter", bounded(incident.text or incident.title, 2000))
    )


class LLMSpecialist:
    """A specialist agent: `run(incident, question)` returns its report."""

    def __init__(
        self,
        name: str,
        model: BaseChatModel,
        tools: list[Tool],
        budget: LLMBudget,
        meter: ContextMeter,
    ) -> None:
        self.name = name
        self.model = model
        self.tools: dict[str, BaseTool] = {t.name: as_langchain_tool(t) for t in tools}
        self.budget = budget
        self.meter = meter

    def run(self, incident: Incident, question: str | None) -> SpecialistReport:
        """Investigate `question` about `incident` with the tools, within the budget."""
        bound = self.model.bind_tools(list(self.tools.values())) if self.tools else self.model
        ask = question or "Look for anything wrong that explains this incident."
        messages: list[BaseMessage] = [
            system_message(self.model, load_prompt(self.name)),
            HumanMessage(content=f"{incident_brief(incident)}\n\nThe supervisor asks: {ask}"),
        ]
        for _ in range(self.budget.specialist_steps):
            self.meter.record(messages)
            reply = bound.invoke(messages)
            messages.append(reply)
            if not reply.tool_calls:
                return self._conclude(messages, reply)
            messages.extend(self._run_tools(reply, message_chars(messages)))
        return SpecialistReport(
            summary=f"The {self.name} specialist stopped after "
            f"{self.budget.specialist_steps} steps without concluding.",
            error=f"{self.name}: step budget of {self.budget.specialist_steps} model calls exhausted",
        )

    def _run_tools(self, reply: AIMessage, used: int) -> list[ToolMessage]:
        calls = reply.tool_calls
        with ThreadPoolExecutor(max_workers=min(4, len(calls))) as pool:
            outputs = list(pool.map(self._call_tool, calls))
        room = self.budget.max_context_chars - used
        out: list[ToolMessage] = []
        for call, text in zip(calls, outputs, strict=True):
            text = bounded(text, self.budget.max_tool_chars)
            if len(text) > room:
                # The conversation is full: no more data, only the instruction to finish.
                text = "[omitted: this conversation reached its context budget; conclude now]"
            room -= len(text)
            out.append(
                ToolMessage(
                    content=as_data(call["name"], text), tool_call_id=call["id"], name=call["name"]
                )
            )
        return out

    def _call_tool(self, call: dict[str, Any]) -> str:
        tool = self.tools.get(call["name"])
        if tool is None:
            return f"error: there is no tool {call['name']!r}; available: {', '.join(self.tools)}"
        try:
            return str(tool.invoke(call.get("args") or {}))
        except Exception as exc:  # a bad call is fed back so the model can correct itself
            return f"error: {call['name']} failed: {exc}"

    def _conclude(self, messages: list[BaseMessage], reply: AIMessage) -> SpecialistReport:
        try:
            answer = parse_as(SpecialistAnswer, reply)
        except OutputError as first:
            messages.append(HumanMessage(content=repair_request(first)))
            self.meter.record(messages)
            retry = self.model.invoke(messages)
            try:
                answer = parse_as(SpecialistAnswer, retry)
            except OutputError as second:
                return SpecialistReport(
                    summary=bounded(message_text(reply), self.budget.max_summary_chars),
                    error=f"{self.name}: answer was not valid JSON after one repair ({second})",
                )
        findings = []
        for draft in answer.findings:
            try:
                findings.append(Finding(specialist=self.name, **draft.model_dump()))
            except ValueError:  # a malformed resource name: keep the fact, drop the name
                findings.append(
                    Finding(specialist=self.name, **draft.model_dump(exclude={"resource"}))
                )
        return SpecialistReport(
            findings=findings, summary=bounded(answer.summary, self.budget.max_summary_chars)
        )
