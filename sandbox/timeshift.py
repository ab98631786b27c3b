"""Move a scenario's timestamps from the file's clock to the time the sandbox serves."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

_TS_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_LINE_TS_RE = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2}))")


_STAMPS: dict[int, str] = {}


def fmt_ts(ts: float) -> str:
    """Unix seconds as Kubernetes prints a time: `2026-11-20T10:30:00Z`."""
    sec = int(ts)
    text = _STAMPS.get(sec)
    if text is None:
        if len(_STAMPS) > 50_000:  # the same few seconds recur (creation and start times)
            _STAMPS.clear()
        text = _STAMPS[sec] = datetime.fromtimestamp(sec, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return text


def parse_ts(text: Any) -> float | None:
    """An RFC 3339 string as unix seconds; None when absent or not a time."""
    if not isinstance(text, str) or not text:
        return None
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).timestamp()


def shift_text(text: str, offset: timedelta) -> str:
    """One RFC 3339 string moved by `offset`, in UTC, keeping its fraction digits."""
    m = _TS_RE.match(text)
    if m is None:
        return text
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if dt.year < 1971:  # zero times such as Alertmanager's endsAt "0001-01-01T00:00:00Z"
        return text
    out = (dt + offset).astimezone(UTC)
    frac = m.group(1)
    base = out.strftime("%Y-%m-%dT%H:%M:%S")
    if frac:
        digits = len(frac) - 1
        base += "." + f"{out.microsecond:06d}"[:digits].ljust(digits, "0")
    return base + "Z"


def shift_tree(value: Any, offset: timedelta) -> Any:
    """A copy of JSON-shaped `value` with every RFC 3339 string moved by `offset`."""
    if isinstance(value, dict):
        return {k: shift_tree(v, offset) for k, v in value.items()}
    if isinstance(value, list):
        return [shift_tree(v, offset) for v in value]
    if isinstance(value, str) and len(value) >= 20 and value[4] == "-" and value[10] == "T":
        return shift_text(value, offset)
    return value


def shift_log(text: str, offset: timedelta) -> str:
    """Log text with the RFC 3339 timestamp that begins each line moved by `offset`."""
    out = []
    for line in text.splitlines(keepends=True):
        m = _LINE_TS_RE.match(line)
        out.append(shift_text(m.group(1), offset) + line[m.end() :] if m else line)
    return "".join(out)


def line_time(line: str) -> float | None:
    """The unix time a log line begins with, if it begins with one."""
    m = _LINE_TS_RE.match(line)
    return parse_ts(m.group(1)) if m else None
