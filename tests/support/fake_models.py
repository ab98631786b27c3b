"""Scripted fake chat models: real `AIMessage`s with real `tool_calls`, and a record of what
each agent was sent. The only thing faked in the LLM tests is the model itself.

Each agent is recognised by the first heading of its system prompt (`# Kubernetes specialist`
-> "kubernetes", `# Supervisor` -> "supervisor", `# Diagnose` -> "diagnose"), so one model
serves the supervisor and the parallel specialists deterministically.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, SystemMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import PrivateAttr

Step = AIMessage | Callable[[list[BaseMessage]], AIMessage]
_ids = itertools.count(1)


def call(tool: str, /, **args: Any) -> dict[str, Any]:
    """One tool call, as a model emits it (positional-only, so a tool may take `name=`)."""
    return {"name": tool, "args": args, "id": f"call_{next(_ids)}", "type": "tool_call"}


def ai(content: str = "", *calls: dict[str, Any]) -> AIMessage:
    """An assistant message with optional tool calls."""
    return AIMessage(content=content, tool_calls=list(calls))


class ScriptExhausted(AssertionError):
    """The code under test called a model more often than the test scripted."""


@dataclass
class Sent:
    """One model call: which agent, the messages it was sent, the tools bound."""

    agent: str
    messages: list[BaseMessage]
    tools: list[str]

    @property
    def chars(self) -> int:
        """Characters of content sent in this call."""
        return sum(len(str(m.content)) for m in self.messages)


def agent_of(messages: Sequence[BaseMessage]) -> str:
    """The agent a conversation belongs to, from its system prompt's first heading."""
    for m in messages:
        if isinstance(m, SystemMessage):
            content = m.content
            text = content if isinstance(content, str) else str(content[0].get("text", ""))
            first = text.strip().splitlines()[0] if text.strip() else ""
            return first.lstrip("# ").split(" ")[0].lower()
    return "unknown"


class ScriptedChatModel(BaseChatModel):
    """Replies from per-agent scripts; a step may be a function of the messages it was sent."""

    scripts: dict[str, list[Any]]
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _positions: dict[str, int] = PrivateAttr(default_factory=dict)
    _sent: list[Sent] = PrivateAttr(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "scripted-fake"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any):  # type: ignore[override]
        """Bind tools as a real provider would (OpenAI-style schemas in the call kwargs)."""
        return self.bind(tools=[convert_to_openai_tool(t) for t in tools], **kwargs)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        agent = agent_of(messages)
        tools = [t["function"]["name"] for t in kwargs.get("tools") or []]
        with self._lock:
            self._sent.append(Sent(agent, list(messages), tools))
            script = self.scripts.get(agent, [])
            pos = self._positions.get(agent, 0)
            if pos >= len(script):
                raise ScriptExhausted(
                    f"{agent} called the model {pos + 1} times; scripted {len(script)}"
                )
            self._positions[agent] = pos + 1
            step = script[pos]
        reply = step(list(messages)) if callable(step) else step.model_copy(deep=True)
        return ChatResult(generations=[ChatGeneration(message=reply)])

    @property
    def sent(self) -> list[Sent]:
        """Every call so far, in order."""
        with self._lock:
            return list(self._sent)

    def sent_to(self, agent: str) -> list[Sent]:
        """The calls one agent made."""
        return [s for s in self.sent if s.agent == agent]


def forever(step: Callable[[list[BaseMessage]], AIMessage], n: int = 1000) -> list[Any]:
    """A script that never ends (for step-budget tests)."""
    return [step] * n
