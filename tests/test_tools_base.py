"""The tool shape: validated arguments, bounded and redacted output, the same tool for LangChain."""

from __future__ import annotations

from pydantic import Field

from agents.tools.base import Tool, ToolArgs, ToolError, ToolResult, as_langchain_tool


class EchoArgs(ToolArgs):
    text: str
    repeat: int = Field(1, ge=1, le=10000)


def _echo(a: EchoArgs) -> ToolResult:
    if a.text == "boom":
        raise ToolError("cannot echo boom; pass other text")
    return ToolResult(text=a.text * a.repeat, data={"text": a.text})


def _tool(max_chars: int = 100) -> Tool:
    return Tool(
        "echo",
        "Echo text.",
        EchoArgs,
        _echo,
        narrow_hint="pass a smaller repeat=",
        max_chars=max_chars,
    )


def test_bad_arguments_give_a_readable_error_instead_of_raising() -> None:
    result = _tool().run({"repeat": "many"})
    assert result.error
    assert "text" in result.text and "repeat" in result.text


def test_unknown_arguments_are_refused() -> None:
    assert _tool().run({"text": "a", "colour": "red"}).error


def test_long_output_is_truncated_with_a_hint_to_narrow() -> None:
    result = _tool(max_chars=100).run({"text": "x", "repeat": 5000})
    assert result.truncated and len(result.text) <= 100
    assert "truncated at 100 chars; pass a smaller repeat=" in result.text


def test_output_and_data_are_redacted() -> None:
    result = _tool().run({"text": "password=hunter2 "})
    assert "hunter2" not in result.text and "hunter2" not in result.data["text"]


def test_tool_errors_become_error_results() -> None:
    result = _tool().run({"text": "boom"})
    assert result.error and "pass other text" in result.text


def test_input_schema_is_json_schema() -> None:
    schema = _tool().input_schema
    assert schema["type"] == "object" and "text" in schema["required"]


def test_langchain_tool_returns_the_same_bounded_text() -> None:
    lc = as_langchain_tool(_tool())
    assert lc.name == "echo"
    assert lc.invoke({"text": "ab", "repeat": 2}) == "abab"
    assert "invalid arguments" in lc.invoke({"repeat": 2})
