"""Metric change points: a step change in an error ratio or a latency series, with the time of
the change, so correlation can place it against rollout and edit times."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from agents.models import Evidence, Finding, Severity

SPECIALIST = "metrics"
RECENT = 3  # samples at the end of a series that must still show the step


def change_point(samples: list[tuple[float, float]], min_side: int = 3) -> dict[str, Any] | None:
    """The split of a series that best separates a 'before' level from an 'after' level.

    `samples` are (unix seconds, value). Returns {at, before, after} (means) or None when the
    series is too short. Least squares over every split: exact for a step, robust enough for noise.
    """
    values = [v for _, v in samples]
    n = len(values)
    if n < 2 * min_side:
        return None
    best: tuple[float, int] | None = None
    total = sum(values)
    left = 0.0
    for i in range(1, n):
        left += values[i - 1]
        if i < min_side or n - i < min_side:
            continue
        ml, mr = left / i, (total - left) / (n - i)
        cost = sum((v - ml) ** 2 for v in values[:i]) + sum((v - mr) ** 2 for v in values[i:])
        if best is None or cost < best[0]:
            best = (cost, i)
    if best is None:
        return None
    i = best[1]
    return {
        "at": samples[i][0],
        "before": sum(values[:i]) / i,
        "after": sum(values[i:]) / (n - i),
    }


def analyze_series(
    resource: str | None,
    name: str,
    query: str,
    samples: list[tuple[float, float]],
    *,
    kind: str,
    threshold: float,
) -> list[Finding]:
    """A finding when the series steps up past `threshold` (absolute, for the 'after' level) and
    at least doubles. `kind` is "error_ratio" or "latency" (the tag becomes `<kind>_step`)."""
    cp = change_point(samples)
    if not cp:
        return []
    before, after = cp["before"], cp["after"]
    if after < threshold or after < 2 * before + 1e-9:
        return []
    # A step that has already recovered (a blip) is history, not an incident in progress.
    tail = [v for _, v in samples[-RECENT:]]
    now_level = sum(tail) / len(tail)
    if now_level < threshold or now_level < 2 * before + 1e-9:
        return []
    at = datetime.fromtimestamp(cp["at"], tz=UTC).isoformat().replace("+00:00", "Z")
    unit = "%" if kind == "error_ratio" else "s"
    scale = 100 if kind == "error_ratio" else 1
    text = f"{name} stepped from {before * scale:.3g}{unit} to {after * scale:.3g}{unit} at {at}"
    return [
        Finding(
            specialist=SPECIALIST,
            title=f"{'Error ratio' if kind == 'error_ratio' else 'Latency'} step change: {name}",
            severity=Severity.CRITICAL if kind == "error_ratio" else Severity.WARNING,
            resource=resource,
            evidence=[Evidence(kind="metric", source=query, text=text, value=after)],
            summary=text,
            tags=[f"{kind}_step"],
            data={"at": at, "at_ts": cp["at"], "before": before, "after": after, "query": query},
        )
    ]
