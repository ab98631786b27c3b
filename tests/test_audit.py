"""The audit log is append-only, ordered, and exported as JSON lines by the CLI."""

from __future__ import annotations

import json
import sqlite3

import pytest
from click.testing import CliRunner

from approvals.audit import AuditEvent, SQLiteAuditLog
from bot.cli import cli


def test_events_come_back_in_order_and_by_incident(stores_at):
    log = stores_at("a").audit
    log.append(AuditEvent(incident_id="inc-1", action="investigation.started"))
    log.append(AuditEvent(incident_id="inc-2", action="investigation.started"))
    log.append(
        AuditEvent(incident_id="inc-1", action="proposal.approved", actor="U111", detail={"n": 1})
    )
    assert [e.action for e in log.events("inc-1")] == ["investigation.started", "proposal.approved"]
    assert [e.incident_id for e in log.events()] == ["inc-1", "inc-2", "inc-1"]
    assert list(log.events("inc-1"))[1].detail == {"n": 1}


def test_the_log_refuses_edits_and_deletions(tmp_path):
    path = tmp_path / "a.db"
    SQLiteAuditLog(path).append(AuditEvent(incident_id="inc-1", action="x"))
    db = sqlite3.connect(path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("UPDATE audit_events SET incident_id = 'forged'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("DELETE FROM audit_events")


def test_audit_export_prints_json_lines_for_one_incident(stores_at, store_url, monkeypatch):
    log = stores_at("store").audit
    log.append(AuditEvent(incident_id="inc-1", action="a"))
    log.append(AuditEvent(incident_id="inc-2", action="b"))
    monkeypatch.setenv("SRE_BOT_STORE", store_url("store"))
    result = CliRunner().invoke(cli, ["audit", "export", "--incident", "inc-2"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [(e["incident_id"], e["action"]) for e in lines] == [("inc-2", "b")]
