"""The sandbox's clock: the scenario's `clock` mapped to wall-clock time, running at `speed`."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta


class SandboxClock:
    """Time as the sandbox serves it.

    At construction the scenario's `file_clock` is mapped to `start` (default: the wall
    clock now); from there sandbox time advances `speed` times as fast as real time.
    `offset` turns a file timestamp into a served one. `advance` jumps ahead, for tests
    and demos that should not wait for real time to pass.
    """

    def __init__(
        self, file_clock: datetime, *, speed: float = 1.0, start: datetime | None = None
    ) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be above zero, got {speed}")
        start = (start or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
        self.speed = float(speed)
        self.start = start
        self.offset: timedelta = start - file_clock.astimezone(UTC)
        self._start_ts = start.timestamp()
        self._mono0 = time.monotonic()
        self._skipped = 0.0
        self._lock = threading.Lock()

    def now_ts(self) -> float:
        """Sandbox time as unix seconds."""
        return self._start_ts + (time.monotonic() - self._mono0) * self.speed + self._skipped

    def now(self) -> datetime:
        """Sandbox time as an aware UTC datetime."""
        return datetime.fromtimestamp(self.now_ts(), UTC)

    def elapsed(self) -> float:
        """Sandbox seconds since the start."""
        return self.now_ts() - self._start_ts

    def advance(self, seconds: float) -> None:
        """Jump sandbox time forward by `seconds` (never backward)."""
        if seconds < 0:
            raise ValueError("the sandbox clock only moves forward")
        with self._lock:
            self._skipped += seconds

    def shift(self, file_time: datetime) -> datetime:
        """A file timestamp as the sandbox serves it."""
        return file_time + self.offset
