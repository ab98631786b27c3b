"""What reaches a model, bounded and counted: data blocks, per-message caps, a context meter.

Logs, alert text and tool output are wrapped as untrusted data so a log line that says
"ignore previous instructions" stays a log line.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from langchain_core.messages import BaseMessage
from pydantic import BaseModel, Field

_OPEN = "<untrusted-data"
_CLOSE = "</untrusted-data>"
# A prompt file plus the incident brief, at most (prompts are ~2-3 KB, the brief <= ~2.5 KB).
_OVERHEAD = 8000


class LLMBudget(BaseModel):
    """The bounds of one LLM investigation: steps and characters."""

    supervisor_steps: int = Field(6, ge=1, description="supervisor model calls, at most")
    specialist_steps: int = Field(6, ge=1, description="model calls per specialist, at most")
    max_tool_chars: int = Field(4000, ge=200, description="one tool output, at most")
    max_context_chars: int = Field(40_000, ge=2000, description="one agent's conversation")
    max_summary_chars: int = Field(1500, ge=200, description="one summary to the supervisor")
    max_delegations: int = Field(6, ge=1, description="specialist questions per round")

    def max_chars_per_incident(self, max_rounds: int) -> int:
        """An upper bound on the characters one investigation can send to models.

        Every conversation is capped at `max_context_chars` of data plus its prompt and the
        incident brief (`_OVERHEAD` covers both); the call counts are capped by the budgets.
        """
        specialist_calls = max_rounds * self.max_delegations * (self.specialist_steps + 1)
        calls = self.supervisor_steps + specialist_calls + 2
        return calls * (self.max_context_chars + _OVERHEAD)


def as_data(source: str, text: str) -> str:
    """Wrap outside text (logs, alerts, tool output) as a delimited block of data."""
    # A text cannot close the block early: its own delimiters are defused.
    safe = text.replace(_CLOSE, "</untrusted_data>").replace(_OPEN, "<untrusted_data")
    src = source.replace('"', "'")
    return f'{_OPEN} source="{src}">\n{safe}\n{_CLOSE}'


def bounded(text: str, limit: int, hint: str = "ask a narrower question") -> str:
    """Cut `text` to `limit` characters, saying so (and what to do) at the end."""
    if len(text) <= limit:
        return text
    note = f"\n[truncated: {len(text)} chars, showing {limit}; {hint}]"
    return text[: max(0, limit - len(note))] + note


def message_chars(messages: Sequence[BaseMessage]) -> int:
    """Characters of content (and tool-call arguments) in a conversation."""
    total = 0
    for m in messages:
        total += len(m.content) if isinstance(m.content, str) else len(str(m.content))
        for tc in getattr(m, "tool_calls", None) or []:
            total += len(str(tc.get("args", "")))
    return total


class ContextMeter:
    """Counts what was sent to models in one investigation; safe across threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls = 0
        self.chars_sent = 0
        self.largest_call = 0

    def record(self, messages: Sequence[BaseMessage]) -> None:
        """Note one model call with these messages."""
        n = message_chars(messages)
        with self._lock:
            self.calls += 1
            self.chars_sent += n
            self.largest_call = max(self.largest_call, n)
