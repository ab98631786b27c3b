"""`StateStore` on Redis: incidents and their thread mapping, dedup claims, dead letters, presses.

Keys (all under `<prefix>:`):
  incident:<id>                 the record as JSON
  incidents                     sorted set of ids by creation time (newest first on read)
  thread:<channel>:<thread_ts>  -> incident id
  external:<key>                sorted set of incident ids by creation time
  delivery:<source>:<id>        a webhook delivery seen (SET NX)
  deadletter:seq / deadletter:<n> / deadletters   dead letters and their order
  presses:<incident>            list of button presses, oldest first
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import redis

from approvals.store import (
    CLOSED_STATUSES,
    ButtonPress,
    DeadLetter,
    IncidentRecord,
    StateStore,
    StoreError,
)

# Delivery ids only need to outlive the sources' retry windows (PagerDuty and
# Alertmanager retry for hours); a month bounds memory on a long-lived Redis.
DELIVERY_TTL_SECONDS = 30 * 24 * 3600


def _now() -> datetime:
    return datetime.now(UTC)


class RedisStateStore(StateStore):
    """The state store shared by every replica on one Redis."""

    def __init__(self, client: redis.Redis, prefix: str, *, owns_client: bool = False) -> None:
        self._r = client
        self._p = prefix
        self._owns = owns_client

    def _k(self, *parts: str) -> str:
        return ":".join((self._p, *parts))

    # -- incidents --------------------------------------------------------------------

    def create_incident(self, record: IncidentRecord) -> None:
        """Store a new incident. Its id must be new."""
        if not self._r.set(self._k("incident", record.id), record.model_dump_json(), nx=True):
            raise StoreError(f"incident {record.id} already exists")
        pipe = self._r.pipeline(transaction=True)
        self._index(pipe, record, None)
        pipe.execute()

    def _index(self, pipe: Any, record: IncidentRecord, old: IncidentRecord | None) -> None:
        score = record.created_at.timestamp()
        pipe.zadd(self._k("incidents"), {record.id: score})
        if (
            old
            and old.channel
            and old.thread_ts
            and (old.channel, old.thread_ts)
            != (
                record.channel,
                record.thread_ts,
            )
        ):
            pipe.delete(self._k("thread", old.channel, old.thread_ts))
        if record.channel and record.thread_ts:
            pipe.set(self._k("thread", record.channel, record.thread_ts), record.id)
        if old and old.external_key and old.external_key != record.external_key:
            pipe.zrem(self._k("external", old.external_key), record.id)
        if record.external_key:
            pipe.zadd(self._k("external", record.external_key), {record.id: score})

    def get_incident(self, incident_id: str) -> IncidentRecord | None:
        """The incident with this id, or None."""
        doc = self._r.get(self._k("incident", incident_id))
        return IncidentRecord.model_validate_json(doc) if doc else None

    def update_incident(self, incident_id: str, **changes: Any) -> IncidentRecord:
        """Change fields of an incident and return it as stored.

        Optimistic: WATCH the record, write in MULTI, retry if another replica wrote first.
        """
        key = self._k("incident", incident_id)
        result: list[IncidentRecord] = []

        def change(pipe: Any) -> None:
            doc = pipe.get(key)
            if doc is None:
                raise StoreError(f"no incident {incident_id}")
            current = IncidentRecord.model_validate_json(doc)
            data = current.model_dump()
            data.update(changes, updated_at=_now())
            record = IncidentRecord.model_validate(data)
            pipe.multi()
            pipe.set(key, record.model_dump_json())
            self._index(pipe, record, current)
            result[:] = [record]

        self._r.transaction(change, key)
        return result[0]

    def find_by_thread(self, channel: str, thread_ts: str) -> IncidentRecord | None:
        """The incident whose root message is `thread_ts` in `channel`."""
        incident_id = self._r.get(self._k("thread", channel, thread_ts))
        return self.get_incident(incident_id) if incident_id else None

    def find_by_external_key(self, key: str) -> IncidentRecord | None:
        """The most recent incident opened for this PagerDuty id or Alertmanager groupKey."""
        ids = self._r.zrevrange(self._k("external", key), 0, 0)
        return self.get_incident(ids[0]) if ids else None

    def list_incidents(self, *, open_only: bool = False, limit: int = 50) -> list[IncidentRecord]:
        """Incidents, newest first."""
        out: list[IncidentRecord] = []
        start, page = 0, max(limit, 50)
        while len(out) < limit:
            ids = self._r.zrevrange(self._k("incidents"), start, start + page - 1)
            if not ids:
                break
            docs = self._r.mget([self._k("incident", i) for i in ids])
            for doc in docs:
                if doc is None:
                    continue
                record = IncidentRecord.model_validate_json(doc)
                if not open_only or record.status not in CLOSED_STATUSES:
                    out.append(record)
            start += page
        return out[:limit]

    # -- webhook deliveries and dead letters ---------------------------------------------

    def claim_delivery(self, source: str, delivery_id: str) -> bool:
        """True the first time a delivery id is seen for a source, False for a repeat."""
        key = self._k("delivery", source, delivery_id)
        return bool(self._r.set(key, _now().isoformat(), nx=True, ex=DELIVERY_TTL_SECONDS))

    def add_dead_letter(self, letter: DeadLetter) -> int:
        """Keep a delivery that could not be processed; returns its id."""
        letter_id = int(self._r.incr(self._k("deadletter", "seq")))
        pipe = self._r.pipeline(transaction=True)
        pipe.set(self._k("deadletter", str(letter_id)), letter.model_dump_json(exclude={"id"}))
        pipe.zadd(self._k("deadletters"), {str(letter_id): letter_id})
        pipe.zadd(self._k("deadletters", "pending"), {str(letter_id): letter_id})
        pipe.execute()
        return letter_id

    def _letter(self, letter_id: int, doc: str) -> DeadLetter:
        data = json.loads(doc)
        data["id"] = letter_id
        return DeadLetter.model_validate(data)

    def list_dead_letters(self, *, include_replayed: bool = False) -> list[DeadLetter]:
        """Dead letters, oldest first."""
        index = self._k("deadletters") if include_replayed else self._k("deadletters", "pending")
        ids = [int(i) for i in self._r.zrange(index, 0, -1)]
        if not ids:
            return []
        docs = self._r.mget([self._k("deadletter", str(i)) for i in ids])
        return [self._letter(i, d) for i, d in zip(ids, docs, strict=True) if d]

    def get_dead_letter(self, letter_id: int) -> DeadLetter | None:
        """One dead letter, or None."""
        doc = self._r.get(self._k("deadletter", str(letter_id)))
        return self._letter(letter_id, doc) if doc else None

    def mark_replayed(self, letter_id: int) -> None:
        """Note that a dead letter was replayed successfully."""
        letter = self.get_dead_letter(letter_id)
        if letter is None:
            raise StoreError(f"no dead letter {letter_id}")
        letter.replayed_at = _now()
        pipe = self._r.pipeline(transaction=True)
        pipe.set(self._k("deadletter", str(letter_id)), letter.model_dump_json(exclude={"id"}))
        pipe.zrem(self._k("deadletters", "pending"), str(letter_id))
        pipe.execute()

    # -- presses ------------------------------------------------------------------------

    def record_press(self, press: ButtonPress) -> None:
        """Record a button press for the approval gate to act on."""
        self._r.rpush(self._k("presses", press.incident_id), press.model_dump_json())

    def presses(self, incident_id: str) -> list[ButtonPress]:
        """Presses recorded for an incident, oldest first."""
        docs = self._r.lrange(self._k("presses", incident_id), 0, -1)
        return [ButtonPress.model_validate_json(d) for d in docs]

    def close(self) -> None:
        """Close the connection when this store opened it."""
        if self._owns:
            self._r.close()
