"""AWS Lambda entry point for the `sweeper` function, scheduled every minute (serverless.yml).

On Lambda nothing runs between requests, so the background thread of `serve` becomes this
scheduled pass: expire approval requests past their TTL, then fire every due kill-switch
deadline (confirm the healthy, roll back the overdue). Deadlines are claimed atomically in
the store, so an overlapping or repeated invocation never fires one twice.
"""

from __future__ import annotations

import logging
from typing import Any

from approvals.killswitch import WatchState
from bot.approval_flow import ApprovalFlowError
from bot.lambda_handler import runtime

log = logging.getLogger(__name__)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """One sweep; returns what changed (request ids and fix ids), for the function's logs."""
    # A sweeper receives no Slack requests; it only posts outcomes with the bot token.
    bot = runtime("sweeper", verify_requests=False)
    flow = bot.approvals.flow
    expired = [req.id for req in flow.gate.expire_due()]
    try:
        changed = flow.kill_switch.sweep()
    except ApprovalFlowError as e:
        # No cluster configured: there can be no armed fix either, so this is not an outage.
        log.warning("kill switch not swept: %s", e)
        changed = []
    summary = {
        "expired": expired,
        "kept": [f.id for f in changed if f.state == WatchState.KEPT],
        "rolled_back": [f.id for f in changed if f.state == WatchState.ROLLED_BACK],
        "rollback_failed": [f.id for f in changed if f.state == WatchState.ROLLBACK_FAILED],
    }
    log.info("sweep: %s", summary)
    return summary
