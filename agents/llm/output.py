"""Validating what a model answers: JSON in, pydantic models out, or a clear error."""

from __future__ import annotations

import json
import re
from typing import Any, TypeVar

from langchain_core.messages import AIMessage
from pydantic import BaseModel, Field, ValidationError, field_validator

from agents.models import RESOURCE_RE, Diagnosis, Evidence, Proposal, Severity

M = TypeVar("M", bound=BaseModel)
_FENCE = re.compile(r"```(?:json)?\s*(\{.*?\})\s*```", re.DOTALL)


class OutputError(ValueError):
    """The model's answer is not the JSON we asked for; the message is fed back for a repair."""


class FinalAnswer(BaseModel):
    """The diagnose agent's answer: a diagnosis and at most three proposals from the catalogue."""

    diagnosis: Diagnosis
    proposals: list[Proposal] = Field(default_factory=list, max_length=3)

    @field_validator("diagnosis")
    @classmethod
    def _root_cause_shape(cls, d: Diagnosis) -> Diagnosis:
        if d.root_cause is not None and not RESOURCE_RE.match(d.root_cause):
            raise ValueError(
                f"root_cause must be Kind/namespace/name or Kind/name, got {d.root_cause!r}"
            )
        return d


class FindingDraft(BaseModel):
    """A finding as a specialist model writes it (the specialist's name is ours to set)."""

    title: str
    severity: Severity = Severity.WARNING
    resource: str | None = None
    summary: str = ""
    evidence: list[Evidence] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)


class SpecialistAnswer(BaseModel):
    """A specialist model's final answer."""

    summary: str
    findings: list[FindingDraft] = Field(default_factory=list, max_length=10)


def message_text(message: AIMessage) -> str:
    """The text of a model message, whether content is a string or a list of blocks."""
    if isinstance(message.content, str):
        return message.content
    parts = []
    for block in message.content:
        if isinstance(block, str):
            parts.append(block)
        elif isinstance(block, dict) and block.get("type") == "text":
            parts.append(str(block.get("text", "")))
    return "".join(parts)


def extract_json(text: str) -> Any:
    """The JSON object in a reply: a fenced block, else the outermost braces."""
    m = _FENCE.search(text)
    candidate = m.group(1) if m else None
    if candidate is None:
        start, end = text.find("{"), text.rfind("}")
        if start < 0 or end <= start:
            raise OutputError("no JSON object found in the reply")
        candidate = text[start : end + 1]
    try:
        return json.loads(candidate)
    except json.JSONDecodeError as exc:
        raise OutputError(f"the JSON does not parse: {exc}") from exc


def parse_as(model: type[M], message: AIMessage) -> M:
    """Validate a reply into `model`, raising OutputError with what was wrong."""
    data = extract_json(message_text(message))
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'answer'}: {e['msg']}" for e in exc.errors()
        )
        raise OutputError(f"the JSON does not match the schema: {problems}") from exc


def repair_request(error: OutputError) -> str:
    """The one message that asks a model to fix its answer."""
    return (
        f"Your answer could not be used: {error}. Reply again with only the JSON object in the "
        "format the instructions give, with no other text and no tool calls."
    )
