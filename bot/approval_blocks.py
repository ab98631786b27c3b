"""Block Kit for the approval loop: the request, the applied fix with its countdown, outcomes.

Every string goes through `bot.blocks.truncate` (which redacts), so diffs and error messages
quoted from the cluster never carry a secret to Slack.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from approvals.gate import Route
from approvals.killswitch import ArmedFix, WatchState
from bot.approval_flow import PreparedProposal
from bot.blocks import Block, button_value, cap, context, section, truncate

REJECT_MODAL = "reject_reason"
APPROVE, REJECT, KEEP, ROLL_BACK = "approve", "reject", "keep_fix", "roll_back_now"

_DEFAULT_VERIFY = "the rollout completes and every pod is Ready"


def slack_date(when: datetime | float, fmt: str = "{date_short_pretty} {time_secs}") -> str:
    """A date Slack shows in each reader's own time zone (with a UTC fallback)."""
    epoch = when if isinstance(when, int | float) else when.timestamp()
    fallback = datetime.fromtimestamp(epoch).astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")
    return f"<!date^{int(epoch)}^{fmt}|{fallback}>"


def _button(action_id: str, text: str, value: str, style: str | None = None) -> dict[str, Any]:
    b: dict[str, Any] = {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": text},
        "value": value,
    }
    if style:
        b["style"] = style
    return b


def _diff_block(diff: str) -> Block:
    # The fence costs 6 characters, and truncate's note must stay inside it.
    return section("*Change* (before → after)\n```" + truncate(diff, 2900) + "```")


def request_blocks(incident_id: str, index: int, prepared: PreparedProposal) -> list[Block]:
    """The proposal reply: what would change, how it is undone and verified, and what to press."""
    req, proposal = prepared.request, prepared.request.proposal
    head = [
        f"*Proposed fix #{index + 1}*: `{proposal.verb.value}` on `{proposal.target}` "
        f"(risk: *{req.risk.value}*)",
        f"```{proposal.kubectl()}```",
        proposal.rationale,
    ]
    if proposal.expected_effect:
        head.append(f"*Expected*: {proposal.expected_effect}")
    blocks: list[Block] = [section("\n".join(head))]
    if req.route == Route.REFUSED:
        why = prepared.why_refused or "the policy refuses it"
        blocks.append(
            section(
                f":no_entry: *Not allowed*: {why} under the approval policy; sre-bot will not change it."
            )
        )
        return blocks
    if req.route == Route.ADVICE:
        blocks.append(
            section(
                ":information_source: This namespace is in *advise* mode: if you agree, run it yourself:\n"
                f"```{proposal.kubectl()}```"
            )
        )
        return blocks
    if prepared.diff:
        blocks.append(_diff_block(prepared.diff))
    if prepared.dry_run_error:
        blocks.append(section(f":x: *Server-side dry run failed*: {prepared.dry_run_error}"))
    elif prepared.dry_run is not None:
        writes = len(prepared.dry_run.operations)
        warn = "; ".join(prepared.dry_run.warnings)
        blocks.append(
            section(
                f":white_check_mark: *Server-side dry run*: accepted ({writes} write(s))"
                + (f"; warnings: {warn}" if warn else "")
            )
        )
    undo = proposal.undo or "restore the snapshot of the objects taken just before the change"
    blocks.append(
        section(
            f"*Undo*: `{undo}` (the kill switch restores the before-state snapshot)\n"
            f"*Verified by*: {proposal.verification or _DEFAULT_VERIFY}"
        )
    )
    if req.route == Route.AUTO:
        blocks.append(
            context(":zap: auto mode: this reversible change runs now, under the kill switch")
        )
        return cap(blocks)
    blocks.append(context(f"Request `{req.id}` expires {slack_date(req.expires_at)}"))
    if prepared.dry_run_error is None:
        value = button_value(incident_id, index)
        blocks.append(
            {
                "type": "actions",
                "block_id": f"proposal-{index}",
                "elements": [
                    _button(APPROVE, "Approve", value, "primary"),
                    _button(REJECT, "Reject", value, "danger"),
                ],
            }
        )
    return cap(blocks)


def decided_blocks(original: list[Block], note: str) -> list[Block]:
    """The request message after a decision: the same content, the buttons replaced by `note`."""
    kept = [b for b in original if b.get("type") != "actions"]
    return cap([*kept, context(note)])


def fix_value(fix_id: str) -> str:
    """What Keep / Roll back now carry: the fix (= approval request) id."""
    return json.dumps({"fix": fix_id})


def applied_blocks(fix: ArmedFix) -> list[Block]:
    """After execution: what was applied, the countdown to the deadline, Keep / Roll back now."""
    record = fix.record
    left = int(fix.seconds_left())
    lines = [
        f":wrench: *Applied* `{record.proposal.kubectl()}` (approved by {who(record.approved_by)})",
        f"Kill switch: rolled back {slack_date(fix.deadline)} (in {left} s) unless "
        + (
            "someone presses *Keep fix*"
            if fix.confirmation.value == "human"
            else "it is confirmed healthy"
        )
        + ".",
    ]
    return [
        section("\n".join(lines)),
        {
            "type": "actions",
            "block_id": f"fix-{fix.id}",
            "elements": [
                _button(KEEP, "Keep fix", fix_value(fix.id), "primary"),
                _button(ROLL_BACK, "Roll back now", fix_value(fix.id), "danger"),
            ],
        },
    ]


def outcome_text(fix: ArmedFix, oncall: str) -> str:
    """One line for the thread: how the watched fix ended, and why."""
    cmd = f"`{fix.record.proposal.kubectl()}`"
    by = who(fix.decided_by)
    if fix.state == WatchState.KEPT:
        return f":white_check_mark: Fix {cmd} kept ({by}): {fix.reason}"
    if fix.state == WatchState.ROLLED_BACK:
        return f":leftwards_arrow_with_hook: Fix {cmd} rolled back ({by}): {fix.reason}"
    return (
        f":rotating_light: {oncall} *The rollback of {cmd} failed*: {fix.reason}. "
        "The cluster may be half-changed; restore the snapshot by hand (see the audit log)."
    )


def reject_modal(request_id: str, channel: str, message_ts: str) -> dict[str, Any]:
    """The modal asking for an optional rejection reason."""
    return {
        "type": "modal",
        "callback_id": REJECT_MODAL,
        "private_metadata": json.dumps(
            {"request": request_id, "channel": channel, "message_ts": message_ts}
        ),
        "title": {"type": "plain_text", "text": "Reject the fix"},
        "submit": {"type": "plain_text", "text": "Reject"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "block_id": "reason",
                "optional": True,
                "label": {"type": "plain_text", "text": "Why? (optional)"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": "reason",
                    "multiline": True,
                },
            }
        ],
    }


def who(user: str | None) -> str:
    """A Slack mention for a user id; names like `policy:auto` or `sre-bot` as they are."""
    if not user:
        return "sre-bot"
    return user if user.startswith(("policy:", "sre-bot", "cli:")) else f"<@{user}>"
