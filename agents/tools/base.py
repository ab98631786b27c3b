"""The tool shape every specialist uses: MCP-like (name, description, JSON input schema), bounded
and redacted output, clear error text instead of exceptions.

The rules engine calls `Tool.run` directly; the LLM engine binds the very same tools through
`as_langchain_tool`, so both engines see identical, bounded, redacted output.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, ValidationError

from agents.redact import redact

if TYPE_CHECKING:
    from langchain_core.tools import BaseTool

    from agents.tools.cluster import Cluster

DEFAULT_MAX_CHARS = 6000


class ToolError(Exception):
    """A tool could not answer; the message says what to change (it is shown to the caller)."""


class ToolResult(BaseModel):
    """What a tool returns: bounded, redacted text for people and models, plus structured data."""

    text: str
    data: Any = None
    truncated: bool = False
    error: bool = False


class ToolArgs(BaseModel):
    """Base for tool argument models: unknown arguments are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class Tool:
    """One read-only investigation tool.

    `handler` receives the validated argument model and returns a ToolResult (or raises ToolError).
    """

    def __init__(
        self,
        name: str,
        description: str,
        args_model: type[ToolArgs],
        handler: Callable[[Any], ToolResult],
        *,
        narrow_hint: str = "narrow the query",
        max_chars: int = DEFAULT_MAX_CHARS,
    ) -> None:
        self.name = name
        self.description = description
        self.args_model = args_model
        self.handler = handler
        self.narrow_hint = narrow_hint
        self.max_chars = max_chars

    @property
    def input_schema(self) -> dict[str, Any]:
        """The JSON schema of the arguments (MCP's `inputSchema`)."""
        return self.args_model.model_json_schema()

    def run(self, args: dict[str, Any] | None = None) -> ToolResult:
        """Validate `args`, run the tool, and return bounded, redacted output. Never raises."""
        try:
            params = self.args_model.model_validate(args or {})
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'args'}: {e['msg']}" for e in exc.errors()
            )
            return ToolResult(
                text=f"{self.name}: invalid arguments ({problems}). Expected schema: "
                f"{json.dumps(self.input_schema.get('properties', {}))}",
                error=True,
            )
        try:
            result = self.handler(params)
        except ToolError as exc:
            return ToolResult(text=f"{self.name}: {redact(str(exc))}", error=True)
        return self._bounded(result)

    def _bounded(self, result: ToolResult) -> ToolResult:
        text = redact(result.text)
        data = _redact_data(result.data)
        truncated = result.truncated
        if len(text) > self.max_chars:
            note = f"\n[output truncated at {self.max_chars} chars; {self.narrow_hint}]"
            text = text[: self.max_chars - len(note)] + note
            truncated = True
        return ToolResult(text=text, data=data, truncated=truncated, error=result.error)

    def __repr__(self) -> str:
        return f"Tool({self.name!r})"


def _redact_data(value: Any) -> Any:
    """Redact every string inside structured data (log lines, env values, annotations)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _redact_data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_data(v) for v in value]
    return value


def as_langchain_tool(tool: Tool) -> BaseTool:
    """The same tool as a LangChain StructuredTool; the model sees exactly `Tool.run`'s text.

    The schema is passed as a JSON-schema dict so that LangChain does not validate first:
    bad arguments reach `Tool.run`, which answers with a readable error the model can correct.
    """
    from langchain_core.tools import StructuredTool

    def _call(**kwargs: Any) -> str:
        return tool.run(kwargs).text

    schema = dict(tool.input_schema)
    schema.setdefault("title", tool.name)
    schema.setdefault("description", tool.description)
    return StructuredTool.from_function(
        func=_call, name=tool.name, description=tool.description, args_schema=schema
    )


def tools_for(specialist: str, cluster: Cluster, runbooks_dir: Path | None) -> list[Tool]:
    """The tools one specialist may call (kubernetes, metrics, logs, runbooks)."""
    from agents.tools.registry import tools_for as _tools_for

    return _tools_for(specialist, cluster, runbooks_dir)
