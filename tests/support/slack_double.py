"""A local HTTP double of the Slack Web API, in the spirit of bolt-python's mock_web_api_server.

It binds an ephemeral loopback port, answers the Web API methods the bot uses, records every
call (method + decoded arguments), and can be told to fail the next call of a method (a 429
with Retry-After, or a 500) so retry and fallback paths are exercised against a real socket.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl


@dataclass
class Call:
    """One recorded Web API call."""

    method: str
    args: dict[str, Any]
    raw: str = ""


@dataclass
class _Failure:
    status: int
    retry_after: int | None = None
    error: str = "ratelimited"


@dataclass
class SlackDouble:
    """The double; use as a context manager or call start()/stop()."""

    calls: list[Call] = field(default_factory=list)
    _failures: dict[str, list[_Failure]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ts: itertools.count = field(default_factory=lambda: itertools.count(1))
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    socket_url: str | None = (
        None  # what apps.connections.open answers (tests.support.socket_double)
    )

    @property
    def base_url(self) -> str:
        """What `SRE_BOT_SLACK_API_URL` should be."""
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/api/"

    @property
    def response_url(self) -> str:
        """A response_url for slash commands and actions; posts to it are recorded as `respond`."""
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/respond/1"

    def start(self) -> SlackDouble:
        """Bind port 0 and serve in a background thread."""
        double = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8", "replace")
                status, headers, body = double._handle(self.path, self.headers, raw)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                data = body.encode()
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> SlackDouble:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- scripting -------------------------------------------------------------------------

    def fail_next(
        self, method: str, *, status: int = 429, retry_after: int | None = 1, times: int = 1
    ) -> None:
        """Make the next `times` calls of `method` fail with `status` (429 carries Retry-After)."""
        error = "ratelimited" if status == 429 else "internal_error"
        with self._lock:
            self._failures.setdefault(method, []).extend(
                _Failure(status, retry_after if status == 429 else None, error)
                for _ in range(times)
            )

    # -- inspection ------------------------------------------------------------------------

    def calls_of(self, method: str) -> list[Call]:
        """Recorded calls of one method, in order."""
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def methods(self) -> list[str]:
        """The recorded sequence of method names."""
        with self._lock:
            return [c.method for c in self.calls]

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 60.0) -> Any:
        """Poll until `predicate()` is truthy; fail with the recorded calls when it never is."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.02)
        raise AssertionError(f"condition not met in {timeout}s; calls: {self.methods()}")

    def all_text(self) -> str:
        """Everything ever sent to the double, raw, for leak checks."""
        with self._lock:
            return "\n".join(c.raw for c in self.calls)

    # -- serving ---------------------------------------------------------------------------

    def _handle(self, path: str, headers: Any, raw: str) -> tuple[int, dict[str, str], str]:
        ctype = headers.get("Content-Type", "")
        if path.startswith("/respond/"):
            method = "respond"
        elif path.startswith("/upload/"):
            method = "upload"
        else:
            method = path.split("/api/", 1)[-1].split("?", 1)[0]
        args: dict[str, Any]
        if "json" in ctype and raw:
            args = json.loads(raw)
        elif "form-urlencoded" in ctype:
            args = dict(parse_qsl(raw))
            for key in ("blocks", "attachments"):
                if isinstance(args.get(key), str):
                    args[key] = json.loads(args[key])
        else:
            args = {}
        with self._lock:
            pending = self._failures.get(method) or []
            failure = pending.pop(0) if pending else None
            self.calls.append(Call(method, args, raw))
        if failure is not None:
            extra = {"Retry-After": str(failure.retry_after)} if failure.retry_after else {}
            return (
                failure.status,
                {"Content-Type": "application/json", **extra},
                json.dumps({"ok": False, "error": failure.error}),
            )
        return 200, {"Content-Type": "application/json"}, json.dumps(self._answer(method, args))

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        ts = f"1700000000.{next(self._ts):06d}"
        match method:
            case "auth.test":
                return {
                    "ok": True,
                    "url": "https://example.slack.com/",
                    "team": "Example",
                    "user": "sre-bot",
                    "team_id": "T0001",
                    "user_id": "UBOT",
                    "bot_id": "BBOT",
                }
            case "chat.postMessage":
                return {"ok": True, "channel": args.get("channel"), "ts": ts, "message": args}
            case "chat.update":
                return {"ok": True, "channel": args.get("channel"), "ts": args.get("ts")}
            case "apps.connections.open":  # Socket Mode: where the WebSocket is
                if not self.socket_url:
                    return {"ok": False, "error": "invalid_auth"}
                return {"ok": True, "url": self.socket_url}
            case "chat.postEphemeral":
                return {"ok": True, "message_ts": ts}
            case "files.getUploadURLExternal":
                upload = self.response_url.replace("/respond/1", "/upload/F0001")
                return {"ok": True, "upload_url": upload, "file_id": "F0001"}
            case "files.completeUploadExternal":
                return {"ok": True, "files": [{"id": "F0001", "title": args.get("title")}]}
            case _:
                return {"ok": True}


def sign(secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    """Slack's v0 request signature headers for `body`, as Slack itself would send them."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    base = f"v0:{ts}:{body}".encode()
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}
