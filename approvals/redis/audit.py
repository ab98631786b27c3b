"""The audit log as a Redis Stream: append-only, ordered, exported like the SQLite one.

Every event goes to `<prefix>:audit` (the whole log) and `<prefix>:audit:<incident>` (its
index), in one MULTI so both or neither are written. Nothing in this class edits or
trims a stream: XADD is the only write.
"""

from __future__ import annotations

from collections.abc import Iterator

import redis

from approvals.audit import AuditEvent

_PAGE = 500


class RedisAuditLog:
    """`AuditLog` on Redis Streams."""

    def __init__(self, client: redis.Redis, prefix: str, *, owns_client: bool = False) -> None:
        self._r = client
        self._all = f"{prefix}:audit"
        self._prefix = prefix
        self._owns = owns_client

    def _by_incident(self, incident_id: str) -> str:
        return f"{self._prefix}:audit:incident:{incident_id}"

    def append(self, event: AuditEvent) -> None:
        """Record one event."""
        body = event.model_dump_json()
        pipe = self._r.pipeline(transaction=True)
        pipe.xadd(self._all, {"incident_id": event.incident_id, "body": body})
        pipe.xadd(self._by_incident(event.incident_id), {"body": body})
        pipe.execute()

    def events(self, incident_id: str | None = None) -> Iterator[AuditEvent]:
        """Every event in order of recording, optionally for one incident."""
        key = self._all if incident_id is None else self._by_incident(incident_id)
        start = "-"
        while True:
            page = self._r.xrange(key, min=start, max="+", count=_PAGE)
            for _id, fields in page:
                yield AuditEvent.model_validate_json(fields["body"])
            if len(page) < _PAGE:
                return
            start = "(" + page[-1][0]  # exclusive: continue after the last entry

    def close(self) -> None:
        """Close the connection when this log opened it."""
        if self._owns:
            self._r.close()
