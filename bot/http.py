"""The HTTP app of `sre-bot serve --http`: Slack events, the two webhooks, health and metrics.

Routes (DESIGN.md): POST /slack/events, POST /webhooks/pagerduty, POST /webhooks/alertmanager,
GET /healthz, GET /metrics. Bolt and the receivers are synchronous, so each request runs in
Starlette's thread pool and one slow request never holds up the event loop (or an ack).
"""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.app import Bot
from bot.webhooks import WebhookResponse

# Slack retries and PagerDuty payloads are small; anything larger is not for us.
MAX_BODY = 1_000_000


def create_http_app(bot: Bot) -> Starlette:
    """The Starlette application for `bot`."""

    async def slack_events(request: Request) -> Response:
        body = await request.body()
        bolt_request = to_bolt_request(request, body)
        bolt_response = await run_in_threadpool(bot.app.dispatch, bolt_request)
        return to_starlette_response(bolt_response)

    def webhook(handle: Callable[..., WebhookResponse]) -> Callable[[Request], object]:
        async def endpoint(request: Request) -> Response:
            body = await request.body()
            if len(body) > MAX_BODY:
                return JSONResponse(
                    {"ok": False, "error": "body larger than 1 MB"}, status_code=413
                )
            result = await run_in_threadpool(handle, dict(request.headers), body)
            return JSONResponse(result.body, status_code=result.status)

        return endpoint

    async def healthz(request: Request) -> Response:
        workers = bot.service.workers
        if workers is None:
            return JSONResponse({"ok": True})
        # Acks never wait for workers; incidents queue until one is ready.
        return JSONResponse({"ok": True, "workers": workers.status()})

    async def metrics(request: Request) -> Response:
        return Response(bot.metrics.exposition(), media_type=bot.metrics.content_type)

    return Starlette(
        routes=[
            Route("/slack/events", slack_events, methods=["POST"]),
            Route("/webhooks/pagerduty", webhook(bot.pagerduty.handle), methods=["POST"]),
            Route("/webhooks/alertmanager", webhook(bot.alertmanager.handle), methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
        ]
    )
