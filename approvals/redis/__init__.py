"""The Redis backend: every piece of state shared by any number of replicas on one Redis.

No Redis modules are needed (plain Redis 5+): hashes, sorted sets, streams and Lua.
Keys are namespaced `<prefix>:...` (default prefix `sre-bot`, `?prefix=` in the URL).
"""

from approvals.redis.audit import RedisAuditLog
from approvals.redis.books import RedisApprovalBook, RedisDeadlineBook
from approvals.redis.connection import RedisTarget, connect, parse_redis_url
from approvals.redis.state import RedisStateStore

__all__ = [
    "RedisApprovalBook",
    "RedisAuditLog",
    "RedisDeadlineBook",
    "RedisStateStore",
    "RedisTarget",
    "connect",
    "parse_redis_url",
]
