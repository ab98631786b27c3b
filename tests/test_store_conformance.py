"""Both backends behave alike: books' compare-and-set and leased claims, the audit log, the factory."""

from __future__ import annotations

import threading

import pytest

from approvals.audit import AuditEvent, export_jsonl
from approvals.store import StoreError
from approvals.stores import open_stores


def _race(n: int, fn) -> list:
    """Run fn(i) on n threads released at once; their results."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        results[i] = fn(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results


def test_an_approval_request_is_inserted_once_and_changes_only_from_the_expected_status(stores_at):
    book = stores_at().approvals
    assert book.insert("inc-1:0", "inc-1", "pending", '{"v": 1}')
    assert not book.insert("inc-1:0", "inc-1", "pending", '{"v": 2}')
    assert book.get("inc-1:0") == '{"v": 1}'
    assert not book.cas("inc-1:0", "approved", "rejected", '{"v": 3}')
    assert book.cas("inc-1:0", "pending", "approved", '{"v": 4}')
    assert book.get("inc-1:0") == '{"v": 4}'
    assert book.with_status("pending") == []
    assert book.with_status("approved") == ['{"v": 4}']
    assert book.get("nope") is None


def test_of_many_replicas_racing_a_cas_exactly_one_wins(stores_at):
    books = [stores_at("shared").approvals for _ in range(4)]
    books[0].insert("r", "inc", "pending", "{}")
    wins = _race(16, lambda i: books[i % 4].cas("r", "pending", "approved", f'{{"by": {i}}}'))
    assert sum(wins) == 1


def test_deadlines_come_back_earliest_first_and_move_between_states(stores_at):
    book = stores_at().deadlines
    book.insert("late", "watching", 200.0, '"late"')
    book.insert("early", "watching", 100.0, '"early"')
    assert book.with_state("watching") == ['"early"', '"late"']
    assert book.cas("early", "watching", "kept", '"early kept"')
    assert not book.cas("early", "watching", "rolled_back", '"no"')
    assert book.with_state("watching") == ['"late"']
    assert book.with_state("kept") == ['"early kept"']


def test_a_deadline_is_claimed_once_until_its_lease_runs_out(stores_at):
    book = stores_at().deadlines
    book.insert("f", "watching", 100.0, "{}")
    assert not book.claim("f", "a", now=99.0, lease=10, due_only=True)  # not due yet
    assert book.claim("f", "a", now=99.0, lease=10, due_only=False)  # roll back now
    assert not book.claim("f", "b", now=105.0, lease=10, due_only=True)  # a's lease holds
    assert book.claim("f", "b", now=109.5, lease=10, due_only=True)  # a died: taken over
    book.cas("f", "watching", "rolled_back", "{}")
    assert not book.claim("f", "c", now=500.0, lease=10, due_only=True)  # decided: no claim


def test_of_many_replicas_racing_for_a_due_deadline_exactly_one_claims_it(stores_at):
    books = [stores_at("shared").deadlines for _ in range(4)]
    books[0].insert("f", "watching", 100.0, "{}")
    wins = _race(16, lambda i: books[i % 4].claim("f", f"r{i}", 101.0, 60.0, due_only=True))
    assert sum(wins) == 1


def test_the_audit_log_exports_the_same_json_lines_on_both_backends(stores_at):
    log = stores_at().audit
    at = "2026-11-23T12:00:00Z"
    log.append(AuditEvent(incident_id="i1", action="a", at=at, detail={"k": [1, 2]}))
    log.append(AuditEvent(incident_id="i2", action="b", actor="U1", at=at, via="slack:C1"))
    assert list(export_jsonl(log, "i2")) == [
        '{"action": "b", "actor": "U1", "at": "2026-11-23T12:00:00Z", "detail": {}, '
        '"incident_id": "i2", "via": "slack:C1"}'
    ]
    assert [e.action for e in log.events()] == ["a", "b"]


def test_a_long_audit_log_is_read_completely_in_order(stores_at):
    log = stores_at().audit
    for i in range(1205):  # more than one page of XRANGE on Redis
        log.append(AuditEvent(incident_id="i", action=f"n{i}"))
    actions = [e.action for e in log.events("i")]
    assert actions == [f"n{i}" for i in range(1205)]


def test_on_redis_the_audit_log_is_a_stream_under_the_prefix(redis_server):
    url = redis_server.url_with_prefix("audit-kind")
    stores = open_stores(url)
    stores.audit.append(AuditEvent(incident_id="i", action="a"))
    client = redis_server.client()
    try:
        assert client.type("audit-kind:audit") == b"stream"
        assert client.xlen("audit-kind:audit") == 1
    finally:
        client.close()
        stores.close()


def test_replicas_with_different_prefixes_do_not_see_each_others_state(redis_server):
    a, b = open_stores(redis_server.url_with_prefix()), open_stores(redis_server.url_with_prefix())
    try:
        a.approvals.insert("r", "inc", "pending", "{}")
        assert b.approvals.get("r") is None
    finally:
        a.close()
        b.close()


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("mysql://db/x", "sqlite:///path/to/file.db or redis://host:port/db"),
        ("redis:///0", "needs a host"),
        ("redis://127.0.0.1:6379/zero", "database must be a number"),
        ("redis://127.0.0.1:6379/0?prefix=", "prefix parameter must not be empty"),
    ],
)
def test_a_bad_store_url_is_refused_with_what_to_fix(url, says):
    with pytest.raises(StoreError, match=says):
        open_stores(url)


def test_an_unreachable_redis_is_named_with_what_to_check():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(StoreError) as err:
        open_stores(f"redis://user:secret@127.0.0.1:{port}/0")
    assert f"redis://127.0.0.1:{port}/0" in str(err.value)
    assert "secret" not in str(err.value)  # the password never lands in a log line
    assert "redis-server is running" in str(err.value)
