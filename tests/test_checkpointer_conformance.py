"""The official LangGraph checkpointer conformance suite passes on our plain-Redis checkpointer.

SQLite's saver runs through the same suite for comparison, and a real graph resumes from
a Redis checkpoint in a second process-like saver (a fresh connection).
"""

from __future__ import annotations

import asyncio
import operator
from typing import Annotated, TypedDict

from langgraph.checkpoint.conformance import checkpointer_test, validate
from langgraph.checkpoint.conformance.report import ProgressCallbacks
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, interrupt

from approvals.checkpoint import PlainRedisCheckpointer, close_checkpointer, sqlite_checkpointer
from approvals.redis import parse_redis_url
from approvals.stores import open_stores
from tests.support.redis_server import new_prefix


def _run_suite(registered) -> None:
    report = asyncio.run(validate(registered, progress=ProgressCallbacks.quiet()))
    failed = {name: r.failures for name, r in report.results.items() if r.failures}
    assert report.passed_all_base(), f"conformance failures: {failed}"
    assert report.passed_all(), f"an implemented extended capability fails: {failed}"
    assert sum(r.tests_passed for r in report.results.values()) >= 40  # the suite really ran


def test_the_redis_checkpointer_passes_the_official_conformance_suite(redis_server):
    @checkpointer_test(name="PlainRedisCheckpointer")
    async def redis_saver():
        saver = PlainRedisCheckpointer(url=redis_server.url, prefix=new_prefix())
        yield saver
        saver.close()

    _run_suite(redis_saver)


def test_the_sqlite_checkpointer_passes_the_same_suite(tmp_path):
    counter = iter(range(1000))

    @checkpointer_test(name="SQLiteCheckpointer")
    async def sqlite_saver():
        saver = sqlite_checkpointer(tmp_path / f"cp-{next(counter)}.db")
        yield saver
        close_checkpointer(saver)

    _run_suite(sqlite_saver)


class _State(TypedDict):
    steps: Annotated[list[str], operator.add]


def _graph(checkpointer):
    def propose(state: _State) -> dict:
        return {"steps": ["proposed"]}

    def gate(state: _State) -> dict:
        decision = interrupt({"question": "approve?"})
        return {"steps": [f"decided:{decision}"]}

    g = StateGraph(_State)
    g.add_node("propose", propose)
    g.add_node("gate", gate)
    g.add_edge(START, "propose")
    g.add_edge("propose", "gate")
    g.add_edge("gate", END)
    return g.compile(checkpointer=checkpointer)


def test_a_graph_interrupted_on_one_replica_resumes_on_another(redis_server):
    url = redis_server.url_with_prefix()
    config = {"configurable": {"thread_id": "inc-1"}}
    first = open_stores(url)
    paused = _graph(first.checkpointer).invoke({"steps": []}, config)
    assert "__interrupt__" in paused
    first.close()  # the replica that asked goes away

    second = open_stores(url)
    try:
        done = _graph(second.checkpointer).invoke(Command(resume="approve"), config)
        assert done["steps"] == ["proposed", "decided:approve"]
    finally:
        second.close()


def test_checkpoints_live_under_the_store_prefix(redis_server):
    prefix = new_prefix()
    stores = open_stores(redis_server.url_with_prefix(prefix))
    try:
        _graph(stores.checkpointer).invoke({"steps": []}, {"configurable": {"thread_id": "t"}})
        client = redis_server.client()
        ours, upstream_default = client.keys(f"{prefix}:checkpoints:*"), client.keys("lg:*")
        client.close()
        assert ours and not upstream_default
        assert parse_redis_url(stores.url).prefix == prefix
    finally:
        stores.close()
