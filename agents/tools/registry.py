"""Which tools each specialist may call."""

from __future__ import annotations

from pathlib import Path

from agents.tools import kubernetes, logs, metrics, runbooks
from agents.tools.base import Tool
from agents.tools.cluster import Cluster

SPECIALISTS = ("kubernetes", "metrics", "logs", "runbooks")


def tools_for(specialist: str, cluster: Cluster, runbooks_dir: Path | None) -> list[Tool]:
    """The tools of one specialist; unknown names are an error listing the known ones."""
    if specialist == "kubernetes":
        return kubernetes.build(cluster)
    if specialist == "metrics":
        return metrics.build(cluster.prometheus_url)
    if specialist == "logs":
        return logs.build(cluster)
    if specialist == "runbooks":
        return runbooks.build(runbooks_dir)
    raise ValueError(f"unknown specialist {specialist!r}; known: {', '.join(SPECIALISTS)}")
