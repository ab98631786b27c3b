"""Metric series and promtool's expanding notation, as scenario files write them.

`expand("0+600x3")` gives `[0, 600, 1200, 1800]`, exactly as the series
descriptions of Prometheus's PromQL test language (`promql/parser`, the
`series_item` rule) define it. `parse_series_selector` reads the `series:`
field (`metric{label="value"}`) into a label set.
"""

from __future__ import annotations

import math
import re
import struct
from dataclasses import dataclass

# Prometheus marks a series as ended with this exact NaN bit pattern (value.StaleNaN).
_STALE_BITS = 0x7FF0000000000002
STALE: float = struct.unpack("<d", struct.pack("<Q", _STALE_BITS))[0]


def is_stale(value: float | None) -> bool:
    """True when `value` is the staleness marker (a NaN with Prometheus's StaleNaN bits)."""
    if value is None or not math.isnan(value):
        return False
    return struct.unpack("<Q", struct.pack("<d", value))[0] == _STALE_BITS


class SeriesError(ValueError):
    """A series description or selector that does not parse; the message says where."""


@dataclass(frozen=True)
class Series:
    """One time series: its label set (with `__name__`) and (unix seconds, value) samples, ascending."""

    labels: dict[str, str]
    samples: list[tuple[float, float]]

    @property
    def name(self) -> str:
        """The metric name, or "" when the series has none."""
        return self.labels.get("__name__", "")


# A number as the PromQL lexer reads it: decimal or scientific, or Inf / NaN.
_NUM = r"(?:[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?|[0-9]+\.(?:[eE][+-]?[0-9]+)?|[iI][nN][fF]|[nN][aA][nN])"
_ITEM_RE = re.compile(
    rf"""^(?:
        (?P<blank>_)(?:x(?P<blank_times>[0-9]+))?
      | (?P<stale>stale)(?:x(?P<stale_times>[0-9]+))?
      | (?P<start>[+-]?{_NUM})
        (?:(?P<step>[+-]{_NUM})?x(?P<times>[0-9]+))?
    )$""",
    re.VERBOSE,
)


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError as exc:  # pragma: no cover - the regex admits only numbers
        raise SeriesError(f"{text!r} is not a number") from exc


def expand(values: str) -> list[float | None]:
    """Expand promtool's notation into one value per step: None for `_`, STALE for `stale`.

    `a+bxn` and `axn` give n+1 values; `_xn` gives n missing values, as in Prometheus.
    """
    out: list[float | None] = []
    for item in values.split():
        m = _ITEM_RE.match(item)
        if m is None:
            raise SeriesError(
                f"cannot read series value {item!r} in {values!r}: expected a number, "
                "'_', 'stale', 'AxN' or 'A+BxN' / 'A-BxN' (for example 0+60x10)"
            )
        if m["blank"]:
            out.extend([None] * (int(m["blank_times"]) if m["blank_times"] else 1))
        elif m["stale"]:
            out.extend([STALE] * (int(m["stale_times"]) + 1 if m["stale_times"] else 1))
        else:
            value = _number(m["start"])
            if m["times"] is None:
                out.append(value)
                continue
            step = _number(m["step"]) if m["step"] else 0.0
            # Prometheus adds the step repeatedly (not start + i*step); keep the same rounding.
            for _ in range(int(m["times"]) + 1):
                out.append(value)
                value += step
    return out


_NAME_RE = re.compile(r"\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*")
_LABEL_RE = re.compile(
    r"\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*(\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*')\s*"
)
_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", '"': '"', "'": "'"}


def _unquote(quoted: str) -> str:
    body = quoted[1:-1]
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m[1], "\\" + m[1]), body)


def parse_series_selector(text: str) -> dict[str, str]:
    """Read `metric{label="value",...}` into labels, the metric name under `__name__`.

    Only equality matchers are allowed: a series description names one series.
    """
    labels: dict[str, str] = {}
    rest = text.strip()
    m = _NAME_RE.match(rest)
    if m and m.end() > 0 and not rest.startswith("{"):
        labels["__name__"] = m[1]
        rest = rest[m.end() :]
    if not rest:
        if not labels:
            raise SeriesError(f'series {text!r} is empty: write metric_name{{label="value"}}')
        return labels
    if not rest.startswith("{") or not rest.rstrip().endswith("}"):
        raise SeriesError(
            f'cannot read series {text!r}: expected metric_name{{label="value", ...}}'
        )
    body = rest.rstrip()[1:-1]
    pos = 0
    while body[pos:].strip():
        lm = _LABEL_RE.match(body, pos)
        if lm is None:
            raise SeriesError(
                f"cannot read the labels of series {text!r} near {body[pos:]!r}: "
                'expected label="value" pairs separated by commas'
            )
        name, value = lm[1], _unquote(lm[2])
        if name in labels:
            raise SeriesError(f"series {text!r} names label {name!r} twice")
        labels[name] = value
        pos = lm.end()
        if pos < len(body):
            if body[pos] != ",":
                raise SeriesError(
                    f"cannot read the labels of series {text!r} near {body[pos:]!r}: "
                    "separate label pairs with commas"
                )
            pos += 1
    if not labels:
        raise SeriesError(f"series {text!r} has neither a name nor labels")
    return labels
