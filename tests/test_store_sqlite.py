"""The state store on SQLite and on Redis: incidents and their threads, dedup keys, dead letters, presses."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from agents.models import Finding, Trigger, TriggerSource
from approvals.store import (
    ButtonPress,
    DeadLetter,
    IncidentRecord,
    SQLiteStateStore,
    StoreError,
    open_store,
)


@pytest.fixture
def store(store_url):
    s = open_store(store_url("state"))
    yield s
    s.close()


def _record(incident_id: str = "inc-1", **kw) -> IncidentRecord:
    fields = {
        "id": incident_id,
        "title": "checkout down",
        "source": TriggerSource.SLASH,
        "channel": "C1",
        "thread_ts": "1.000001",
        "langgraph_thread_id": incident_id,
        "trigger": Trigger(source=TriggerSource.SLASH, text="checkout down"),
    }
    return IncidentRecord.model_validate({**fields, **kw})


def test_an_incident_is_found_by_id_by_thread_and_by_external_key(store):
    store.create_incident(_record(external_key="alertmanager:{}:{a=1}"))
    assert store.get_incident("inc-1").title == "checkout down"
    assert store.find_by_thread("C1", "1.000001").id == "inc-1"
    assert store.find_by_external_key("alertmanager:{}:{a=1}").id == "inc-1"
    assert store.find_by_thread("C1", "9.9") is None
    assert store.get_incident("nope") is None


def test_the_thread_mapping_and_findings_survive_reopening_the_file(store_url):
    first = open_store(store_url("s"))
    first.create_incident(_record())
    finding = Finding(specialist="logs", title="FATAL DATABASE_URL is not set")
    first.update_incident("inc-1", status="diagnosed", findings=[finding])
    first.close()
    again = open_store(store_url("s"))
    record = again.find_by_thread("C1", "1.000001")
    assert record.status == "diagnosed"
    assert record.findings[0].title == "FATAL DATABASE_URL is not set"
    assert record.trigger.text == "checkout down"
    again.close()


def test_a_duplicate_incident_id_is_refused(store):
    store.create_incident(_record())
    with pytest.raises(StoreError, match="already exists"):
        store.create_incident(_record())


def test_list_open_leaves_out_resolved_incidents(store):
    store.create_incident(_record("inc-a"))
    store.create_incident(_record("inc-b", thread_ts="2.0"))
    store.update_incident("inc-a", status="resolved")
    assert [r.id for r in store.list_incidents(open_only=True)] == ["inc-b"]
    assert {r.id for r in store.list_incidents()} == {"inc-a", "inc-b"}


def test_a_delivery_id_is_claimed_once_per_source(store):
    assert store.claim_delivery("pagerduty", "w-1") is True
    assert store.claim_delivery("pagerduty", "w-1") is False
    assert store.claim_delivery("alertmanager", "w-1") is True


def test_dead_letters_are_kept_verbatim_until_replayed(store):
    letter_id = store.add_dead_letter(
        DeadLetter(source="pagerduty", reason="body is not valid JSON", body="{oops")
    )
    [kept] = store.list_dead_letters()
    assert (kept.id, kept.body, kept.reason) == (letter_id, "{oops", "body is not valid JSON")
    store.mark_replayed(letter_id)
    assert store.list_dead_letters() == []
    assert store.list_dead_letters(include_replayed=True)[0].replayed_at is not None


def test_button_presses_are_recorded_in_order(store):
    store.record_press(ButtonPress(incident_id="inc-1", action_id="approve", proposal_index=0))
    store.record_press(ButtonPress(incident_id="inc-1", action_id="reject", proposal_index=1))
    assert [p.action_id for p in store.presses("inc-1")] == ["approve", "reject"]


def test_an_unreachable_redis_url_is_refused_with_a_message_naming_it():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens once the socket is closed
    with pytest.raises(StoreError, match=rf"127\.0\.0\.1:{port}.*redis-server is running"):
        open_store(f"redis://127.0.0.1:{port}/0")


def test_an_unknown_store_scheme_is_refused_with_the_accepted_forms(tmp_path: Path):
    with pytest.raises(StoreError, match="sqlite:///.*redis://"):
        open_store(f"postgres://{tmp_path}")


def test_the_sqlite_store_is_still_its_own_class(tmp_path: Path):
    s = SQLiteStateStore(tmp_path / "direct.db")
    s.create_incident(_record())
    assert s.get_incident("inc-1").id == "inc-1"
    s.close()
