"""The scale-out benchmark's invariants: each proposal executes exactly once and ends as planned.

Counted twice, independently: from the shared audit log, and from the writes the sandbox served.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from benchmarks.scaleout_world import KEPT, ROLL_BACK_NOW, namespace_of

APPROVERS = ("U222", "U333")
OUTCOMES = ("fix.confirmed", "fix.kept", "fix.rolled_back", "fix.rollback_failed")
POLL = 0.25  # seconds between looks (a polling interval)


@dataclass
class Tracked:
    """What the driver knows about one incident, from the Slack double and the shared store."""

    i: int
    plan: str
    opener: int
    ack_seconds: float | None = None
    incident_id: str | None = None
    thread_ts: str | None = None
    approve_value: str | None = None
    approved_on: int | None = None
    fix_id: str | None = None
    deadline: float | None = None
    pressed_roll_back: bool = False
    outcome: str | None = None
    outcome_at: float | None = None
    status: str = "investigating"

    @property
    def channel(self) -> str:
        """Each incident is opened from its own channel, so records map back to it."""
        return f"C{self.i:05d}"


def violations(tracked: list[Tracked], stores: Any, executed: list[tuple[str, str]]) -> list[str]:
    """Every lost, doubled or unplanned execution: from the audit log and the served writes."""
    by_incident: dict[str, list[Any]] = {}
    for e in stores.audit.events():
        by_incident.setdefault(e.incident_id, []).append(e)
    writes = Counter(ref for _verb, ref in executed)
    found: list[str] = []
    for t in tracked:
        ns, events = namespace_of(t.i), by_incident.get(t.incident_id or "", [])
        actions = Counter(e.action for e in events)
        for action in ("proposal.approved", "execution.applied", "killswitch.armed"):
            if actions[action] != 1:
                found.append(f"{ns}: {action} recorded {actions[action]} times")
        ends = sum(actions[a] for a in OUTCOMES)
        want = "fix.confirmed" if t.plan == KEPT else "fix.rolled_back"
        if ends != 1 or actions[want] != 1:
            found.append(f"{ns}: planned {t.plan}, audit has {dict(actions)}")
        rolled_by = [e.actor for e in events if e.action == "fix.rolled_back"]
        if t.plan == ROLL_BACK_NOW and rolled_by and rolled_by[0] != APPROVERS[1]:
            found.append(f"{ns}: planned roll back now, rolled back by {rolled_by[0]}")
        # The undo is one write to the Deployment; a rollback restores it with one more.
        want_writes = 1 if t.plan == KEPT else 2
        got = writes.pop(f"Deployment/{ns}/checkout-api", 0)
        if got != want_writes:
            found.append(f"{ns}: {got} writes served to the Deployment, expected {want_writes}")
    found += [f"unexpected writes to {ref}: {n}" for ref, n in sorted(writes.items())]
    return found


def settle(tracked: list[Tracked], stores: Any, world: Any, seconds: float) -> list[str]:
    """Keep checking the invariants for a few sweeper passes: an outcome must stay single."""
    end = time.monotonic() + seconds
    while True:
        found = violations(tracked, stores, list(world.executed))
        if found or time.monotonic() >= end:
            return found
        time.sleep(POLL)  # polling interval of an invariant check, not a synchronisation
