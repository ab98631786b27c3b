"""The LangGraph checkpointer for a store URL: SQLite's own saver, or one on plain Redis.

`langgraph-checkpoint-redis` needs the RedisJSON and RediSearch modules, which Debian's
Redis 7 and many managed services lack. `langgraph-checkpoint-plainredis` uses only
strings, hashes and sorted sets, and passes the official conformance suite
(`tests/test_checkpointer_conformance.py`). Our graph runs synchronously
(`graph.invoke` on worker threads), and both upstream sync savers leave the async
methods unimplemented, so the classes here answer the async methods by running the
sync ones in a thread. That way the conformance suite (which drives the async API)
tests exactly the code path the bot uses.
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import importlib
import inspect
import sqlite3
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
)
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph_checkpoint_plainredis import RedisSaver
from pydantic import BaseModel

# Checkpoints are namespaced under the store's prefix, apart from the bot's own keys.
CHECKPOINT_NAMESPACE = "checkpoints"

# The modules whose types the incident and investigation graphs keep in their state.
_STATE_MODULES = (
    "agents.models",
    "agents.state",
    "approvals.models",
    "approvals.policy",
    "approvals.gate",
    "approvals.incident_graph",
)


def _state_types() -> list[tuple[str, str]]:
    """Every model, enum and dataclass those modules define."""
    allowed = []
    for name in _STATE_MODULES:
        module = importlib.import_module(name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != name:
                continue
            if issubclass(cls, (BaseModel, enum.Enum)) or dataclasses.is_dataclass(cls):
                allowed.append((cls.__module__, cls.__name__))
    return allowed


def serializer() -> JsonPlusSerializer:
    """A serializer that revives only our own state types (and LangGraph's safe built-ins).

    Whoever can write the store must not be able to make a resume construct arbitrary
    classes; and an explicit list keeps LangGraph from warning on every load.
    """
    return JsonPlusSerializer(allowed_msgpack_modules=_state_types())


class _AsyncViaThreads(BaseCheckpointSaver):
    """The async checkpointer API served by the sync implementation, off the event loop."""

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """`get_tuple` in a worker thread."""
        return await asyncio.to_thread(self.get_tuple, config)

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        """`list` in a worker thread (materialised: lists are bounded by `limit` or a thread)."""
        items = await asyncio.to_thread(
            lambda: list(self.list(config, filter=filter, before=before, limit=limit))
        )
        for item in items:
            yield item

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """`put` in a worker thread."""
        return await asyncio.to_thread(self.put, config, checkpoint, metadata, new_versions)

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """`put_writes` in a worker thread."""
        await asyncio.to_thread(self.put_writes, config, writes, task_id, task_path)

    async def adelete_thread(self, thread_id: str) -> None:
        """`delete_thread` in a worker thread."""
        await asyncio.to_thread(self.delete_thread, thread_id)


class PlainRedisCheckpointer(_AsyncViaThreads, RedisSaver):
    """Checkpoints on plain Redis (no modules), usable from sync and async code."""


class SQLiteCheckpointer(_AsyncViaThreads, SqliteSaver):
    """Checkpoints in the SQLite store file, usable from sync and async code."""


def sqlite_checkpointer(path: Path | str) -> SQLiteCheckpointer:
    """A checkpointer on a SQLite file, shared safely by the bot's threads."""
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA busy_timeout=5000")
    saver = SQLiteCheckpointer(conn, serde=serializer())
    saver.setup()
    return saver


def redis_checkpointer(url: str, prefix: str) -> PlainRedisCheckpointer:
    """A checkpointer on the Redis at `url` (redis-py form), keys under `<prefix>:checkpoints`."""
    return PlainRedisCheckpointer(
        url=url, prefix=f"{prefix}:{CHECKPOINT_NAMESPACE}", serde=serializer()
    )


def close_checkpointer(saver: BaseCheckpointSaver) -> None:
    """Release the checkpointer's connection."""
    if isinstance(saver, SqliteSaver):
        saver.conn.close()
    elif isinstance(saver, RedisSaver):
        saver.close()
