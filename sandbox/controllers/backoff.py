"""The kubelet's restart back-off: 10 s doubling to 300 s, and where a crash loop is at a time."""

from __future__ import annotations

RUN_SECONDS = 3.0  # how long a crashing container lives before it exits
BACKOFFS = [min(10.0 * 2**k, 300.0) for k in range(6)]
_STARTS = [0.0]
for _b in BACKOFFS[:-1]:
    _STARTS.append(_STARTS[-1] + RUN_SECONDS + _b)


def attempt_start(k: int) -> float:
    """Seconds after the first start at which attempt k starts (kubelet's 10s..300s back-off)."""
    if k < len(_STARTS):
        return _STARTS[k]
    return _STARTS[-1] + (k - len(_STARTS) + 1) * (RUN_SECONDS + 300.0)


def attempt_at(elapsed: float) -> int:
    """The latest attempt started `elapsed` seconds after the first start."""
    if elapsed < _STARTS[-1]:
        return max(k for k, s in enumerate(_STARTS) if s <= max(elapsed, 0.0))
    return len(_STARTS) - 1 + int((elapsed - _STARTS[-1]) // (RUN_SECONDS + 300.0))


def human_backoff(seconds: int) -> str:
    """`40s`, `5m0s`: the back-off as the kubelet prints it."""
    m, s = divmod(seconds, 60)
    return f"{m}m{s}s" if m else f"{s}s"
