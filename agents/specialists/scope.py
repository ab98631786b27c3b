"""What a rules-mode specialist looks at: namespaces and names from the incident and from the
supervisor's follow-up question (which names resources as Kind/namespace/name)."""

from __future__ import annotations

import re
from typing import Any

from agents.models import Incident
from agents.tools.base import Tool, ToolResult

_REF = re.compile(r"\b([A-Z][A-Za-z]+)/([a-z0-9][a-z0-9.-]*)/([a-z0-9][a-z0-9.-]*)")


def namespaces(incident: Incident, question: str | None) -> list[str | None]:
    """Namespaces to look at; [None] (cluster-wide, bounded by the tools) when none is known."""
    out: list[str | None] = []
    if incident.namespace:
        out.append(incident.namespace)
    for _, ns, _ in _REF.findall(question or ""):
        if ns not in out:
            out.append(ns)
    return out or [None]


def call(tools: list[Tool], tool_name: str, /, **args: Any) -> ToolResult | None:
    """Run a tool by name; None when the tool is absent or answered with an error."""
    tool = next((t for t in tools if t.name == tool_name), None)
    if tool is None:
        return None
    result = tool.run({k: v for k, v in args.items() if v is not None})
    return None if result.error else result
