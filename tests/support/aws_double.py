"""A local HTTP double of the two AWS APIs our Lambda functions call: Lambda `Invoke` (Bolt's
lazy-listener re-invocation) and SSM `GetParameters` (secrets at cold start).

The real boto3 clients talk to it over loopback (`AWS_ENDPOINT_URL_LAMBDA`,
`AWS_ENDPOINT_URL_SSM`), so only the AWS side of the wire is stood in. Asynchronous
invocations are queued, not run: the test plays the Lambda service and delivers them.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote


@dataclass
class Invocation:
    """One `lambda.invoke` call as the Lambda service received it."""

    function: str
    invocation_type: str
    payload: dict[str, Any]


@dataclass
class AwsDouble:
    """Start with `with AwsDouble(parameters={...}) as aws:`; `aws.endpoint` is its URL."""

    parameters: dict[str, str] = field(default_factory=dict)
    invocations: list[Invocation] = field(default_factory=list)
    ssm_requests: list[list[str]] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def endpoint(self) -> str:
        """Base URL for `AWS_ENDPOINT_URL_*`."""
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def take_invocations(self) -> list[Invocation]:
        """The queued invocations, removed from the queue."""
        with self._lock:
            taken, self.invocations = self.invocations, []
        return taken

    def _handle(self, path: str, headers: Any, raw: bytes) -> tuple[int, str, bytes]:
        target = headers.get("X-Amz-Target") or ""
        if target == "AmazonSSM.GetParameters":
            names = json.loads(raw)["Names"]
            with self._lock:
                self.ssm_requests.append(names)
            found = [
                {"Name": n, "Type": "SecureString", "Value": self.parameters[n], "Version": 1}
                for n in names
                if n in self.parameters
            ]
            invalid = [n for n in names if n not in self.parameters]
            body = {"Parameters": found, "InvalidParameters": invalid}
            return 200, "application/x-amz-json-1.1", json.dumps(body).encode()
        prefix, suffix = "/2015-03-31/functions/", "/invocations"
        if path.startswith(prefix) and path.endswith(suffix):
            function = unquote(path[len(prefix) : -len(suffix)])
            kind = headers.get("X-Amz-Invocation-Type") or "RequestResponse"
            with self._lock:
                self.invocations.append(Invocation(function, kind, json.loads(raw)))
            return (202 if kind == "Event" else 200), "application/json", b""
        return 404, "application/json", b'{"message": "not served by the AWS double"}'

    def __enter__(self) -> AwsDouble:
        double = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, content_type, body = double._handle(self.path, self.headers, raw)
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()
