"""Investigation tools: MCP-shaped, bounded, redacted; shared by the rules and LLM engines."""

from agents.tools.base import Tool, ToolError, ToolResult, as_langchain_tool, tools_for
from agents.tools.cluster import Cluster, ClusterConfigError, ClusterUnreachable

__all__ = [
    "Cluster",
    "ClusterConfigError",
    "ClusterUnreachable",
    "Tool",
    "ToolError",
    "ToolResult",
    "as_langchain_tool",
    "tools_for",
]
