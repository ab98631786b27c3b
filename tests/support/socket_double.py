"""Slack's end of a Socket Mode connection, on loopback: a real WebSocket server.

The Web API double answers `apps.connections.open` with this server's `ws://` URL. The bot's
Socket Mode client connects, gets `hello`, and then receives the envelopes a test pushes
(slash commands, interactivity, events) exactly as Slack frames them; its acks (`envelope_id`
plus an optional response payload) are collected for the test to assert on.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from websockets.sync.server import Server, ServerConnection, serve


class SocketModeDouble:
    """Use as a context manager; `url` is what `apps.connections.open` returns."""

    def __init__(self) -> None:
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Condition()
        self._conn: ServerConnection | None = None
        self.acks: dict[str, dict[str, Any]] = {}
        self._next = 0

    @property
    def url(self) -> str:
        assert self._server is not None
        port = self._server.socket.getsockname()[1]
        return f"ws://127.0.0.1:{port}/link/?ticket=test-ticket&app_id=A0001"

    def __enter__(self) -> SocketModeDouble:
        # No server pings: the client keeps the connection alive with its own.
        self._server = serve(self._session, "127.0.0.1", 0, ping_interval=None)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _session(self, conn: ServerConnection) -> None:
        conn.send(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": 1,
                    "debug_info": {"host": "applink-test", "approximate_connection_time": 18060},
                    "connection_info": {"app_id": "A0001"},
                }
            )
        )
        with self._lock:
            self._conn = conn
            self._lock.notify_all()
        for message in conn:
            data = json.loads(message)
            if "envelope_id" in data:
                with self._lock:
                    self.acks[data["envelope_id"]] = data
                    self._lock.notify_all()

    def wait_connected(self, timeout: float = 60.0) -> None:
        """Block until the bot has connected (and been sent `hello`)."""
        with self._lock:
            if not self._lock.wait_for(lambda: self._conn is not None, timeout):
                raise AssertionError(
                    f"the bot did not open its Socket Mode connection in {timeout}s"
                )

    def push(self, kind: str, payload: dict[str, Any], *, accepts_response: bool = True) -> str:
        """Send one envelope (`slash_commands`, `interactive`, `events_api`); its envelope_id."""
        with self._lock:
            self._next += 1
            envelope_id = f"env-{self._next}-{int(time.time())}"
            conn = self._conn
        assert conn is not None, "no Socket Mode connection yet"
        conn.send(
            json.dumps(
                {
                    "envelope_id": envelope_id,
                    "type": kind,
                    "payload": payload,
                    "accepts_response_payload": accepts_response,
                    "retry_attempt": 0,
                    "retry_reason": "",
                }
            )
        )
        return envelope_id

    def wait_ack(self, envelope_id: str, timeout: float = 10.0) -> dict[str, Any]:
        """The bot's ack of one envelope (with its response payload, if any)."""
        with self._lock:
            if not self._lock.wait_for(lambda: envelope_id in self.acks, timeout):
                raise AssertionError(f"envelope {envelope_id} was not acked in {timeout}s")
            return self.acks[envelope_id]
