"""Block Kit rendering of an incident thread, within Slack's limits, with secrets redacted.

Slack refuses a section text over 3,000 characters and a message over 50 blocks; both are
truncated here with a note saying how much was left out. Every string that leaves this module
has passed through `agents.redact.redact`.
"""

from __future__ import annotations

import json
from typing import Any

from agents.models import Diagnosis, Finding, Proposal
from agents.redact import redact
from approvals.store import IncidentRecord

MAX_TEXT = 3000
MAX_BLOCKS = 50
MAX_HEADER = 150
SPECIALISTS_TOTAL = 4

Block = dict[str, Any]

_STATUS_EMOJI = {
    "investigating": ":mag:",
    "diagnosed": ":bulb:",
    "awaiting approval": ":raised_hand:",
    "fixing": ":wrench:",
    "watching": ":eyes:",
    "resolved": ":white_check_mark:",
    "rolled back": ":leftwards_arrow_with_hook:",
    "escalated": ":rotating_light:",
    "failed": ":x:",
}


def truncate(text: str, limit: int = MAX_TEXT) -> str:
    """`text` redacted and cut to `limit` characters, ending with a note of what was cut."""
    text = redact(text)
    if len(text) <= limit:
        return text
    note = "\n_… truncated: {n} more characters_"
    keep = limit - len(note.format(n=len(text)))
    return text[:keep] + note.format(n=len(text) - keep)


def section(text: str) -> Block:
    """A mrkdwn section block, within the 3,000-character limit."""
    return {"type": "section", "text": {"type": "mrkdwn", "text": truncate(text)}}


def context(text: str) -> Block:
    """A small-print context block."""
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": truncate(text)}]}


def header(text: str) -> Block:
    """A header block (plain text, 150 characters at most)."""
    return {"type": "header", "text": {"type": "plain_text", "text": truncate(text, MAX_HEADER)}}


def cap(blocks: list[Block], limit: int = MAX_BLOCKS) -> list[Block]:
    """At most `limit` blocks; the last one says how many were left out."""
    if len(blocks) <= limit:
        return blocks
    left_out = len(blocks) - (limit - 1)
    return blocks[: limit - 1] + [context(f"_… {left_out} more blocks not shown_")]


def _source_line(record: IncidentRecord) -> str:
    source = record.source.value
    return f"<{record.link}|{source}>" if record.link else source


def progress_text(done: int, total: int) -> str:
    """'3 of 4 specialists done'."""
    return f"{done} of {total or SPECIALISTS_TOTAL} specialists done"


def root_blocks(record: IncidentRecord) -> list[Block]:
    """The incident's root message: title, source, severity, status and progress."""
    emoji = _STATUS_EMOJI.get(record.status, ":grey_question:")
    fields = [
        f"*Source*\n{_source_line(record)}",
        f"*Severity*\n{record.severity.value}",
        f"*Status*\n{emoji} {record.status}",
        f"*Progress*\n{progress_text(record.done, record.total)}",
    ]
    return [
        header(record.title),
        {
            "type": "section",
            "fields": [{"type": "mrkdwn", "text": truncate(f, 2000)} for f in fields],
        },
        context(
            f"incident `{record.id}`"
            + (f" · by <@{record.requested_by}>" if record.requested_by else "")
        ),
    ]


def root_text(record: IncidentRecord) -> str:
    """Notification fallback for the root message."""
    return truncate(
        f"{record.title} [{record.status}, {progress_text(record.done, record.total)}]", 300
    )


def _evidence_lines(finding: Finding, limit: int = 5) -> list[str]:
    lines = [f"> `{e.source}`: {e.text}" for e in finding.evidence[:limit]]
    if len(finding.evidence) > limit:
        lines.append(f"_… {len(finding.evidence) - limit} more pieces of evidence_")
    return lines


def specialist_blocks(specialist: str, findings: list[Finding]) -> list[Block]:
    """One specialist's reply: each finding with its evidence."""
    blocks: list[Block] = [section(f"*{specialist}* specialist: {len(findings)} finding(s)")]
    if not findings:
        blocks.append(context("nothing wrong seen"))
    for f in findings:
        where = f" on `{f.resource}`" if f.resource else ""
        body = [f"*{f.title}*{where} ({f.severity.value})"]
        if f.summary:
            body.append(f.summary)
        body += _evidence_lines(f)
        blocks.append(section("\n".join(body)))
    return cap(blocks)


def diagnosis_blocks(diagnosis: Diagnosis) -> list[Block]:
    """The diagnosis reply: root cause, category, confidence and evidence."""
    if diagnosis.inconclusive:
        head = ":warning: *Inconclusive*: the investigation could not reach a diagnosis"
    else:
        cause = f"`{diagnosis.root_cause}`" if diagnosis.root_cause else "no fault found"
        head = (
            f"*Diagnosis*: {cause} ({diagnosis.category.value}, "
            f"confidence {diagnosis.confidence:.0%})"
        )
    blocks: list[Block] = [section(f"{head}\n{diagnosis.summary}")]
    if diagnosis.explanation:
        blocks.append(section(diagnosis.explanation))
    if diagnosis.evidence:
        blocks.append(
            section(
                "*Evidence*\n" + "\n".join(f"> `{e.source}`: {e.text}" for e in diagnosis.evidence)
            )
        )
    return cap(blocks)


def button_value(incident_id: str, proposal_index: int) -> str:
    """What an Approve/Reject button carries: enough to find the incident after a restart."""
    return json.dumps({"incident_id": incident_id, "proposal": proposal_index})


def proposal_blocks(incident_id: str, index: int, proposal: Proposal) -> list[Block]:
    """A proposal reply: the exact change and Approve / Reject buttons."""
    value = button_value(incident_id, index)
    lines = [f"*Proposed fix #{index + 1}*: `{proposal.verb.value}` on `{proposal.target}`"]
    lines.append(f"```{proposal.kubectl()}```")
    lines.append(proposal.rationale)
    if proposal.expected_effect:
        lines.append(f"*Expected*: {proposal.expected_effect}")
    if proposal.undo:
        lines.append(f"*Undo*: {proposal.undo}")
    return [
        section("\n".join(lines)),
        {
            "type": "actions",
            "block_id": f"proposal-{index}",
            "elements": [
                {
                    "type": "button",
                    "action_id": "approve",
                    "style": "primary",
                    "text": {"type": "plain_text", "text": "Approve"},
                    "value": value,
                },
                {
                    "type": "button",
                    "action_id": "reject",
                    "style": "danger",
                    "text": {"type": "plain_text", "text": "Reject"},
                    "value": value,
                },
            ],
        },
    ]


HELP = (
    "*sre-bot* commands:\n"
    "• `/sre investigate <what is wrong>`: open an incident thread and investigate\n"
    "• `/sre status [incident id]`: where an incident stands (the latest when no id)\n"
    "• `/sre list`: open incidents\n"
    "• `/sre audit <incident id>`: post the incident's audit trail in its thread\n"
    "• `/sre help`: this text\n"
    "Mention me in an incident thread (`@sre-bot check the database too`) for another round."
)


def help_blocks(note: str | None = None) -> list[Block]:
    """The help text, optionally after a note such as 'unknown subcommand'."""
    return ([section(note)] if note else []) + [section(HELP)]


def status_line(record: IncidentRecord) -> str:
    """One line about an incident, for /sre status and /sre list."""
    where = f" in <#{record.channel}>" if record.channel else ""
    return (
        f"`{record.id}` *{record.title}*: {record.status}, "
        f"{progress_text(record.done, record.total)}{where}"
    )


def list_blocks(records: list[IncidentRecord]) -> list[Block]:
    """/sre list: open incidents, newest first."""
    if not records:
        return [section("No open incidents.")]
    return cap([section("*Open incidents*")] + [section(status_line(r)) for r in records])


def failure_summary(lines: list[str]) -> list[Block]:
    """The consolidated message posted when individual replies could not be posted."""
    return cap(
        [section("*Some updates could not be posted one by one; here they are together:*")]
        + [section(line) for line in lines]
    )
