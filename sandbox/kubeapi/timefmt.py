"""Time formatting as kube-apiserver prints it: RFC 3339 stamps and human ages."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache


def rfc3339(dt: datetime) -> str:
    """`2026-11-20T10:30:00Z`, the Kubernetes metav1.Time form."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@lru_cache(maxsize=4096)  # listings repeat the same few stamps thousands of times
def parse_time(text: str | None) -> datetime | None:
    """Parse an RFC 3339 timestamp (with or without fractions); None when absent or bad."""
    if not text:
        return None
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None


def human_duration(seconds: float) -> str:
    """apimachinery's duration.HumanDuration: `45s`, `5m3s`, `3h10m`, `4d2h`, ..."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        return f"{minutes}m" if s % 60 == 0 else f"{minutes}m{s % 60}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        return f"{hours}h" if minutes % 60 == 0 else f"{hours}h{minutes % 60}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{hours // 24}d" if hours % 24 == 0 else f"{hours // 24}d{hours % 24}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        dy = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if dy == 0 else f"{hours // 24 // 365}y{dy}d"
    return f"{hours // 24 // 365}y"


def age(stamp: str | None, now: datetime) -> str:
    """Time since a timestamp, or `<unknown>` when there is none."""
    t = parse_time(stamp)
    if t is None:
        return "<unknown>"
    return human_duration((now - t).total_seconds())
