"""The gate's approval requests and the kill switch's armed fixes on Redis.

Each record is a hash (`status`/`state`, `body`, ...); an index per status holds the
ids. Every change is one Lua script, so a compare-and-set or a claim is atomic on the
server and nothing depends on a client-side lock that dies with its process.
Armed fixes are indexed in sorted sets scored by their deadline.
"""

from __future__ import annotations

import redis

# KEYS[1] record, KEYS[2] index prefix; ARGV: id, status, body, incident
_INSERT_REQUEST = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[2], 'body', ARGV[3], 'incident', ARGV[4])
redis.call('SADD', KEYS[2] .. ARGV[2], ARGV[1])
return 1
"""

# KEYS[1] record, KEYS[2] index prefix; ARGV: id, expect, status, body
_CAS_REQUEST = """
if redis.call('HGET', KEYS[1], 'status') ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[3], 'body', ARGV[4])
redis.call('SREM', KEYS[2] .. ARGV[2], ARGV[1])
redis.call('SADD', KEYS[2] .. ARGV[3], ARGV[1])
return 1
"""

# KEYS[1] record, KEYS[2] index prefix; ARGV: id, state, deadline, body
_INSERT_FIX = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[2], 'deadline', ARGV[3], 'body', ARGV[4])
redis.call('ZADD', KEYS[2] .. ARGV[2], ARGV[3], ARGV[1])
return 1
"""

# KEYS[1] record, KEYS[2] index prefix; ARGV: id, expect, state, body
_CAS_FIX = """
if redis.call('HGET', KEYS[1], 'state') ~= ARGV[2] then return 0 end
local deadline = redis.call('HGET', KEYS[1], 'deadline')
redis.call('HSET', KEYS[1], 'state', ARGV[3], 'body', ARGV[4])
redis.call('ZREM', KEYS[2] .. ARGV[2], ARGV[1])
redis.call('ZADD', KEYS[2] .. ARGV[3], deadline, ARGV[1])
return 1
"""

# KEYS[1] record; ARGV: owner, now, lease, due_only ('1'/'0')
# A watching fix is claimed when nobody holds an unexpired lease (and, with due_only,
# its deadline has passed); a dead holder's lease simply runs out.
_CLAIM_FIX = """
local f = redis.call('HMGET', KEYS[1], 'state', 'deadline', 'claimed_by', 'lease_until')
if f[1] ~= 'watching' then return 0 end
local now = tonumber(ARGV[2])
if f[3] and f[3] ~= '' and tonumber(f[4]) >= now then return 0 end
if ARGV[4] == '1' and tonumber(f[2]) > now then return 0 end
redis.call('HSET', KEYS[1], 'claimed_by', ARGV[1], 'lease_until', tostring(now + tonumber(ARGV[3])))
return 1
"""


def _num(x: float) -> str:
    # repr keeps every digit of a float, so Lua's tonumber sees the same value
    return repr(float(x))


class RedisApprovalBook:
    """`ApprovalBook` on Redis: a hash per request, a set of ids per status."""

    def __init__(self, client: redis.Redis, prefix: str, *, owns_client: bool = False) -> None:
        self._r = client
        self._p = f"{prefix}:approval"
        self._owns = owns_client
        self._insert = client.register_script(_INSERT_REQUEST)
        self._cas = client.register_script(_CAS_REQUEST)

    def _key(self, request_id: str) -> str:
        return f"{self._p}:{request_id}"

    def _index(self) -> str:
        return f"{self._p}s:status:"

    def insert(self, request_id: str, incident_id: str, status: str, body: str) -> bool:
        """Store a new request; False (and no change) when the id exists."""
        keys = [self._key(request_id), self._index()]
        return bool(self._insert(keys=keys, args=[request_id, status, body, incident_id]))

    def get(self, request_id: str) -> str | None:
        """The stored body, or None."""
        return self._r.hget(self._key(request_id), "body")

    def cas(self, request_id: str, expect: str, status: str, body: str) -> bool:
        """Replace the request only while its status is still `expect`."""
        keys = [self._key(request_id), self._index()]
        return bool(self._cas(keys=keys, args=[request_id, expect, status, body]))

    def with_status(self, status: str) -> list[str]:
        """Bodies of every request in that status (by id, as SQLite returns them)."""
        ids = sorted(self._r.smembers(self._index() + status))
        pipe = self._r.pipeline(transaction=False)
        for i in ids:
            pipe.hget(self._key(i), "body")
        return [b for b in pipe.execute() if b is not None]

    def close(self) -> None:
        """Close the connection when this book opened it."""
        if self._owns:
            self._r.close()


class RedisDeadlineBook:
    """`DeadlineBook` on Redis: a hash per fix, a sorted set of ids by deadline per state."""

    def __init__(self, client: redis.Redis, prefix: str, *, owns_client: bool = False) -> None:
        self._r = client
        self._p = f"{prefix}:fix"
        self._owns = owns_client
        self._insert = client.register_script(_INSERT_FIX)
        self._cas = client.register_script(_CAS_FIX)
        self._claim = client.register_script(_CLAIM_FIX)

    def _key(self, fix_id: str) -> str:
        return f"{self._p}:{fix_id}"

    def _index(self) -> str:
        return f"{self._p}es:state:"

    def insert(self, fix_id: str, state: str, deadline: float, body: str) -> None:
        """Store a newly armed fix; ValueError when the id is already armed."""
        keys = [self._key(fix_id), self._index()]
        if not self._insert(keys=keys, args=[fix_id, state, _num(deadline), body]):
            raise ValueError(f"fix {fix_id!r} is already armed")

    def get(self, fix_id: str) -> str | None:
        """The stored body, or None."""
        return self._r.hget(self._key(fix_id), "body")

    def cas(self, fix_id: str, expect: str, state: str, body: str) -> bool:
        """Replace the fix only while its state is still `expect`."""
        keys = [self._key(fix_id), self._index()]
        return bool(self._cas(keys=keys, args=[fix_id, expect, state, body]))

    def with_state(self, state: str) -> list[str]:
        """Bodies of every fix in that state, earliest deadline first."""
        ids = self._r.zrange(self._index() + state, 0, -1)
        pipe = self._r.pipeline(transaction=False)
        for i in ids:
            pipe.hget(self._key(i), "body")
        return [b for b in pipe.execute() if b is not None]

    def due(self, state: str, now: float) -> list[str]:
        """Ids in that state whose deadline has passed, earliest first (a cheap sweeper query)."""
        return self._r.zrangebyscore(self._index() + state, "-inf", _num(now))

    def claim(self, fix_id: str, owner: str, now: float, lease: float, *, due_only: bool) -> bool:
        """Take the right to act on a watching fix, atomically (see DeadlineBook.claim)."""
        args = [owner, _num(now), _num(lease), "1" if due_only else "0"]
        return bool(self._claim(keys=[self._key(fix_id)], args=args))

    def close(self) -> None:
        """Close the connection when this book opened it."""
        if self._owns:
            self._r.close()
