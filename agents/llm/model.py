"""Chat model construction (`init_chat_model` strings) and Bedrock prompt caching."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

from langchain.chat_models import init_chat_model
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import SystemMessage

DEFAULT_MODEL = "bedrock_converse:anthropic.claude-sonnet-4-5-20250929-v1:0"
AGENTS = ("supervisor", "kubernetes", "metrics", "logs", "runbooks", "diagnose")


class LLMConfigError(Exception):
    """The model string cannot be turned into a chat model; the message says what to set."""


def chat_model(spec: str | BaseChatModel | None = None, **kwargs: Any) -> BaseChatModel:
    """A chat model from an `init_chat_model` string like `bedrock_converse:<model id>`.

    A ready BaseChatModel is returned as is (tests pass scripted fakes this way).
    """
    if isinstance(spec, BaseChatModel):
        return spec
    name = spec or DEFAULT_MODEL
    try:
        return init_chat_model(name, **kwargs)
    except (ImportError, ValueError) as exc:
        raise LLMConfigError(
            f"cannot build chat model {name!r}: {exc}. Set SRE_BOT_MODEL to an init_chat_model "
            "string such as 'bedrock_converse:<model id>' and install that provider's package."
        ) from exc


@cache
def load_prompt(agent: str) -> str:
    """The Markdown prompt of one agent, from the `prompts` package."""
    if agent not in AGENTS:
        raise ValueError(f"no prompt for agent {agent!r}; known: {', '.join(AGENTS)}")
    return (resources.files("prompts") / f"{agent}.md").read_text(encoding="utf-8")


def system_message(model: BaseChatModel, text: str) -> SystemMessage:
    """The system prompt; on Bedrock Converse followed by a cache point.

    The prompts are long and identical across calls, so Bedrock caches them: langchain-aws
    passes a `{"cachePoint": {"type": "default"}}` block in a SystemMessage straight through
    to the Converse API's `system` list.
    """
    if _is_bedrock_converse(model):
        return SystemMessage(
            content=[{"type": "text", "text": text}, {"cachePoint": {"type": "default"}}]
        )
    return SystemMessage(content=text)


def _is_bedrock_converse(model: BaseChatModel) -> bool:
    try:
        from langchain_aws import ChatBedrockConverse
    except ImportError:  # langchain-aws is optional for other providers
        return False
    return isinstance(model, ChatBedrockConverse)
