"""Opening Redis from `SRE_BOT_STORE=redis://host:port/db[?prefix=name]`, with errors a user can act on."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis

from approvals.store import StoreError

DEFAULT_PREFIX = "sre-bot"


@dataclass(frozen=True)
class RedisTarget:
    """Where the state lives: the URL redis-py understands, and our key prefix."""

    url: str  # without our own `prefix` query parameter
    prefix: str
    shown: str  # the URL as the user wrote it, password hidden, for messages


def parse_redis_url(url: str) -> RedisTarget:
    """Split our `prefix` parameter off a `redis://` / `rediss://` URL; StoreError when malformed."""
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss"):
        raise StoreError(f"not a Redis URL: {url!r}; expected redis://host:port/db")
    query = parse_qsl(parts.query, keep_blank_values=True)
    prefix = next((v for k, v in query if k == "prefix"), DEFAULT_PREFIX).strip(":")
    if not prefix:
        raise StoreError(f"{url!r}: the prefix parameter must not be empty")
    rest = urlencode([(k, v) for k, v in query if k != "prefix"])
    clean = urlunsplit((parts.scheme, parts.netloc, parts.path, rest, parts.fragment))
    netloc = parts.netloc.rsplit("@", 1)[-1]
    shown = urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    try:
        port = parts.port
    except ValueError as e:
        raise StoreError(f"{shown}: bad port in the Redis URL ({e})") from e
    if not parts.hostname:
        raise StoreError(f"{url!r}: the Redis URL needs a host, e.g. redis://127.0.0.1:6379/0")
    path = parts.path.strip("/")
    if path and not path.isdigit():
        raise StoreError(f"{shown}: the database must be a number, e.g. redis://{netloc}/0")
    del port
    return RedisTarget(url=clean, prefix=prefix, shown=shown)


def connect(target: RedisTarget, *, timeout: float = 5.0) -> redis.Redis:
    """A client that answered PING; StoreError naming the URL when Redis is not reachable."""
    try:
        client = redis.Redis.from_url(
            target.url,
            decode_responses=True,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            health_check_interval=30,
        )
        client.ping()
    except ValueError as e:
        raise StoreError(f"{target.shown}: {e}") from e
    except redis.AuthenticationError as e:
        raise StoreError(
            f"Redis at {target.shown} refused our credentials ({e}); check the user and"
            " password in SRE_BOT_STORE"
        ) from e
    except redis.RedisError as e:
        raise StoreError(
            f"cannot reach Redis at {target.shown} ({e}); check that redis-server is running"
            " there and reachable from this host, or set SRE_BOT_STORE=sqlite:///path.db"
        ) from e
    return client
