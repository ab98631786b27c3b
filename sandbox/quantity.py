"""Kubernetes resource quantities (`200m`, `512Mi`, `1.5Gi`, `2`) as numbers, and back.

CPU is counted in cores and memory in bytes, the units kube-controller-manager
compares in; `format_quantity` prints them the way its messages do.
"""

from __future__ import annotations

import re

_SUFFIX = {
    "n": 1e-9,
    "u": 1e-6,
    "m": 1e-3,
    "": 1.0,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "P": 1e15,
    "E": 1e18,
    "Ki": 2.0**10,
    "Mi": 2.0**20,
    "Gi": 2.0**30,
    "Ti": 2.0**40,
    "Pi": 2.0**50,
    "Ei": 2.0**60,
}
_RE = re.compile(r"^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)([a-zA-Z]*)$")


class QuantityError(ValueError):
    """A resource quantity that Kubernetes would not accept."""


def parse_quantity(value: str | int | float) -> float:
    """`"200m"` -> 0.2, `"512Mi"` -> 536870912.0, `2` -> 2.0. Raises QuantityError."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    m = _RE.match(str(value).strip())
    if m is None or m.group(2) not in _SUFFIX:
        raise QuantityError(
            f"quantity {value!r} is not valid: write a number with an optional suffix "
            "such as 500m, 2, 256Mi or 1Gi"
        )
    return float(m.group(1)) * _SUFFIX[m.group(2)]


def format_quantity(value: float, resource: str) -> str:
    """Print a quantity the way Kubernetes does: cpu as `2` or `1500m`, memory as `1Gi` / `512Mi`."""
    if "cpu" in resource:
        millis = round(value * 1000)
        return str(millis // 1000) if millis % 1000 == 0 else f"{millis}m"
    if "memory" in resource or "storage" in resource:
        n = round(value)
        for suffix in ("Ei", "Pi", "Ti", "Gi", "Mi", "Ki"):
            unit = int(_SUFFIX[suffix])
            if n and n % unit == 0:
                return f"{n // unit}{suffix}"
        return str(n)
    return str(round(value)) if float(value).is_integer() else str(value)
